"""Forms of the training pages. They only shape input: every rule lives in
campaigns.training.services.training_record and the model."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.training import importing as training_import
from campaigns.training.models import TrainingSession
from campaigns.training.selectors import (
    campaigns_for_training,
    firms_by_code,
)
from enterprises.uscc import normalise, validate_uscc
from portal.forms import BootstrapMixin
from portal.models import Region, ServiceArea, User
from portal.selectors import EVERYWHERE, jurisdiction_prefix, regions_visible_to

# Rows of the attendance form; a longer list is what the sign-in sheet import is for.
ATTENDANCE_ROWS = 3
ATTENDANCE_MAX = 300
LEVEL_DEPTH = {Region.Level.NATIONAL: -1, Region.Level.PROVINCE: 0, Region.Level.CITY: 1, Region.Level.COUNTY: 2}


class RegionChoiceField(forms.ModelChoiceField):
    """Regions indented under the jurisdiction they lie in: 石家庄市, — 长安区 ..."""

    top_depth = 0

    def label_from_instance(self, obj):
        indent = "— " * max(LEVEL_DEPTH.get(obj.level, 0) - self.top_depth, 0)
        return f"{indent}{obj.name} ({obj.code})"


class TrainingSessionForm(BootstrapMixin, forms.ModelForm):
    """The session itself: the same on the form page and on the sign-in sheet import."""

    class Meta:
        model = TrainingSession
        fields = ["campaign", "region", "topic", "held_on", "place", "mode", "organiser", "service_area"]
        field_classes = {"region": RegionChoiceField}
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "mode": forms.RadioSelect,
        }

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].queryset = campaigns_for_training(user)
        self.fields["campaign"].empty_label = _("Choose the campaign")
        region = self.fields["region"]
        region.queryset = regions_visible_to(user).order_by("code")
        region.label = _("Held in")
        region.error_messages["invalid_choice"] = _("Choose a region of your jurisdiction.")
        if jurisdiction_prefix(user) == EVERYWHERE:
            # Every county of the country is too long a list: the region picker (static/portal/pickers.js)
            # finds it by name or pinyin; without JavaScript the code is typed.
            region.widget = forms.TextInput(attrs={"class": "form-control", "inputmode": "numeric", "maxlength": "6",
                                                   "placeholder": "130102", "data-region-picker": ""})
            region.help_text = _("Search by name or pinyin, or choose the province, city and county in turn "
                                 "(the 6-digit code, e.g. 130102, works too).")
        else:
            region.empty_label = None
            region.top_depth = LEVEL_DEPTH.get(user.region.level, 0) if user.region_id else 0
        self.fields["service_area"].queryset = ServiceArea.objects.filter(active=True)
        self.fields["service_area"].empty_label = _("None in particular")
        self.fields["organiser"].help_text = _("The bureau, body or expert who gave the training.")
        # The model's "date" reads as a visit's date in the Chinese catalogue.
        self.fields["held_on"].label = _("Date held")
        self.initial.setdefault("held_on", timezone.localdate())
        if user.region_id:
            self.initial.setdefault("region", user.region_id)

    def session_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}

    def _post_clean(self):
        # The service validates the session as a whole (dates, the campaign's jurisdiction).
        pass


class AttendanceRowForm(forms.Form):
    """One firm on the attendance list, named by its credit code (the row's inputs, with the firm
    lookup under the code, are laid out by templates/campaigns/training_attendance_row.html)."""

    uscc = forms.CharField(label=gettext_lazy("Credit code"), max_length=24)
    persons = forms.IntegerField(label=gettext_lazy("Persons"), min_value=1, max_value=training_import.MAX_PERSONS,
                                 initial=1)
    names = forms.CharField(label=gettext_lazy("Names"), required=False, max_length=2000)

    def has_changed(self):
        # A row is blank until it names a firm or a person: the persons box starts at 1.
        return any((self.data.get(self.add_prefix(name)) or "").strip() for name in ("uscc", "names"))

    def clean_uscc(self):
        code = normalise(self.cleaned_data["uscc"])
        validate_uscc(code)
        return code


class BaseAttendanceFormSet(forms.BaseFormSet):
    """The attendance list: each code must name a firm of the user's jurisdiction, once."""

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        self.firms: dict[str, object] = {}
        super().__init__(*args, **kwargs)

    def clean(self):
        # Every row whose code reads well is looked up, even when other rows have mistakes, so
        # the user sees every problem at once.
        rows = [(number, form) for number, form in enumerate(self.forms, start=1)
                if "uscc" in getattr(form, "cleaned_data", {})]
        lookup = firms_by_code(self.user, (form.cleaned_data["uscc"] for _number, form in rows))
        first_row: dict[str, int] = {}
        for number, form in rows:
            code = form.cleaned_data["uscc"]
            if code in lookup.outside:
                form.add_error("uscc", _("This enterprise is registered outside your jurisdiction."))
            elif lookup.unknown(code):
                form.add_error("uscc", _("No enterprise with this credit code is in the registry."))
            elif code in first_row:
                form.add_error("uscc", _("This enterprise is already on row %(row)d.") % {"row": first_row[code]})
            else:
                first_row[code] = number
        self.firms = lookup.visible

    def attendances(self) -> list[tuple]:
        return [(self.firms[form.cleaned_data["uscc"]], form.cleaned_data["persons"], form.cleaned_data["names"])
                for form in self.forms if form.cleaned_data]


AttendanceFormSet = forms.formset_factory(
    AttendanceRowForm, formset=BaseAttendanceFormSet, extra=ATTENDANCE_ROWS, max_num=ATTENDANCE_MAX,
    validate_max=True, absolute_max=ATTENDANCE_MAX,
)


class SheetForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Sign-in sheet (.csv or .xlsx)"),
        help_text=gettext_lazy("The first row holds the column headers; one row per person or per enterprise."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
        error_messages={"required": gettext_lazy("Choose the sign-in sheet to import.")},
    )
