"""Training sessions of a campaign and the firms that attended them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise
from portal.models import Region, ServiceArea


class TrainingSession(models.Model):
    """A training session of a campaign (质量培训、送教上门): who attended counts as firm-times
    (one per firm per session) and person-times (one per person per session)."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("Classroom")
        ONLINE = "online", _("Online")
        ON_SITE = "on_site", _("At an enterprise or park (training tour)")
        MOBILE_CLINIC = "mobile_clinic", _("Mobile quality clinic")

    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 related_name="training_sessions")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+",
                               help_text=_("Where the session was held; its figures count here."))
    topic = models.CharField(_("topic"), max_length=160)
    held_on = models.DateField(_("date held"))
    place = models.CharField(_("place"), max_length=160, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.IN_PERSON)
    organiser = models.CharField(_("organiser"), max_length=128)
    service_area = models.ForeignKey(ServiceArea, verbose_name=_("service area"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        indexes = [models.Index(fields=["campaign", "held_on"], name="training_campaign_date_idx")]

    def __str__(self) -> str:
        return f"{self.topic} ({self.held_on})"

    @property
    def entered_later(self) -> bool:
        """Typed in after the fact (补录), e.g. from a paper sign-in sheet."""
        if self.recorded_at is None:
            return False
        return self.campaign.entered_later(self.held_on, timezone.localdate(self.recorded_at))

    def clean(self) -> None:
        errors = {}
        if self.held_on and self.held_on > timezone.localdate():
            errors["held_on"] = _("Record a session once it has been held.")
        elif self.campaign_id and self.held_on and not self.campaign.is_running_on(self.held_on):
            errors["held_on"] = _("The campaign runs from %(start)s to %(end)s.") % {
                "start": self.campaign.starts_on, "end": self.campaign.ends_on}
        if self.campaign_id and self.region_id and not self.campaign.covers(self.region_id):
            errors["region"] = _("This region lies outside the campaign's jurisdiction.")
        if errors:
            raise ValidationError(errors)


class TrainingAttendance(models.Model):
    """One firm at one training session and how many of its people came (firm-time, person-times)."""

    session = models.ForeignKey(TrainingSession, verbose_name=_("session"), on_delete=models.CASCADE,
                                related_name="attendances")
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                   related_name="training_attendances")
    persons = models.PositiveIntegerField(_("persons"), validators=[MinValueValidator(1), MaxValueValidator(10000)])
    names = models.TextField(_("names"), blank=True, help_text=_("Who signed in, as the sign-in sheet has it."))

    class Meta:
        ordering = ["session", "enterprise__name"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")
        constraints = [
            models.UniqueConstraint(fields=["session", "enterprise"], name="attendance_one_row_per_firm",
                                    violation_error_message=_("This enterprise is already on the session's list.")),
            models.CheckConstraint(condition=Q(persons__gte=1), name="attendance_at_least_one_person"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} × {self.persons}"
