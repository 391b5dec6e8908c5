"""Celery tasks of the KPI engine: thin wrappers taking ids and calling it."""

from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from campaigns.kpis import engine as kpis
from campaigns.models import Campaign

# Changes within this many seconds of the first one are picked up by the same run.
DEBOUNCE_SECONDS = 10


@shared_task(
    name="campaigns.tasks.kpi_compute",
    bind=True,
    ignore_result=True,
    # A lost or refused database connection (a restart, a failover) is worth another try; any
    # other error is a bug and is left to the logs, not repeated.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=6,
    # Both limits stay below the broker's visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS), so a
    # running computation is never handed to a second worker.
    soft_time_limit=1200,
    time_limit=1500,
)
def kpi_compute(self, campaign_id: int) -> None:
    """Recompute one campaign's KPI snapshots. Safe to run twice or at the same time."""
    if Campaign.objects.filter(pk=campaign_id).exists():
        kpis.compute_campaign(campaign_id)


@shared_task(name="campaigns.tasks.kpi_refresh_all", ignore_result=True)
def kpi_refresh_all() -> int:
    """The schedule's pass: every campaign running now or ended in the last 30 days."""
    today = timezone.localdate()
    ids = list(Campaign.objects.filter(starts_on__lte=today, ends_on__gte=today - timezone.timedelta(days=30))
               .values_list("pk", flat=True))
    for campaign_id in ids:
        kpi_compute.delay(campaign_id)
    return len(ids)


def kpi_refresh_soon(campaign_ids) -> None:
    """Ask for the campaigns' figures to be recomputed shortly after the current transaction
    commits (nothing happens if it rolls back). Requests made in one transaction make one run per
    campaign, and within DEBOUNCE_SECONDS of a first request further ones join the same run."""
    ids = {campaign_ids} if isinstance(campaign_ids, int) else set(campaign_ids)
    connection = transaction.get_connection()
    registered = {func for _savepoints, func, _robust in connection.run_on_commit}
    for campaign_id in sorted(ids):
        refresh = RefreshAfterCommit(campaign_id)
        if refresh not in registered:
            transaction.on_commit(refresh)


@dataclass(frozen=True)
class RefreshAfterCommit:
    """The on-commit callback for one campaign; equal callbacks are registered once."""

    campaign_id: int

    def __call__(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            kpi_compute.delay(self.campaign_id)  # no worker: compute now, in this process
        elif cache.add(f"kpi-refresh:{self.campaign_id}", 1, timeout=DEBOUNCE_SECONDS):
            kpi_compute.apply_async((self.campaign_id,), countdown=DEBOUNCE_SECONDS)


def kpi_refresh_for_firm(enterprise) -> None:
    """A change to a firm's record, needs or certificates: refresh the campaigns it counts in,
    those with a case for it and those running over its region (needs received)."""
    from django.db.models import Q

    from portal.models import enclosing_codes

    today = timezone.localdate()
    ids = Campaign.objects.filter(
        Q(cases__enterprise=enterprise)
        | Q(region_id__in=enclosing_codes(enterprise.region_id), starts_on__lte=today, ends_on__gte=today)
    ).values_list("pk", flat=True).distinct()
    kpi_refresh_soon(set(ids))
