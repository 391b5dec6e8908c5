"""The stored figures dashboards read."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class KpiSnapshot(models.Model):
    """A campaign's figures for one region and one period (活动指标快照), as the KPI engine last
    computed them (campaigns/kpis/engine.py). Dashboards read these and nothing else.

    `period` is "" for to date or "YYYY-MM" for one month; `breakdown` is "" for the region's
    totals or industry / size / service_area / scheme with `key` the section letter, size class,
    service-area number or certification scheme. `measures` holds the counts and sums the figures
    derive from (a rate's two sides, a mean's total and count), which an update adds to and
    replaces source by source;
    `figures` is what readers get. A recount writes only the rows whose figures changed, in one
    transaction, so a reader never sees half a recount; `computed_at` is when the row last changed.
    """

    class Breakdown(models.TextChoices):
        TOTAL = "", _("Total")
        INDUSTRY = "industry", _("Industry")
        SIZE = "size", _("Size class")
        SERVICE_AREA = "service_area", _("Service area")
        SCHEME = "scheme", _("Certification scheme")

    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="kpi_snapshots")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    level = models.CharField(_("level"), max_length=8, choices=Region.Level.choices)
    period = models.CharField(_("period"), max_length=7, blank=True)
    breakdown = models.CharField(_("breakdown"), max_length=16, choices=Breakdown.choices, blank=True)
    key = models.CharField(_("breakdown key"), max_length=16, blank=True)
    figures = models.JSONField(_("figures"), default=dict)
    measures = models.JSONField(_("counts and sums"), default=dict)
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


class KpiCell(models.Model):
    """The counts and sums of one additive source (visits, ratings, training ...) at its finest
    grain: the rows filed under one region code in one month (`period` "YYYY-MM"), or to date for
    one breakdown key. Every region's figure is the sum of the cells under it, so an update recounts
    the few cells a change touched and adds them up again, rather than the campaign's whole table."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=16)
    code = models.CharField(max_length=6)
    period = models.CharField(max_length=7, blank=True)
    breakdown = models.CharField(max_length=16, blank=True)
    key = models.CharField(max_length=16, blank=True)
    values = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("KPI cell")
        verbose_name_plural = _("KPI cells")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "source", "code", "period", "breakdown", "key"],
                                    name="kpi_cell_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.source} · {self.code} · {self.period or self.breakdown}"


class KpiState(models.Model):
    """When a campaign's figures were last checked in full, and last updated."""

    campaign = models.OneToOneField("campaigns.Campaign", on_delete=models.CASCADE, related_name="kpi_state",
                                    primary_key=True)
    verified_at = models.DateTimeField(_("last full count"), null=True, blank=True)
    updated_at = models.DateTimeField(_("last update"), null=True, blank=True)
    corrections = models.PositiveIntegerField(_("figures the last full count corrected"), default=0)

    class Meta:
        verbose_name = _("KPI state")
        verbose_name_plural = _("KPI states")

    def __str__(self) -> str:
        return str(self.campaign_id)
