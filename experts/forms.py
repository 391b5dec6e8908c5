from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from experts.models import Expert
from portal.forms import BootstrapMixin, CodeField, HalfWidthEmailField
from portal.models import Region, Specialty, User, enclosing_codes
from portal.selectors import EVERYWHERE, jurisdiction_prefix, regions_visible_to


def region_label(region: Region) -> str:
    """Code and name, a county with its city (the parent is select_related by the querysets below)."""
    name = region.name
    if region.level == Region.Level.COUNTY and region.parent_id and not region.parent.is_grouping:
        name = region.parent.name + name
    return f"{region.code} {name}"


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return region_label(obj)


class RegionMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return region_label(obj)


class LoginChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name} ({obj.username})" if obj.full_name else obj.username


def pools_for(user: User) -> QuerySet[Region]:
    """The pools the user keeps: their jurisdiction and every region inside it (an expert being
    edited is in one of them, or the edit page has already answered 403)."""
    return regions_visible_to(user).order_by("code")


def served_choices_for(user: User, expert: Expert | None) -> QuerySet[Region]:
    """Regions inside the user's jurisdiction, the province and city around it, and whatever the
    expert already serves (so saving the form never drops a region the user could not pick)."""
    prefix = jurisdiction_prefix(user)
    regions = Region.objects.select_related("parent")
    if prefix == EVERYWHERE:
        return regions.order_by("code")
    wanted = Q(pk__in=[])
    if prefix is not None:
        wanted = Q(code__startswith=prefix) | Q(code__in=enclosing_codes(user.region_id))
    if expert is not None and expert.pk:
        wanted |= Q(experts_serving=expert)
    return regions.filter(wanted).distinct().order_by("code")


def logins_for(expert: Expert | None) -> QuerySet[User]:
    """Expert-role accounts that are nobody's login yet (plus the expert's own)."""
    free = Q(expert_profile__isnull=True)
    if expert is not None and expert.user_id:
        free |= Q(pk=expert.user_id)
    return User.objects.filter(free, role=User.Role.EXPERT, is_active=True).order_by("full_name", "username")


class ExpertForm(BootstrapMixin, forms.ModelForm):
    """Adding or editing an expert; the service checks the pool and the login again."""

    region = RegionChoiceField(label=_("Pool"), queryset=Region.objects.none(),
                               help_text=_("The jurisdiction whose expert pool keeps this record."))
    specialties = forms.ModelMultipleChoiceField(
        label=_("Specialties"), queryset=Specialty.objects.all(), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one specialty.")},
    )
    regions_served = RegionMultipleChoiceField(
        label=_("Regions served"), queryset=Region.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Serving a province or city covers every region inside it. Hold Ctrl (⌘ on a Mac) to choose "
                    "several."),
        error_messages={"required": _("Choose at least one region the expert serves.")},
    )
    capacity = forms.IntegerField(label=_("Capacity"), min_value=1, max_value=50, initial=3,
                                  help_text=_("The most open cases the expert carries at once (1-50)."))
    user = LoginChoiceField(label=_("Login"), queryset=User.objects.none(), required=False,
                            help_text=_("An account with the expert role, so the expert can sign in and see "
                                        "their cases."))

    class Meta:
        model = Expert
        fields = ["code", "name", "title", "employer", "employer_kind", "phone", "email", "region", "specialties",
                  "regions_served", "capacity", "is_active", "user", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"code": CodeField, "phone": CodeField, "email": HalfWidthEmailField}

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        expert = self.instance if self.instance.pk else None
        self.fields["region"].queryset = pools_for(user)
        if user.region_id:
            self.fields["region"].empty_label = None
            if expert is None:
                self.initial["region"] = self.initial.get("region") or user.region_id
        self.fields["regions_served"].queryset = served_choices_for(user, expert)
        self.fields["user"].queryset = logins_for(expert)

    def _post_clean(self):
        # The model is validated by the service, which sees the whole picture (uniqueness too).
        pass

    def service_fields(self) -> dict:
        """The cleaned data as the service's keyword arguments."""
        data = dict(self.cleaned_data)
        # The services take `user` as the acting user, so the login travels as its id.
        login = data.pop("user")
        data["user_id"] = login.pk if login else None
        return {
            "specialties": data.pop("specialties"), "regions_served": data.pop("regions_served"),
            "fields": data,
        }


class ExpertImportForm(forms.Form):
    file = forms.FileField(
        label=_("Expert list (.csv or .xlsx)"),
        help_text=_("At most 10,000 rows; the first row holds the column headers."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
        error_messages={"required": _("Choose a file to import.")},
    )
