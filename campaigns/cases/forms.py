"""Forms of the case and visit pages: they shape input, the rules live in campaigns.cases.services."""

from django import forms
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.cases.models import AssistanceCase, Visit
from campaigns.cases.services import (
    ATTACHMENT_MAX_BYTES,
    ATTACHMENT_MAX_COUNT,
    DOCUMENT_TYPES,
    EXPERT_FIELDS,
    MANAGER_FIELDS,
    PHOTO_TYPES,
    TRANSITIONS,
)
from portal.forms import (
    BootstrapMixin,
    BoundedModelMultipleChoiceField,
    MultipleFileField,
    MultipleFileInput,
    lazy_interpolate,
)

Status = AssistanceCase.Status
Resolution = AssistanceCase.Resolution
OUTCOME_FIELDS = ("certificate_obtained", "standard_drafted", "excellence_model_adopted", "lab_set_up",
                  "money_saved", "outcome_notes")
# Phones offer the camera for image/*; the suffixes keep the file picker to what the service accepts.
ATTACHMENT_ACCEPT = ",".join(["image/*", *sorted(PHOTO_TYPES | DOCUMENT_TYPES)])


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name or obj.username} · {obj.region.name}" if obj.region_id else str(obj)


class NeedChoiceField(BoundedModelMultipleChoiceField):
    """Needs as ticks, each with its service area and status (the queryset joins the service area)."""

    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return f"#{obj.pk} {obj.title} · {obj.service_area} · {obj.get_status_display()}"


class CaseOpenForm(BootstrapMixin, forms.Form):
    """Opening a case for one firm: the campaign, the needs it answers and who leads it."""

    campaign = forms.ModelChoiceField(label=_("Campaign"), queryset=None,
                                      empty_label=_("Choose the campaign"))
    title = forms.CharField(label=_("Title"), max_length=120,
                            help_text=_("A short name for the case, e.g. “Pressure-gauge calibration”."))
    needs = NeedChoiceField(label=_("Needs the case answers"), queryset=None, required=False)
    lead = UserChoiceField(label=_("Lead regulator"), queryset=None, empty_label=_("Choose the lead regulator"))
    diagnosis = forms.CharField(label=_("Diagnosis"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    plan = forms.CharField(label=_("Assistance plan"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    opened_on = forms.DateField(label=_("Opened on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Only for a case entered after the fact (a past campaign, a paper "
                                            "record): the day it opened. Empty: today."))

    def __init__(self, *args, campaigns, needs, leads, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns
        self.fields["needs"].queryset = needs
        self.fields["lead"].queryset = leads


class CaseEditForm(BootstrapMixin, forms.ModelForm):
    """Managers edit the case and its outcomes, assigned experts the diagnosis and plan; a closed
    case keeps only its outcome notes open. `version` is the one the editor started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = AssistanceCase
        fields = [*MANAGER_FIELDS]
        widgets = {
            "diagnosis": forms.Textarea(attrs={"rows": 5}),
            "plan": forms.Textarea(attrs={"rows": 5}),
            "outcome_notes": forms.Textarea(attrs={"rows": 3}),
            "money_saved": forms.NumberInput(attrs={"min": "0", "step": "0.01", "inputmode": "decimal"}),
        }
        field_classes = {"lead": UserChoiceField}

    def __init__(self, *args, manager: bool, leads=None, **kwargs):
        super().__init__(*args, **kwargs)
        case = self.instance
        if case.is_closed:
            editable = ("outcome_notes",) if manager else ()
        else:
            editable = MANAGER_FIELDS if manager else EXPERT_FIELDS
        for name in [name for name in self.fields if name not in (*editable, "version")]:
            del self.fields[name]
        if "lead" in self.fields:
            self.fields["lead"].queryset = leads
            self.fields["lead"].empty_label = None
        if "money_saved" in self.fields:
            self.fields["money_saved"].validators.append(MinValueValidator(0))
        if "money_saved_period" in self.fields:  # left out of a form: the case keeps its period
            self.fields["money_saved_period"].required = False
        self.initial.setdefault("version", case.version)

    def clean_money_saved_period(self) -> str:
        return self.cleaned_data.get("money_saved_period") or self.instance.money_saved_period

    @property
    def editable_fields(self) -> list[str]:
        return [name for name in self.fields if name != "version"]

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.editable_fields}

    def _post_clean(self):
        # The service validates the case as a whole; the form must not touch the instance.
        pass


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(choices=Status.choices)
    note = forms.CharField(required=False, max_length=2000)
    version = forms.IntegerField(required=False, min_value=1)


def next_status(case: AssistanceCase) -> str | None:
    """The one step forward the lifecycle allows from here (closing has its own form)."""
    steps = sorted(TRANSITIONS.get(Status(case.status), ()))
    return steps[0] if steps else None


class CaseCloseForm(BootstrapMixin, forms.Form):
    resolution = forms.ChoiceField(label=_("Resolution"), choices=Resolution.choices, widget=forms.RadioSelect)
    fulfilled_needs = NeedChoiceField(
        label=_("Needs fulfilled"), queryset=None, required=False,
        help_text=_("The needs not ticked are declined with the note as the reason."))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("Required when the case closes unresolved: say why."))
    certificate_obtained = forms.BooleanField(label=_("Certificate obtained"), required=False)
    standard_drafted = forms.BooleanField(label=_("Standard drafted"), required=False)
    excellence_model_adopted = forms.BooleanField(label=_("Excellence-performance model adopted"), required=False)
    lab_set_up = forms.BooleanField(label=_("Measurement lab set up"), required=False)
    money_saved = forms.DecimalField(label=_("Money saved (yuan)"), required=False, min_value=0, max_digits=14,
                                     decimal_places=2,
                                     widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    money_saved_period = forms.ChoiceField(label=_("Money saved per"), choices=AssistanceCase.SavingsPeriod.choices,
                                           initial=AssistanceCase.SavingsPeriod.ONCE, required=False)
    outcome_notes = forms.CharField(label=_("Outcome notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    closed_on = forms.DateField(label=_("Closed on"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Only for a case entered after the fact: the day it closed. Empty: today."))
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, needs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fulfilled_needs"].queryset = needs

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("resolution") == Resolution.UNRESOLVED and not (cleaned.get("note") or "").strip():
            self.add_error("note", _("Say why the case closes unresolved."))
        return cleaned

    def outcomes(self) -> dict:
        outcomes = {name: self.cleaned_data[name] for name in OUTCOME_FIELDS}
        outcomes["money_saved_period"] = self.cleaned_data["money_saved_period"] or AssistanceCase.SavingsPeriod.ONCE
        return outcomes


class AssignForm(forms.Form):
    expert = forms.ModelChoiceField(queryset=None, error_messages={
        "invalid_choice": _("This expert is not in a pool you can use.")})
    override_reason = forms.CharField(label=_("Reason for assigning past capacity"), required=False,
                                      max_length=1000)

    def __init__(self, *args, experts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].queryset = experts


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(label=_("Your satisfaction"), coerce=int, widget=forms.RadioSelect,
                                   choices=[(n, str(n)) for n in range(5, 0, -1)])
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}))


class AttachmentInput(MultipleFileInput):
    def __init__(self, attrs=None):
        super().__init__(attrs={"accept": ATTACHMENT_ACCEPT, **(attrs or {})})


class VisitForm(BootstrapMixin, forms.ModelForm):
    """Logging or editing a visit, on a phone on site as often as at a desk."""

    attachments = MultipleFileField(
        label=_("Photos and files"), required=False, widget=AttachmentInput,
        help_text=lazy_interpolate(_("Up to %(count)d files of %(size)d MB each: photos, PDF, Word, Excel or text."),
                                   count=ATTACHMENT_MAX_COUNT, size=ATTACHMENT_MAX_BYTES // (1024 * 1024)),
    )

    class Meta:
        model = Visit
        fields = ["visited_on", "mode", "hours", "people_present", "problems_found", "actions_recommended",
                  "next_follow_up_on", "internal_remark"]
        widgets = {
            "visited_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "next_follow_up_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "mode": forms.RadioSelect,
            "hours": forms.NumberInput(attrs={"step": "0.5", "min": "0.5", "max": "24", "inputmode": "decimal"}),
            "people_present": forms.Textarea(attrs={"rows": 2}),
            "problems_found": forms.Textarea(attrs={"rows": 4}),
            "actions_recommended": forms.Textarea(attrs={"rows": 4}),
            "internal_remark": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            self.initial.setdefault("visited_on", timezone.localdate())
        else:
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=1,
                                                        initial=self.instance.version)
        # The model's range for hours, so that error shows together with the others on the form.
        self.fields["hours"].validators.extend(Visit._meta.get_field("hours").validators)
        self.fields["people_present"].help_text = _("Who went and whom you met, e.g. “Wang Jianguo; the firm's "
                                                    "quality manager”.")

    def visit_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def _post_clean(self):
        # Model validation (future dates, follow-up after the visit) runs in the service.
        pass
