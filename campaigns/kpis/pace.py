"""The weekly check of targets against their pro-rata pace (beat, Mondays 07:45).

Past the middle of a running campaign, a region whose to-date figure is below target × (share of
the period elapsed) is behind its pace; the regulators whose jurisdiction covers that region, inside
the campaign's, are told once a week (the key names the campaign, the region and the ISO week).
Shares and means (certified share, satisfaction) have no pace and are left out. It reads the
stored KPI snapshots, as the dashboards do.
"""

from datetime import date

from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy

from campaigns.kpis.dashboards import display, figure_label
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign, CampaignTarget
from portal.models import User
from portal.notifications import kinds as notice
from portal.notifications.services import notify

Metric = CampaignTarget.Metric
WITHOUT_PACE = {Metric.CERTIFIED_SHARE, Metric.SATISFACTION_MEAN, Metric.SATISFIED_SHARE,
                Metric.SURVEYED_CERTIFIED_SHARE, Metric.WANTING_SHARE}
MIDWAY = 0.5


def elapsed_share(campaign: Campaign, today: date) -> float:
    days = (campaign.ends_on - campaign.starts_on).days + 1
    return min(max(((today - campaign.starts_on).days + 1) / days, 0.0), 1.0)


def behind(figures: dict, share: float) -> list[tuple[str, float, float, float]]:
    """(metric, target, actual, pace) of each counted target whose figure is below its pace."""
    rows = []
    for metric, target in sorted((figures.get("targets") or {}).items()):
        if metric.split(":")[0] in WITHOUT_PACE:  # "metric:key" for one scheme or service area
            continue
        pace = target * share
        actual = figures.get(metric) or 0
        if actual < pace:
            rows.append((metric, target, actual, pace))
    return rows


def describe(rows) -> str:
    """The behind targets as text in the active language (evaluated when the notice is written)."""
    return "; ".join(f"{figure_label(metric)} {display(actual)} / {display(target)} "
                     f"({display(round(pace, 1))})" for metric, target, actual, pace in rows)


lazy_describe = lazy(describe, str)


def kpi_pace_check(today: date | None = None) -> int:
    """Tell regulators of regions behind pace; returns how many notifications are new."""
    today = today or timezone.localdate()
    year, week, _day = today.isocalendar()
    told = 0
    campaigns = Campaign.objects.filter(starts_on__lte=today, ends_on__gte=today).select_related("region")
    for campaign in campaigns:
        share = elapsed_share(campaign, today)
        if share < MIDWAY:
            continue
        regulators = list(User.objects.filter(role=User.Role.REGULATOR, is_active=True,
                                              region__code__startswith=campaign.region.prefix)
                          .select_related("region"))
        rows = (KpiSnapshot.objects.filter(campaign=campaign, period="", breakdown="", key="")
                .select_related("region").order_by("region_id"))
        for row in rows:
            late = behind(row.figures, share)
            if not late:
                continue
            recipients = [user for user in regulators if row.region_id.startswith(user.region.prefix)]
            told += len(notify(
                recipients, notice.KPI_BEHIND.name, obj=campaign, key=f"kpi_behind:{campaign.pk}:{row.region_id}:"
                                                                      f"{year}-W{week:02d}",
                params={"campaign": campaign.name, "region": row.region.name, "targets": lazy_describe(late)},
                link=f"{reverse('dashboards:campaign', args=[campaign.pk])}?region={row.region_id}",
            ))
    return told
