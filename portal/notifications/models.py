"""What a person is told (in the portal and by email), what they want to be told, and how each
message went out."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one person (站内通知): a need declined, an expert assigned, a follow-up due.

    Title and body are written at the moment of the event, in the recipient's language, from the
    kind's templates (kinds.py), and say nothing the recipient may not see. `key` names the event
    for scheduled reminders (kind, object and date), so a rerun of the same day's job adds nothing.
    """

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.CASCADE,
                                  related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32)
    title = models.TextField(_("title"))
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    object_type = models.CharField(_("object type"), max_length=32, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    key = models.CharField(_("event key"), max_length=120, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], condition=~Q(key=""),
                                    name="notification_one_per_event_key"),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            models.Index(fields=["created_at", "kind"], name="notification_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    """How a person wants one kind of notification outside the portal: not at all, at once, or
    gathered in a daily digest. Without a row the kind's default applies (kinds.py)."""

    class Email(models.TextChoices):
        OFF = "off", _("Only in the portal")
        INSTANT = "instant", _("By email at once")
        DIGEST = "digest", _("In a daily email digest")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="notification_preferences")
    kind = models.CharField(_("kind"), max_length=32)
    email = models.CharField(_("email"), max_length=8, choices=Email.choices, default=Email.INSTANT)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}: {self.email}"


class Delivery(models.Model):
    """One notification sent by one channel (email; a bureau may add SMS).

    A worker claims a pending row (state "sending", a lease, a claim token) before it hands the
    message to the channel, and marks it sent afterwards; a second run of the task finds nothing
    pending, and a row whose worker died while sending is never sent again (the lease runs out and
    it is marked failed), so no one gets a message twice.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=16)
    digest = models.BooleanField(_("in the daily digest"), default=False)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_until = models.DateTimeField(_("lease until"), null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel"),
        ]
        indexes = [
            models.Index(fields=["state", "digest", "next_attempt_at"], name="delivery_due_idx",
                         condition=Q(state__in=["pending", "sending"])),
            models.Index(fields=["claim"], name="delivery_claim_idx", condition=~Q(claim="")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.notification_id}: {self.state}"
