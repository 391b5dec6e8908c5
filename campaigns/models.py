"""Campaigns and the one-to-one assistance cases run inside them: visits, experts, ratings."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise, NeedRequest
from portal.models import Region, ServiceArea


class Campaign(models.Model):
    """A quality-support campaign (质量提升行动, 一对一帮扶 ...) run by a bureau over a period.

    Cases (and, later, training sessions) belong to one. Its jurisdiction bounds the firms it
    may assist: a province campaign covers every city and county inside the province.
    """

    name = models.CharField(_("name"), max_length=120)
    theme = models.TextField(_("theme"), blank=True)
    organiser = models.CharField(_("organising bureau"), max_length=128)
    region = models.ForeignKey(Region, verbose_name=_("jurisdiction"), on_delete=models.PROTECT,
                               related_name="campaigns")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    service_areas = models.ManyToManyField(ServiceArea, verbose_name=_("service areas in scope"),
                                           related_name="campaigns", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="campaign_ends_after_start",
                                   violation_error_message=_("A campaign cannot end before it starts.")),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("A campaign cannot end before it starts.")})

    def covers(self, region_code: str) -> bool:
        return region_code.startswith(self.region.prefix)

    def is_running_on(self, day) -> bool:
        return self.starts_on <= day <= self.ends_on


class AssistanceCase(models.Model):
    """A one-to-one assistance case (一对一帮扶, "一企一策"): one firm, one plan, inside a campaign.

    It answers some of the firm's needs (or none, when the bureau reaches out first), is led by a
    regulator, carried by assigned experts and recorded visit by visit until it closes resolved
    or not. `version` grows with every edit so two people editing at once cannot overwrite
    each other silently.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DIAGNOSING = "diagnosing", _("Diagnosing")
        PLAN_AGREED = "plan_agreed", _("Plan agreed")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSED = "closed", _("Closed")

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        UNRESOLVED = "unresolved", _("Unresolved")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 related_name="cases")
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                   related_name="cases")
    needs = models.ManyToManyField(NeedRequest, verbose_name=_("needs answered"), related_name="cases", blank=True)
    title = models.CharField(_("title"), max_length=120)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lead regulator"), on_delete=models.PROTECT,
                             related_name="cases_led", limit_choices_to={"role": "regulator"})
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    plan = models.TextField(_("assistance plan"), blank=True)
    certificate_obtained = models.BooleanField(_("certificate obtained"), default=False)
    standard_drafted = models.BooleanField(_("standard drafted"), default=False)
    excellence_model_adopted = models.BooleanField(_("excellence-performance model adopted"), default=False)
    lab_set_up = models.BooleanField(_("measurement lab set up"), default=False)
    money_saved = models.DecimalField(_("money saved (yuan)"), max_digits=14, decimal_places=2, null=True,
                                      blank=True, validators=[MinValueValidator(0)])
    outcome_notes = models.TextField(_("outcome notes"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                  related_name="+")
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # Kept by the visit services so the home page and lists need no aggregate over visits.
    last_visit_on = models.DateField(_("last visit"), null=True, blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("assistance case")
        verbose_name_plural = _("assistance cases")
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(resolution="") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(resolution="") & Q(closed_at__isnull=True)),
                name="case_closed_has_resolution",
                violation_error_message=_("A closed case needs a resolution, and only a closed case has one."),
            ),
            models.CheckConstraint(condition=Q(money_saved__isnull=True) | Q(money_saved__gte=0),
                                   name="case_money_saved_not_negative",
                                   violation_error_message=_("Money saved cannot be negative.")),
            # One plan per firm: at most one open case for a firm in a campaign.
            models.UniqueConstraint(fields=["campaign", "enterprise"], condition=~Q(status="closed"),
                                    name="case_one_open_per_firm_and_campaign",
                                    violation_error_message=_("This enterprise already has an open case in this "
                                                              "campaign.")),
        ]
        indexes = [
            models.Index(fields=["status", "-opened_at"], name="case_status_opened_idx"),
            models.Index(fields=["lead", "status"], name="case_lead_status_idx"),
            models.Index(fields=["next_follow_up_on"], name="case_follow_up_idx", condition=~Q(status="closed")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class CaseEvent(models.Model):
    """One step in a case's lifecycle: who moved it from which status to which, when and why."""

    case = models.ForeignKey(AssistanceCase, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=AssistanceCase.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=AssistanceCase.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case history entry")
        verbose_name_plural = _("case history")

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class CaseAssignment(models.Model):
    """An expert assigned to a case (指派专家).

    `active` while the case is open and the expert has not been released; it is what an
    expert's load counts. Assigning past capacity needs `override_reason`.
    """

    case = models.ForeignKey(AssistanceCase, verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="assignments")
    expert = models.ForeignKey("experts.Expert", verbose_name=_("expert"), on_delete=models.PROTECT,
                               related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned by"),
                                    on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    active = models.BooleanField(_("active"), default=True)
    over_capacity = models.BooleanField(_("assigned past capacity"), default=False)
    override_reason = models.TextField(_("reason for assigning past capacity"), blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("released by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("expert assignment")
        verbose_name_plural = _("expert assignments")
        constraints = [
            models.UniqueConstraint(fields=["case", "expert"], condition=Q(active=True),
                                    name="assignment_one_active_per_case_and_expert"),
            models.CheckConstraint(condition=Q(over_capacity=False) | ~Q(override_reason=""),
                                   name="assignment_override_has_reason"),
        ]
        indexes = [
            models.Index(fields=["expert"], name="assignment_active_expert_idx", condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return f"{self.expert} · {self.case}"


class Visit(models.Model):
    """One assistance contact on a case (帮扶走访): on site, remote or by a mobile quality clinic.

    `internal_remark` is for the bureau and experts only; the firm never sees it.
    """

    class Mode(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        REMOTE = "remote", _("Remote")
        MOBILE_CLINIC = "mobile_clinic", _("Mobile quality clinic")

    case = models.ForeignKey(AssistanceCase, verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="visits")
    visited_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.ON_SITE)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1,
                                validators=[MinValueValidator(0.5), MaxValueValidator(24)])
    people_present = models.TextField(_("people present"))
    problems_found = models.TextField(_("problems found"), blank=True)
    actions_recommended = models.TextField(_("actions recommended"), blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    internal_remark = models.TextField(_("internal remark"), blank=True,
                                       help_text=_("Seen by the bureau and the experts only, never by the enterprise."))
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT,
                                  related_name="visits_logged")
    logged_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0.5) & Q(hours__lte=24), name="visit_hours_range",
                                   violation_error_message=_("Hours are between 0.5 and 24.")),
            models.CheckConstraint(condition=Q(next_follow_up_on__isnull=True)
                                   | Q(next_follow_up_on__gt=F("visited_on")),
                                   name="visit_follow_up_after_visit",
                                   violation_error_message=_("The next follow-up must come after the visit.")),
        ]
        indexes = [models.Index(fields=["case", "-visited_on"], name="visit_case_date_idx")]

    def __str__(self) -> str:
        return f"{self.case} · {self.visited_on}"

    def clean(self) -> None:
        errors = {}
        if self.visited_on and self.visited_on > timezone.localdate():
            errors["visited_on"] = _("A visit cannot be logged for a future date.")
        if self.visited_on and self.next_follow_up_on and self.next_follow_up_on <= self.visited_on:
            errors["next_follow_up_on"] = _("The next follow-up must come after the visit.")
        if errors:
            raise ValidationError(errors)


def visit_attachment_path(instance, filename: str) -> str:
    """A random stored name: the uploader's file name is kept in `original_name`, never on disk."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"visits/{instance.visit_id}/{uuid.uuid4().hex}{suffix}"


class VisitAttachment(models.Model):
    """A photo or document taken on a visit (a defect, a record sheet, a test report ...)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=visit_attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size in bytes"))
    is_photo = models.BooleanField(_("photo"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("visit attachment")
        verbose_name_plural = _("visit attachments")

    def __str__(self) -> str:
        return self.original_name


class CaseRating(models.Model):
    """The firm's satisfaction with a closed case (满意度评价): 1 to 5 with a comment, given once."""

    case = models.OneToOneField(AssistanceCase, verbose_name=_("case"), on_delete=models.CASCADE,
                                related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rated by"), on_delete=models.PROTECT,
                                 related_name="+")
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_range",
                                   violation_error_message=_("The score is from 1 to 5.")),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.score}"


class CampaignTarget(models.Model):
    """A figure a campaign sets out to reach (目标任务): campaign-wide, in one region, or in each
    city or county of its jurisdiction (e.g. at least 50 key enterprises assisted per city)."""

    class Metric(models.TextChoices):
        FIRMS_ASSISTED = "firms_assisted", _("Firms assisted")
        KEY_FIRMS_ASSISTED = "key_firms_assisted", _("Key enterprises assisted")
        KEY_INDUSTRIES = "key_industries", _("Key industries covered")
        TRAINING_SESSIONS = "training_sessions", _("Training sessions held")
        PERSON_TIMES = "person_times", _("Person-times trained")
        FIRM_TIMES = "firm_times", _("Firm-times trained")
        NEEDS_FULFILLED = "needs_fulfilled", _("Needs fulfilled")
        CERTIFIED_SHARE = "certified_share", _("Share of assisted firms certified (%)")
        SATISFACTION_MEAN = "satisfaction_mean", _("Mean satisfaction (1-5)")
        SATISFIED_SHARE = "satisfied_share", _("Share of ratings 4-5 (%)")

    PERCENT_METRICS = (Metric.CERTIFIED_SHARE, Metric.SATISFIED_SHARE)

    class Scope(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign-wide")
        EACH_CITY = "each_city", _("Each city")
        EACH_COUNTY = "each_county", _("Each county")
        REGION = "region", _("One region")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="targets")
    metric = models.CharField(_("figure"), max_length=24, choices=Metric.choices)
    scope = models.CharField(_("applies to"), max_length=12, choices=Scope.choices, default=Scope.CAMPAIGN)
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", help_text=_("Only for a target of one region."))
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["campaign", "metric", "scope"]
        verbose_name = _("campaign target")
        verbose_name_plural = _("campaign targets")
        constraints = [
            models.CheckConstraint(condition=Q(scope="region", region__isnull=False)
                                   | (~Q(scope="region") & Q(region__isnull=True)),
                                   name="target_region_only_for_region_scope",
                                   violation_error_message=_("Name the region for a target of one region, "
                                                             "and only then.")),
            # Two constraints rather than nulls_distinct=False, which SQLite cannot enforce.
            models.UniqueConstraint(fields=["campaign", "metric", "scope"], condition=Q(region__isnull=True),
                                    name="target_unique_per_scope",
                                    violation_error_message=_("This campaign already has this target.")),
            models.UniqueConstraint(fields=["campaign", "metric", "region"], condition=Q(region__isnull=False),
                                    name="target_unique_per_region",
                                    violation_error_message=_("This campaign already has this target.")),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_value_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_metric_display()} ≥ {self.value} ({self.get_scope_display()})"

    def clean(self) -> None:
        errors = {}
        if self.scope == self.Scope.REGION and self.region_id is None:
            errors["region"] = _("Name the region for a target of one region.")
        if self.scope != self.Scope.REGION and self.region_id is not None:
            errors["region"] = _("Only a target of one region names a region.")
        if self.metric in self.PERCENT_METRICS and self.value is not None and self.value > 100:
            errors["value"] = _("A share is at most 100%.")
        if self.metric == self.Metric.SATISFACTION_MEAN and self.value is not None and not 1 <= self.value <= 5:
            errors["value"] = _("Mean satisfaction is between 1 and 5.")
        if self.region_id and self.campaign_id and not self.campaign.covers(self.region_id):
            errors["region"] = _("This region lies outside the campaign's jurisdiction.")
        if errors:
            raise ValidationError(errors)


class TrainingSession(models.Model):
    """A training session of a campaign (质量培训、送教上门): who attended counts as firm-times
    (one per firm per session) and person-times (one per person per session)."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("Classroom")
        ONLINE = "online", _("Online")
        ON_SITE = "on_site", _("At an enterprise or park (training tour)")
        MOBILE_CLINIC = "mobile_clinic", _("Mobile quality clinic")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.PROTECT,
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


class KpiSnapshot(models.Model):
    """A campaign's figures for one region and one period (活动指标快照), as the KPI engine last
    computed them (campaigns/kpis.py). Dashboards read these and nothing else.

    `period` is "" for to date or "YYYY-MM" for one month; `breakdown` is "" for the region's
    totals or industry / size / service_area with `key` the section letter, size class or
    service-area number. A run replaces all of a campaign's snapshots in one transaction, so a
    reader never sees half a run, and `computed_at` is the same on every row of a run.
    """

    class Breakdown(models.TextChoices):
        TOTAL = "", _("Total")
        INDUSTRY = "industry", _("Industry")
        SIZE = "size", _("Size class")
        SERVICE_AREA = "service_area", _("Service area")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="kpi_snapshots")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=8, choices=Region.Level.choices)
    period = models.CharField(_("period"), max_length=7, blank=True)
    breakdown = models.CharField(_("breakdown"), max_length=16, choices=Breakdown.choices, blank=True)
    key = models.CharField(_("breakdown key"), max_length=8, blank=True)
    figures = models.JSONField(_("figures"), default=dict)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        ordering = ["campaign", "region", "period", "breakdown", "key"]
        verbose_name = _("KPI snapshot")
        verbose_name_plural = _("KPI snapshots")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "region", "period", "breakdown", "key"],
                                    name="kpi_snapshot_unique"),
        ]
        indexes = [models.Index(fields=["campaign", "level", "period"], name="kpi_campaign_level_idx")]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.region_id} · {self.period or 'to date'}"
