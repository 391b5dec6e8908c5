"""Celery tasks of the KPI engine: thin wrappers taking ids and calling it.

Updates need no task of their own: writes note their changes in the outbox, which the workers
drain (portal/outbox.py, campaigns/kpis/changes.py). These are the full counts that check them.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from campaigns.kpis import engine as kpis
from campaigns.models import Campaign


@shared_task(
    name="campaigns.tasks.kpi_compute",
    bind=True,
    ignore_result=True,
    # A lost or refused database connection (a restart, a failover) is worth another try; any
    # other error is a bug and is left to the logs, not repeated.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
    # Both limits stay below the broker's visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS), so a
    # running count is handed to another worker only once its worker is gone.
    soft_time_limit=540,
    time_limit=600,
)
def kpi_compute(self, campaign_id: int) -> None:
    """Count one campaign's figures in full and put right what is stored. Safe to run twice or at
    the same time, and after a worker died half-way (its transaction rolled back)."""
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
