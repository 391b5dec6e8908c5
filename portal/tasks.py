import socket

from celery import shared_task
from django.utils import timezone

from portal.models import WorkerHeartbeat


@shared_task(name="portal.tasks.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Record that a worker is alive; idempotent (one row, overwritten)."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        name="worker", defaults={"hostname": socket.gethostname(), "seen_at": now}
    )
    return now.isoformat()
