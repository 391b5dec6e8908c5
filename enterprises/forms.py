from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Certification, Enterprise, NeedRequest, NeedsSurvey
from enterprises.selectors import latest_campaign_of, survey_campaigns
from enterprises.services import ATTACHMENT_MAX_COUNT, ATTACHMENT_TYPES, suggested_region
from enterprises.uscc import normalise, validate_uscc
from portal.forms import (
    BootstrapMixin,
    BoundedModelMultipleChoiceField,
    CodeField,
    HalfWidthEmailField,
    MultipleFileField,
    RegionCodeField,
    lazy_interpolate,
)
from portal.models import Industry, ServiceArea, enclosing_codes


class CreditCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Unified social credit code"))
        kwargs.setdefault("max_length", 24)
        super().__init__(**kwargs)

    def clean(self, value):
        value = normalise(super().clean(value) or "")
        if value:
            validate_uscc(value)
        return value


class SectionGroupedChoices(ModelChoiceIterator):
    """The divisions under their sections' names, as <optgroup>s: "C 制造业" › "13 农副食品加工业"."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[Industry, list] = {}
        for division in self.queryset.select_related("parent"):
            groups.setdefault(division.parent, []).append(self.choice(division))
        for section, choices in groups.items():
            yield (str(section), choices)


class IndustryChoiceField(forms.ModelChoiceField):
    """A GB/T 4754 division, picked by name under its section."""

    iterator = SectionGroupedChoices

    def __init__(self, **kwargs):
        super().__init__(queryset=Industry.objects.filter(level=Industry.Level.DIVISION).order_by("code"),
                         label=_("Industry (GB/T 4754)"), **kwargs)

    def label_from_instance(self, obj):
        return str(obj)


class EnterpriseForm(BootstrapMixin, forms.ModelForm):
    """Registering a firm; the region defaults to the one the credit code names."""

    uscc = CreditCodeField()
    region = RegionCodeField(required=False)
    industry = IndustryChoiceField()

    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "region", "industry", "size", "employees", "annual_revenue", "address",
                  "contact_name", "contact_phone", "contact_email", "is_key", "is_specialized",
                  "is_exporter", "in_industrial_park"]
        field_classes = {"contact_phone": CodeField, "contact_email": HalfWidthEmailField}

    def __init__(self, *args, regulator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not regulator:
            # Designating a key enterprise is the bureau's call, not the firm's.
            del self.fields["is_key"]
        if self.instance.pk:
            del self.fields["uscc"]
            self.fields["region"].initial = self.instance.region_id
            self.initial["region"] = self.instance.region_id

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("region") and cleaned.get("uscc"):
            region = suggested_region(cleaned["uscc"])
            if region is None:
                self.add_error("region", _("The credit code names no known region; choose the region."))
            cleaned["region"] = region
        elif not cleaned.get("region") and "region" not in self.errors and not self.instance.pk:
            self.add_error("region", _("Choose the region."))
        return cleaned

    def _post_clean(self):
        # Validation of the model happens in the service, which sees the whole picture.
        pass


class ContactsForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = ["contact_name", "contact_phone", "contact_email", "address"]
        field_classes = {"contact_phone": CodeField, "contact_email": HalfWidthEmailField}

    def _post_clean(self):
        pass


class ClaimForm(BootstrapMixin, forms.Form):
    uscc = CreditCodeField()
    message = forms.CharField(label=_("Message to the regulator"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}),
                              help_text=_("Who you are at the firm, so the regulator can confirm it."))


class ClaimDecisionForm(BootstrapMixin, forms.Form):
    confirm = forms.TypedChoiceField(label=_("Decision"), coerce=lambda v: v == "1",
                                     choices=[("1", _("Confirm")), ("0", _("Reject"))])
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


class NeedForm(BootstrapMixin, forms.ModelForm):
    attachments = MultipleFileField(
        label=_("Attachments"), required=False, accept=",".join(sorted(ATTACHMENT_TYPES)),
        help_text=lazy_interpolate(_("Up to %(count)d files of 10 MB each: PDF, images, Word, Excel or text."),
                                   count=ATTACHMENT_MAX_COUNT),
    )

    class Meta:
        model = NeedRequest
        fields = ["enterprise", "service_area", "title", "description", "urgency"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, enterprises, **kwargs):
        super().__init__(*args, **kwargs)
        if "enterprise" in self.fields:
            self.fields["enterprise"].queryset = enterprises
            self.fields["enterprise"].empty_label = None
        self.fields["service_area"].queryset = ServiceArea.objects.filter(active=True)

    def _post_clean(self):
        pass


class PaperNeedForm(NeedForm):
    """A need the bureau received on paper or by phone, entered by a regulator for the firm (补录):
    the day it came in is asked for; the firm is the one whose page the form was opened from."""

    received_on = forms.DateField(label=_("Received on"), widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text=_("The day the paper form or the call came in; not in the future."))

    class Meta(NeedForm.Meta):
        fields = ["service_area", "title", "description", "urgency"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, enterprises=None, **kwargs)

    def clean_received_on(self):
        day = self.cleaned_data["received_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("A need cannot be received on a future date."))
        return day


class TriageForm(BootstrapMixin, forms.Form):
    ACTIONS = [("accept", _("Accept")), ("decline", _("Decline")), ("duplicate", _("Mark as duplicate"))]

    action = forms.ChoiceField(label=_("Decision"), choices=ACTIONS, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason or note"), required=False, max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 2}))
    duplicate_of = forms.IntegerField(label=_("Number of the original need"), required=False, min_value=1)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "decline" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Give the reason for declining."))
        if cleaned.get("action") == "duplicate" and not cleaned.get("duplicate_of"):
            self.add_error("duplicate_of", _("Enter the number of the need this one duplicates."))
        return cleaned


class CertificationForm(BootstrapMixin, forms.ModelForm):
    class Meta:
        model = Certification
        fields = ["scheme", "number", "body", "issued_on", "expires_on"]
        field_classes = {"number": CodeField}
        widgets = {"issued_on": forms.DateInput(attrs={"type": "date"}),
                   "expires_on": forms.DateInput(attrs={"type": "date"})}

    def _post_clean(self):
        pass


YES_NO = [("", "—"), ("true", _("Yes")), ("false", _("No"))]


class CampaignChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.starts_on:%Y-%m-%d} – {obj.ends_on:%Y-%m-%d})"


class SurveyForm(BootstrapMixin, forms.ModelForm):
    campaign = CampaignChoiceField(
        label=_("Campaign"), queryset=survey_campaigns().none(), required=False,
        help_text=_("The campaign whose assistance your answers are about."),
    )
    awareness_improved = forms.NullBooleanField(label=_("Has the firm's quality awareness improved?"),
                                                required=False, widget=forms.Select(choices=YES_NO))
    performance_improved = forms.NullBooleanField(label=_("Has the firm's quality performance improved?"),
                                                  required=False, widget=forms.Select(choices=YES_NO))

    class Meta:
        model = NeedsSurvey
        fields = ["campaign", "services_wanted", "awareness_improved", "performance_improved", "revenue_change_pct",
                  "output_change_pct", "profit_margin_change_pct", "comments"]
        widgets = {"services_wanted": forms.CheckboxSelectMultiple, "comments": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"services_wanted": BoundedModelMultipleChoiceField}

    def __init__(self, *args, kind: str, enterprise: Enterprise, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["services_wanted"].queryset = ServiceArea.objects.filter(active=True)
        # The campaigns covering the firm: its county's, its city's and its province's.
        campaigns = survey_campaigns().filter(region_id__in=enclosing_codes(enterprise.region_id))
        self.fields["campaign"].queryset = campaigns.order_by("-starts_on", "name")
        if kind == NeedsSurvey.Kind.BASELINE:
            for name in ("awareness_improved", "performance_improved", "revenue_change_pct",
                         "output_change_pct", "profit_margin_change_pct"):
                del self.fields[name]
        else:
            self.fields["campaign"].required = True
            self.fields["awareness_improved"].required = True
            self.fields["performance_improved"].required = True
        if not self.is_bound:
            # Most likely the campaign the firm was last assisted in.
            latest = latest_campaign_of(enterprise)
            if latest is None:
                only = list(campaigns.values_list("pk", flat=True)[:2])
                latest = only[0] if len(only) == 1 else None
            self.initial.setdefault("campaign", latest)

    def clean(self):
        cleaned = super().clean()
        # A NullBooleanField takes "no answer" as valid even when required: say it per field, along
        # with whatever else is missing, rather than one problem per submission.
        for name in ("awareness_improved", "performance_improved"):
            if name in self.fields and cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, _("A follow-up survey needs this answer."))
        return cleaned

    def _post_clean(self):
        pass
