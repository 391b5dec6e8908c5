"""The stored figures dashboards read."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class KpiSnapshot(models.Model):
    """A campaign's figures for one region and one period (活动指标快照), as the KPI engine last
    computed them (campaigns/kpis/engine.py). Dashboards read these and nothing else.

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

    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), on_delete=models.CASCADE,
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
