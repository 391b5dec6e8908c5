"""Sending notifications out of the portal, from the Delivery table, at most once each.

A delivery is claimed before it is sent: in one transaction the row moves from "pending" to
"sending", with a lease and a claim token (SKIP LOCKED, so workers running side by side take
different rows), and only the claimant sends it and marks it "sent". A second run of the task
finds nothing pending. A worker that dies after claiming leaves the row "sending"; when the lease
runs out it is marked failed rather than sent again, because the message may already have left:
the notification itself stays in the person's inbox. A transient failure (the server away, a
4xx answer) puts the row back to "pending" with a growing delay; a permanent one (a 5xx answer,
no address) marks it failed with the reason.
"""

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.models import User
from portal.notifications.channels import Message, PermanentError, TransientError, channels
from portal.notifications.kinds import KINDS
from portal.notifications.models import Delivery, Notification

logger = logging.getLogger(__name__)
State = Delivery.State

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 6
# Waits between attempts: 1, 2, 4, 8, 16 minutes.
BACKOFF_BASE = timedelta(minutes=1)


def absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def unsubscribe_url(user: User, kind: str) -> str:
    from portal.notifications.services import unsubscribe_token

    return absolute(reverse("notifications:unsubscribe", args=[unsubscribe_token(user, kind)]))


def compose(notification: Notification) -> Message:
    """The email of one notification: its title, body, a link that opens it, and the way out."""
    user = notification.recipient
    with translation.override(user.language):
        label = KINDS[notification.kind].label if notification.kind in KINDS else notification.kind
        unsubscribe = unsubscribe_url(user, notification.kind)
        lines = [notification.body or notification.title, ""]
        if notification.link:
            lines += [_("Open it in the portal:"), absolute(reverse("notifications:open", args=[notification.pk])), ""]
        lines += ["-- ", _("You receive this email because you chose to be told of “%(kind)s” by email.")
                  % {"kind": label},
                  _("Stop these emails: %(url)s") % {"url": unsubscribe},
                  _("All your choices: %(url)s") % {"url": absolute(reverse("notifications:preferences"))}]
        return Message(recipient=user, subject=notification.title, text="\n".join(lines), unsubscribe_url=unsubscribe)


def compose_digest(user: User, notifications: list[Notification]) -> Message:
    with translation.override(user.language):
        subject = _("Your daily digest: %(count)d notifications") % {"count": len(notifications)}
        lines = [subject, ""]
        for number, note in enumerate(notifications, start=1):
            lines.append(f"{number}. {note.title}")
            if note.body:
                lines.append(f"   {note.body}")
            if note.link:
                lines.append("   " + absolute(reverse("notifications:open", args=[note.pk])))
            label = KINDS[note.kind].label if note.kind in KINDS else note.kind
            lines.append("   " + _("No more “%(kind)s” emails: %(url)s")
                         % {"kind": label, "url": unsubscribe_url(user, note.kind)})
            lines.append("")
        lines += ["-- ", _("All your choices: %(url)s") % {"url": absolute(reverse("notifications:preferences"))}]
        return Message(recipient=user, subject=subject, text="\n".join(lines))


def expire_leases(now=None) -> int:
    """Rows whose worker died while sending: failed, never sent again (it may have gone out)."""
    now = now or timezone.now()
    return Delivery.objects.filter(state=State.SENDING, lease_until__lt=now).update(
        state=State.FAILED, claim="", last_error="The worker stopped while sending; not sent again, as the "
                                                 "message may already have gone out.")


def claim(condition: Q, *, limit: int) -> tuple[str, list[Delivery]]:
    """Take up to `limit` due pending deliveries matching `condition` for this run alone."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        ids = list(Delivery.objects.select_for_update(skip_locked=True)
                   .filter(condition, state=State.PENDING, next_attempt_at__lte=now)
                   .order_by("id").values_list("pk", flat=True)[:limit])
        if not ids:
            return token, []
        Delivery.objects.filter(pk__in=ids, state=State.PENDING).update(
            state=State.SENDING, claim=token, lease_until=now + LEASE, attempts=F("attempts") + 1)
    claimed = list(Delivery.objects.filter(claim=token, state=State.SENDING)
                   .select_related("notification__recipient").order_by("id"))
    return token, claimed


def settle(token: str, pks: list[int], error: Exception | None, attempts: int) -> None:
    """Record how the claimed rows went: sent, back to pending for later, or failed."""
    rows = Delivery.objects.filter(pk__in=pks, claim=token, state=State.SENDING)
    now = timezone.now()
    if error is None:
        rows.update(state=State.SENT, sent_at=now, claim="", lease_until=None, last_error="")
    elif isinstance(error, TransientError) and attempts < MAX_ATTEMPTS:
        rows.update(state=State.PENDING, claim="", lease_until=None, last_error=str(error)[:2000],
                    next_attempt_at=now + BACKOFF_BASE * (2 ** (attempts - 1)))
    else:
        rows.update(state=State.FAILED, claim="", lease_until=None, last_error=str(error)[:2000])


def channel_named(name: str):
    for channel in channels():
        if channel.name == name:
            return channel
    return None


def send_claimed(token: str, deliveries: list[Delivery], message: Message, channel_name: str) -> bool:
    channel = channel_named(channel_name)
    pks = [delivery.pk for delivery in deliveries]
    attempts = max(delivery.attempts for delivery in deliveries)
    error: Exception | None = None
    if channel is None:
        error = PermanentError(f"No channel named {channel_name!r} is configured.")
    else:
        try:
            channel.send(message)
        except (TransientError, PermanentError) as failure:
            error = failure
            logger.warning("Sending %s by %s failed: %s", pks, channel_name, failure)
    settle(token, pks, error, attempts)
    return error is None


def deliver_due(*, seconds: float = 120.0) -> int:
    """Send the pending instant deliveries that are due, one claim at a time; returns how many went."""
    expire_leases()
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        token, claimed = claim(Q(digest=False), limit=1)
        if not claimed:
            break
        delivery = claimed[0]
        try:
            message = compose(delivery.notification)
        except Exception as error:  # noqa: BLE001 - a broken template must not leave the row claimed
            settle(token, [delivery.pk], PermanentError(f"Could not compose: {error}"), delivery.attempts)
            continue
        sent += send_claimed(token, claimed, message, delivery.channel)
    return sent


def digests_send(*, seconds: float = 240.0) -> int:
    """One email per person with digest deliveries waiting, listing them all; returns emails sent.

    A rerun sends nothing new: every listed delivery is claimed before the email goes and
    marked sent with it."""
    expire_leases()
    deadline = time.monotonic() + seconds
    people = list(Delivery.objects.filter(state=State.PENDING, digest=True, next_attempt_at__lte=timezone.now())
                  .values_list("notification__recipient_id", "channel").distinct().order_by())
    sent = 0
    for user_id, channel_name in people:
        if time.monotonic() > deadline:
            break
        token, claimed = claim(Q(digest=True, channel=channel_name, notification__recipient_id=user_id), limit=500)
        if not claimed:
            continue
        notes = sorted((delivery.notification for delivery in claimed), key=lambda note: (note.created_at, note.pk))
        message = compose_digest(notes[0].recipient, notes)
        sent += send_claimed(token, claimed, message, channel_name)
    return sent
