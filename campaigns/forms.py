"""Forms of the campaign pages: they shape input, the rules live in campaigns.services."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import MAX_BASE_PERCENT, MIN_BASE_PERCENT, Campaign, CampaignTarget
from portal.filters import MAX_ID
from portal.forms import BootstrapMixin, BoundedModelMultipleChoiceField, RegionCodeField
from portal.models import ServiceArea, User

CENT = Decimal("0.01")
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CampaignForm(BootstrapMixin, forms.ModelForm):
    """A new campaign (administrators) or changes to one: `fields` names those this editor may change."""

    region = RegionCodeField(label=_("Jurisdiction (region code)"),
                             help_text=_("The 6-digit code of the province, city or county running the campaign."))

    class Meta:
        model = Campaign
        fields = ["name", "organiser", "region", "theme", "starts_on", "ends_on", "service_areas"]
        widgets = {"theme": forms.Textarea(attrs={"rows": 3}), "starts_on": DATE_INPUT, "ends_on": DATE_INPUT,
                   "service_areas": forms.CheckboxSelectMultiple}
        field_classes = {"service_areas": BoundedModelMultipleChoiceField}
        help_texts = {"service_areas": _("None ticked: every service area is in scope.")}

    def __init__(self, *args, fields: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in fields:
                del self.fields[name]
        if "service_areas" in self.fields:
            self.fields["service_areas"].queryset = ServiceArea.objects.filter(active=True)

    def _post_clean(self):
        pass  # campaign_create / campaign_update validate the model, with the rules across rows

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class TargetValueField(forms.DecimalField):
    """A target's figure, to the cent as stored: "50" becomes 50.00, so setting a target to the value it
    has already records no change in the audit trail (which compares the values as text)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Target"))
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_digits", 12)
        super().__init__(decimal_places=2, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return value.quantize(CENT) if value is not None else None


class CampaignChoiceField(forms.ModelChoiceField):
    """Refuses an id the database column cannot hold (an invalid choice, not a 500)."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip().isdigit() and int(value) > MAX_ID:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class TargetForm(BootstrapMixin, forms.Form):
    """Set one target: a new one, or a new value for one with the same figure, scope and region."""

    metric = forms.ChoiceField(label=_("Figure"), choices=CampaignTarget.Metric.choices)
    scope = forms.ChoiceField(label=_("Applies to"), choices=CampaignTarget.Scope.choices,
                              initial=CampaignTarget.Scope.CAMPAIGN)
    region = RegionCodeField(label=_("Region code"), required=False,
                             help_text=_("Only for a target of one region, e.g. 130102."))
    key = forms.CharField(label=_("Scheme or service area"), max_length=16, required=False,
                          help_text=_("For a figure per certification scheme (e.g. iso9001) or per service area "
                                      "(its number, e.g. 2)."))
    value = TargetValueField(required=False, help_text=_("Or compare with another campaign below."))
    base_campaign = CampaignChoiceField(
        label=_("Compared with campaign"), required=False, queryset=Campaign.objects.none(),
        help_text=_("A relative target: at least a percentage more than that campaign's figure in the same "
                    "region (e.g. 20% more than last year)."))
    base_percent = TargetValueField(label=_("More than that campaign (%)"), required=False,
                                    min_value=MIN_BASE_PERCENT, max_value=MAX_BASE_PERCENT, max_digits=7)

    def __init__(self, *args, campaigns=None, **kwargs):
        super().__init__(*args, **kwargs)
        if campaigns is not None:
            self.fields["base_campaign"].queryset = campaigns


class TargetValueForm(BootstrapMixin, forms.Form):
    """A new value for one of the targets listed (the percentage, for a relative one)."""

    value = TargetValueField()

    def __init__(self, *args, relative: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if relative:
            self.fields["value"] = TargetValueField(label=_("More than the base campaign (%)"),
                                                    min_value=MIN_BASE_PERCENT, max_value=MAX_BASE_PERCENT,
                                                    max_digits=7)


class RecordsImportForm(BootstrapMixin, forms.Form):
    """A list of a campaign's cases or survey answers to import; administrators name the cases' lead."""

    file = forms.FileField(
        label=_("List (.csv or .xlsx)"), help_text=_("The first row holds the column headers."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
        error_messages={"required": _("Choose the file to import.")},
    )
    lead = forms.ModelChoiceField(label=_("Lead regulator of the imported cases"), required=False,
                                  queryset=User.objects.none())

    def __init__(self, *args, leads=None, **kwargs):
        super().__init__(*args, **kwargs)
        if leads is None:
            del self.fields["lead"]
        else:
            self.fields["lead"].queryset = leads
