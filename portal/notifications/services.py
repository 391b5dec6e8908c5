"""Every write to notifications: telling people (`notify`), reading, preferences, unsubscribing."""

from collections.abc import Iterable
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import outbox
from portal.models import User
from portal.notifications.channels import channels
from portal.notifications.kinds import KINDS, Kind
from portal.notifications.models import Delivery, Notification, NotificationPreference

TOPIC = "notifications"
Email = NotificationPreference.Email
UNSUBSCRIBE_SALT = "portal.notifications.unsubscribe"


def render(kind: Kind, params: dict[str, Any], language: str) -> tuple[str, str]:
    """The kind's title and body in `language`, placeholders filled (lazy values translated too)."""
    with translation.override(language):
        values = {name: str(value) for name, value in params.items()}
        return str(kind.title) % values, str(kind.body) % values


def notify(recipients: Iterable[User], kind: str, *, params: dict[str, Any] | None = None, link: str = "",
           obj=None, key: str = "") -> list[Notification]:
    """Tell each active recipient about an event, in the caller's transaction.

    The caller chooses the recipients by what they may see (the firm's accounts, the lead
    regulator, the assigned expert) and passes only what they may read in `params`. Each
    notification gets a pending delivery per channel its recipient wants it by; the outbox entry
    wakes a worker to send them once the transaction commits. With a `key`, a recipient who was
    already told of that event is left out.
    """
    spec = KINDS[kind]
    params = params or {}
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    if not people:
        return []
    with transaction.atomic():
        if key:
            told = set(Notification.objects.filter(recipient__in=people, key=key)
                       .values_list("recipient_id", flat=True))
            people = {pk: user for pk, user in people.items() if pk not in told}
        now = timezone.now()
        notes = []
        for user in people.values():
            title, body = render(spec, params, user.language)
            notes.append(Notification(
                recipient=user, kind=kind, title=title, body=body, link=link, key=key, created_at=now,
                object_type=obj._meta.model_name if obj is not None else "",
                object_id=str(obj.pk) if obj is not None else "",
            ))
        notes = Notification.objects.bulk_create(notes)
        modes = dict(NotificationPreference.objects.filter(user__in=people, kind=kind).values_list("user_id", "email"))
        deliveries = []
        for note in notes:
            mode = modes.get(note.recipient_id, Email.INSTANT)
            for channel in channels():
                if mode == Email.OFF or not channel.address(note.recipient):
                    continue
                if mode == Email.DIGEST and not channel.supports_digest:
                    continue
                deliveries.append(Delivery(notification=note, channel=channel.name, digest=mode == Email.DIGEST))
        Delivery.objects.bulk_create(deliveries)
        if any(not delivery.digest for delivery in deliveries):
            outbox.record(TOPIC)
    return notes


def notification_open(*, user: User, notification: Notification) -> Notification:
    """Opening a notification marks it read (once; the first time is kept)."""
    if notification.recipient_id != user.pk:
        raise ValidationError(_("This notification is not yours."))
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def preference_set(*, user: User, kind: str, email: str) -> NotificationPreference:
    if kind not in KINDS:
        raise ValidationError({"kind": _("Unknown kind of notification.")})
    if email not in Email.values:
        raise ValidationError({"email": _("Choose one of: only in the portal, at once, daily digest.")})
    preference, _created = NotificationPreference.objects.update_or_create(user=user, kind=kind,
                                                                          defaults={"email": email})
    return preference


def preferences_set(*, user: User, choices: dict[str, str], language: str | None = None) -> None:
    """The preferences page's save: every kind's choice and the language, together or not at all."""
    with transaction.atomic():
        for kind, email in choices.items():
            preference_set(user=user, kind=kind, email=email)
        if language is not None and language != user.language:
            user.language = language
            user.save(update_fields=["language"])


def preferences_of(user: User) -> dict[str, str]:
    """Each kind the user can receive with their choice (the default where they made none)."""
    from portal.notifications.kinds import kinds_for

    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "email"))
    return {kind.name: chosen.get(kind.name, Email.INSTANT) for kind in kinds_for(user)}


def unsubscribe_token(user: User, kind: str) -> str:
    """A signed token that switches off the emails of one kind for one user, without signing in."""
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_target(token: str) -> tuple[User, str]:
    """The user and kind a token names; ValidationError for a forged or damaged one."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        user = User.objects.get(pk=data["u"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist):
        raise ValidationError(_("This unsubscribe link is not valid.")) from None
    if data["k"] not in KINDS:
        raise ValidationError(_("This unsubscribe link is not valid."))
    return user, data["k"]


def unsubscribe(*, token: str) -> NotificationPreference:
    user, kind = unsubscribe_target(token)
    return preference_set(user=user, kind=kind, email=Email.OFF)
