"""The expert pool (专家库): who can be sent to help a firm, in what, where and how often."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Region, Specialty


class Expert(models.Model):
    """A member of the expert pool (帮扶专家).

    `region` is the pool that keeps the record (the bureau whose regulators maintain it);
    `regions_served` are where the expert goes: serving a city covers its counties.
    """

    class EmployerKind(models.TextChoices):
        CERTIFICATION_BODY = "certification", _("Certification body")
        TEST_LAB = "test_lab", _("Inspection and testing laboratory")
        METROLOGY = "metrology", _("Metrology or standardization institute")
        CONSULTANCY = "consultancy", _("Consultancy")
        UNIVERSITY = "university", _("University or research institute")
        ENTERPRISE = "enterprise", _("Enterprise")
        GOVERNMENT = "government", _("Government agency")
        OTHER = "other", _("Other")

    code = models.CharField(_("pool number"), max_length=32, unique=True,
                            help_text=_("The expert's number in the pool, e.g. 130100-0001; imports update by it."))
    name = models.CharField(_("name"), max_length=64)
    title = models.CharField(_("professional title"), max_length=64, blank=True)
    employer = models.CharField(_("employer"), max_length=128)
    employer_kind = models.CharField(_("kind of employer"), max_length=16, choices=EmployerKind.choices)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    region = models.ForeignKey(Region, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("The jurisdiction whose expert pool keeps this record."))
    specialties = models.ManyToManyField(Specialty, verbose_name=_("specialties"), related_name="experts")
    regions_served = models.ManyToManyField(Region, verbose_name=_("regions served"), related_name="experts_serving",
                                            help_text=_("Serving a province or city covers every region inside it."))
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=3,
                                                validators=[MinValueValidator(1), MaxValueValidator(50)],
                                                help_text=_("The most open cases the expert carries at once."))
    is_active = models.BooleanField(_("active"), default=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("login"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="expert_profile",
                                limit_choices_to={"role": "expert"})
    notes = models.TextField(_("notes"), blank=True)
    # The expert's record, kept by campaigns.cases.services.case_rate: the ratings of the cases they saw
    # through to the end. Stored, so that matching thousands of candidates reads two columns.
    rating_count = models.PositiveIntegerField(_("ratings"), default=0, editable=False)
    rating_total = models.PositiveIntegerField(_("sum of ratings"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1) & Q(capacity__lte=50), name="expert_capacity_range",
                                   violation_error_message=_("Capacity is between 1 and 50 open cases.")),
        ]
        indexes = [
            models.Index(fields=["is_active"], name="expert_active_idx", condition=Q(is_active=True)),
            models.Index(fields=["employer_kind"], name="expert_employer_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.name
