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


@shared_task(name="portal.tasks.outbox_drain", ignore_result=True)
def outbox_drain() -> int:
    """The schedule's pass over the outbox, in case a worker's listener missed a commit; safe to
    run at the same time as the listeners (they skip what another holds)."""
    from portal import outbox

    return outbox.drain_all(seconds=180)


@shared_task(name="portal.tasks.idempotency_keys_forget", ignore_result=True)
def idempotency_keys_forget() -> int:
    from portal import idempotency

    return idempotency.forget_old()


@shared_task(name="portal.tasks.notifications_deliver", ignore_result=True)
def notifications_deliver() -> int:
    """Send the notifications' emails that are due; safe to run twice at once (rows are claimed)."""
    from portal.notifications import delivery

    return delivery.deliver_due()


@shared_task(name="portal.tasks.notifications_digest", ignore_result=True)
def notifications_digest() -> int:
    """The daily digest: one email per person listing what waited for it; a rerun sends nothing new."""
    from portal.notifications import delivery

    return delivery.digests_send()
