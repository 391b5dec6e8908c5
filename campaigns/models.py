"""Campaigns (质量提升行动, 一对一帮扶 ...) and their targets.

The tables of the campaign's sub-domains (cases/, training/, kpis/) belong to this Django app too:
they are imported at the bottom so that Django registers them with it."""


from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from enterprises.models import Certification, import_file_path
from portal.dates import ENTERED_LATER_DAYS, typed_in_later
from portal.models import Region, ServiceArea

# A target relative to another campaign: at least N% more than its figure, N from -100 (nothing) up.
MIN_BASE_PERCENT = -100
MAX_BASE_PERCENT = 10000


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
    # Closed for entry (录入截止): the records are final; nothing more is entered, even after the fact.
    entry_closed_at = models.DateTimeField(_("closed for entry at"), null=True, blank=True)
    entry_closed_by = models.ForeignKey("portal.User", verbose_name=_("closed for entry by"), null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")

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

    @property
    def is_open_for_entry(self) -> bool:
        return self.entry_closed_at is None

    def entered_later(self, event_day, entered_day) -> bool:
        """Whether a record was typed in after the fact (补录): after the campaign ended, or more
        than ENTERED_LATER_DAYS after the day it happened, e.g. from a paper form."""
        if event_day is None or entered_day is None:
            return False
        return entered_day > self.ends_on or typed_in_later(event_day, entered_day)


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
        # Every other figure the KPI engine counts (campaigns/kpis/engine.py) takes a target too.
        CASES = "cases", _("Cases opened")
        CASES_CLOSED = "cases_closed", _("Cases closed")
        CASES_RESOLVED = "cases_resolved", _("Cases resolved")
        VISITS = "visits", _("Visits")
        ON_SITE_VISITS = "on_site_visits", _("On-site visits")
        CONSULTATIONS = "consultations", _("Consultations (remote and mobile clinic)")
        VISIT_HOURS = "visit_hours", _("Visit hours")
        NEEDS_RECEIVED = "needs_received", _("Needs received")
        FULFILMENT_RATE = "fulfilment_rate", _("Fulfilment rate (%)")
        FIRMS_CERTIFIED = "firms_certified", _("Firms certified")
        CERTIFICATES_OBTAINED = "certificates_obtained", _("Certificates obtained")
        STANDARDS_DRAFTED = "standards_drafted", _("Standards drafted")
        EXCELLENCE_MODELS = "excellence_models", _("Excellence-performance models adopted")
        LABS_SET_UP = "labs_set_up", _("Measurement labs set up")
        MONEY_SAVED_ONCE = "money_saved_once", _("Money saved, one-off (yuan)")
        MONEY_SAVED_PER_YEAR = "money_saved_per_year", _("Money saved per year (yuan)")
        RATINGS = "ratings", _("Ratings given")
        SURVEYS = "surveys", _("Follow-up surveys answered")
        AWARENESS_UP_SHARE = "awareness_up_share", _("Quality awareness up (%)")
        PERFORMANCE_UP_SHARE = "performance_up_share", _("Quality performance up (%)")
        REVENUE_CHANGE_MEAN = "revenue_change_mean", _("Mean revenue change (%)")
        OUTPUT_CHANGE_MEAN = "output_change_mean", _("Mean output change (%)")
        MARGIN_CHANGE_MEAN = "margin_change_mean", _("Mean profit-margin change (%)")
        FIRMS_SURVEYED = "firms_surveyed", _("Firms surveyed")
        SURVEYED_CERTIFIED = "surveyed_certified", _("Surveyed firms certified")
        SURVEYED_CERTIFIED_SHARE = "surveyed_certified_share", _("Share of surveyed firms certified (%)")
        BASELINE_SURVEYS = "baseline_surveys", _("Baseline surveys answered")
        FIRMS_WANTING = "firms_wanting", _("Firms wanting a service area")
        WANTING_SHARE = "wanting_share", _("Share of baseline firms wanting a service area (%)")
        KEY_PARKS = "key_parks", _("Key industrial parks designated")
        KEY_PRODUCTS = "key_products", _("Key products or services designated")

    PERCENT_METRICS = (Metric.CERTIFIED_SHARE, Metric.SATISFIED_SHARE, Metric.FULFILMENT_RATE,
                       Metric.AWARENESS_UP_SHARE, Metric.PERFORMANCE_UP_SHARE, Metric.SURVEYED_CERTIFIED_SHARE,
                       Metric.WANTING_SHARE)
    # Figures counted per certification scheme: a target may name one (`key`), or none (any scheme).
    SCHEME_METRICS = (Metric.FIRMS_CERTIFIED, Metric.CERTIFIED_SHARE, Metric.SURVEYED_CERTIFIED,
                      Metric.SURVEYED_CERTIFIED_SHARE)
    # Figures counted per service area only: a target names the area's number (`key`).
    AREA_METRICS = (Metric.FIRMS_WANTING, Metric.WANTING_SHARE)

    class Scope(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign-wide")
        EACH_PROVINCE = "each_province", _("Each province")
        EACH_CITY = "each_city", _("Each city")
        EACH_COUNTY = "each_county", _("Each county")
        REGION = "region", _("One region")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="targets")
    metric = models.CharField(_("figure"), max_length=24, choices=Metric.choices)
    scope = models.CharField(_("applies to"), max_length=16, choices=Scope.choices, default=Scope.CAMPAIGN)
    region = models.ForeignKey(Region, verbose_name=_("region"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", help_text=_("Only for a target of one region."))
    key = models.CharField(_("scheme or service area"), max_length=16, blank=True,
                           help_text=_("For a figure per certification scheme (e.g. iso9001) or per service area "
                                       "(its number)."))
    # An absolute target names its value; a relative one (e.g. 20% more demonstrations than last
    # year) names a base campaign and a percentage, and its value is worked out from the base
    # campaign's figure for the same region when the figures are counted (campaigns/kpis/targets.py).
    value = models.DecimalField(_("target"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)],
                                null=True, blank=True)
    base_campaign = models.ForeignKey(Campaign, verbose_name=_("compared with campaign"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="dependent_targets",
                                      help_text=_("Only for a target relative to another campaign's figure."))
    base_percent = models.DecimalField(_("more than the base campaign (%)"), max_digits=7, decimal_places=2,
                                       null=True, blank=True, validators=[MinValueValidator(MIN_BASE_PERCENT),
                                                                          MaxValueValidator(MAX_BASE_PERCENT)],
                                       help_text=_("At least this many percent more than the base campaign's "
                                                   "figure in the same region; 0 to match it, negative for less."))

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
            models.UniqueConstraint(fields=["campaign", "metric", "key", "scope"], condition=Q(region__isnull=True),
                                    name="target_unique_per_scope",
                                    violation_error_message=_("This campaign already has this target.")),
            models.UniqueConstraint(fields=["campaign", "metric", "key", "region"], condition=Q(region__isnull=False),
                                    name="target_unique_per_region",
                                    violation_error_message=_("This campaign already has this target.")),
            models.CheckConstraint(condition=Q(value__gte=0), name="target_value_not_negative"),
            models.CheckConstraint(condition=Q(value__isnull=False, base_campaign__isnull=True,
                                               base_percent__isnull=True)
                                   | Q(value__isnull=True, base_campaign__isnull=False, base_percent__isnull=False),
                                   name="target_absolute_or_relative",
                                   violation_error_message=_("A target has either a value or a base campaign "
                                                             "with a percentage.")),
            models.CheckConstraint(condition=Q(base_percent__gte=MIN_BASE_PERCENT) | Q(base_percent__isnull=True),
                                   name="target_base_percent_at_least_minus_100"),
        ]

    def __str__(self) -> str:
        key = f" · {self.key_label()}" if self.key else ""
        return f"{self.get_metric_display()}{key} ≥ {self.goal_text()} ({self.get_scope_display()})"

    @property
    def figure(self) -> str:
        """The name of the figure the target is set for, as the KPI snapshots carry it: the metric,
        or "metric:key" for one certification scheme or service area (campaigns/kpis/engine.py)."""
        return f"{self.metric}:{self.key}" if self.key else self.metric

    @classmethod
    def breakdown_of(cls, metric: str) -> str:
        """The KPI breakdown a keyed target's figure is read from."""
        return "scheme" if metric in cls.SCHEME_METRICS else "service_area"

    def key_label(self) -> str:
        return key_label(self.metric, self.key)

    @property
    def is_relative(self) -> bool:
        return self.base_campaign_id is not None

    def goal_text(self) -> str:
        """The value, or "20% more than <campaign>" for a relative target."""
        if not self.is_relative:
            return str(self.value)
        return _("%(percent)s%% more than %(campaign)s") % {"percent": self.percent_text(),
                                                           "campaign": self.base_campaign}

    def percent_text(self) -> str:
        """20.00 → "20", -12.50 → "-12.5"."""
        return "" if self.base_percent is None else format(self.base_percent.normalize(), "f")

    def clean(self) -> None:
        errors = {}
        if self.scope == self.Scope.REGION and self.region_id is None:
            errors["region"] = _("Name the region for a target of one region.")
        if self.scope != self.Scope.REGION and self.region_id is not None:
            errors["region"] = _("Only a target of one region names a region.")
        errors.update(self.clean_goal())
        if self.metric in self.PERCENT_METRICS and self.value is not None and self.value > 100:
            errors["value"] = _("A share is at most 100%.")
        if self.metric == self.Metric.SATISFACTION_MEAN and self.value is not None and not 1 <= self.value <= 5:
            errors["value"] = _("Mean satisfaction is between 1 and 5.")
        if (self.scope == self.Scope.EACH_PROVINCE and self.campaign_id
                and self.campaign.region.level != Region.Level.NATIONAL):
            errors["scope"] = _("Only a campaign over the whole country has a target for each province.")
        if self.region_id and self.campaign_id and not self.campaign.covers(self.region_id):
            errors["region"] = _("This region lies outside the campaign's jurisdiction.")
        self.key = (self.key or "").strip().lower()
        if self.key and self.metric not in (*self.SCHEME_METRICS, *self.AREA_METRICS):
            errors["key"] = _("Only a figure counted per certification scheme or per service area takes a scheme "
                              "or service area.")
        elif self.metric in self.SCHEME_METRICS and self.key and self.key not in Certification.Scheme.values:
            errors["key"] = _("Choose a certification scheme: %(schemes)s.") % {
                "schemes": ", ".join(Certification.Scheme.values)}
        elif self.metric in self.AREA_METRICS and not self.key:
            errors["key"] = _("Name the service area (its number) for this figure.")
        elif (self.metric in self.AREA_METRICS
              and not (self.key.isdigit() and ServiceArea.objects.filter(code=int(self.key)).exists())):
            errors["key"] = _("No service area has this number.")
        if errors:
            raise ValidationError(errors)

    def clean_goal(self) -> dict:
        """Either a value, or a base campaign (not this one, covering the target's regions) and a percentage."""
        errors = {}
        if self.base_campaign_id is None and self.base_percent is None:
            if self.value is None:
                errors["value"] = _("Enter the target, or compare with another campaign.")
            return errors
        if self.value is not None:
            errors["value"] = _("A target compared with another campaign has no value of its own.")
        if self.base_campaign_id is None:
            errors["base_campaign"] = _("Choose the campaign to compare with.")
        elif self.base_campaign_id == self.campaign_id:
            errors["base_campaign"] = _("A campaign cannot be compared with itself.")
        elif self.campaign_id:
            covered = self.region_id or self.campaign.region_id
            if not self.base_campaign.covers(covered):
                errors["base_campaign"] = _("That campaign does not cover region %(region)s: it has no figures "
                                            "there.") % {"region": covered}
        if self.base_percent is None:
            errors["base_percent"] = _("Enter how many percent more than the base campaign.")
        elif not MIN_BASE_PERCENT <= self.base_percent <= MAX_BASE_PERCENT:
            errors["base_percent"] = _("Enter a percentage between %(low)s and %(high)s.") % {
                "low": MIN_BASE_PERCENT, "high": MAX_BASE_PERCENT}
        return errors


class RecordsImportJob(models.Model):
    """A list of a campaign's records (补录) imported in the background: its cases with visits, or its
    survey answers (campaigns/import_jobs.py runs it).

    The rules are those of the page's import (campaigns/cases/importing.py, campaigns/importing.py):
    every row checked first, one bad row and nothing is written, the report giving line, column and
    reason; a clean file is written in one transaction. The job row keeps the status and the report,
    so a worker that dies leaves a job the sweeper runs again; importing again adds nothing.
    """

    class Kind(models.TextChoices):
        CASES = "cases", _("Cases with visits")
        SURVEYS = "surveys", _("Survey answers")

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking rows")
        INVALID = "invalid", _("Has bad rows")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    RUNNING_STATUSES = (Status.VALIDATING, Status.IMPORTING)

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="import_jobs")
    kind = models.CharField(_("records"), max_length=8, choices=Kind.choices)
    uploaded_by = models.ForeignKey("portal.User", verbose_name=_("uploaded by"), null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # The uploader's jurisdiction when the file came in (empty for administrators): colleagues of the
    # same office follow the job.
    region = models.ForeignKey(Region, verbose_name=_("jurisdiction"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    lead = models.ForeignKey("portal.User", verbose_name=_("lead regulator of the imported cases"), null=True,
                             blank=True, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(_("file"), upload_to=import_file_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(_("rows in the file"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    error_count = models.PositiveIntegerField(_("problems found"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True,
                              help_text=_("The first problems found in rows: line, column, code and parameters."))
    failure = models.JSONField(_("failure"), default=dict, blank=True,
                               help_text=_("Why the whole file was refused: messages by field."))
    counts = models.JSONField(_("records written"), default=dict, blank=True)
    runs = models.PositiveSmallIntegerField(_("runs"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("campaign records import")
        verbose_name_plural = _("campaign records imports")
        indexes = [models.Index(fields=["status", "updated_at"], name="recordsimport_status_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATUSES

    @property
    def bad_rows(self) -> int:
        return len({problem.get("line") for problem in self.errors or []})


def key_label(metric: str, key: str) -> str:
    """A target key as people read it: the scheme's name, or the service area's number and name."""
    if metric in CampaignTarget.SCHEME_METRICS:
        return str(dict(Certification.Scheme.choices).get(key, key))
    area = ServiceArea.objects.filter(code=int(key)).first() if key.isdigit() else None
    return f"{area.code} {area.label}" if area else key


# The sub-domains' tables are this app's: importing them here is how Django registers them with it.
from campaigns.cases.models import (  # noqa: E402
    AssistanceCase,
    CaseAssignment,
    CaseEvent,
    CaseRating,
    Visit,
    VisitAttachment,
    visit_attachment_path,  # named by migration 0001
)
from campaigns.kpis.models import KpiSnapshot  # noqa: E402
from campaigns.training.models import TrainingAttendance, TrainingSession  # noqa: E402

__all__ = [
    "ENTERED_LATER_DAYS",  # kept in portal.dates, where needs (which have no campaign) read it too
    "AssistanceCase", "Campaign", "CampaignTarget", "CaseAssignment", "CaseEvent", "CaseRating", "KpiSnapshot",
    "TrainingAttendance", "TrainingSession", "Visit", "VisitAttachment", "visit_attachment_path",
]
