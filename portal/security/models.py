"""Security events, password history and API tokens."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyQuerySet(models.QuerySet):
    """Security events are written once and never changed: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise PermissionError("Security events cannot be changed.")

    def delete(self):
        raise PermissionError("Security events cannot be deleted.")


class SecurityEvent(models.Model):
    """A sign-in, sign-out, lockout, password change, 2FA or token event (安全审计事件).

    Append-only like the audit trail: the model refuses changes and deletes, and on PostgreSQL a
    trigger refuses UPDATE, DELETE and TRUNCATE from any client (migration 0001). Kept at least 180
    days (Cybersecurity Law art. 21); nothing in the portal removes them.
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        LOCKOUT_LIFTED = "lockout_lifted", _("Lockout lifted")
        SIGN_OUT = "sign_out", _("Signed out")
        SESSION_EXPIRED = "session_expired", _("Session expired")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        TWO_FACTOR_ENROLLED = "2fa_enrolled", _("Two-factor authentication enrolled")
        TWO_FACTOR_VERIFIED = "2fa_verified", _("Two-factor code accepted")
        TWO_FACTOR_FAILED = "2fa_failed", _("Two-factor code refused")
        TWO_FACTOR_RECOVERY_USED = "2fa_recovery", _("Recovery code used")
        TWO_FACTOR_RESET = "2fa_reset", _("Two-factor authentication reset")
        TOKEN_CREATED = "token_created", _("API token created")
        TOKEN_REVOKED = "token_revoked", _("API token revoked")

    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    # PROTECT: an account with history is deactivated, never deleted.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="+")
    username = models.CharField(_("user name"), max_length=150, blank=True,
                                help_text=_("As typed, also when no account has this name."))
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+",
                              help_text=_("Who did it, when not the account itself (an administrator)."))
    detail = models.CharField(_("detail"), max_length=255, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        indexes = [
            models.Index(fields=["kind", "-at"], name="security_event_kind_idx"),
            models.Index(fields=["username", "-at"], name="security_event_username_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.username}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Security events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Security events cannot be deleted.")


class PasswordRecord(models.Model):
    """A password a user has had, as its hash: refuses reuse and dates the current one for expiry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_records")
    password = models.CharField(max_length=128)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("former password")
        verbose_name_plural = _("former passwords")

    def __str__(self) -> str:
        return f"{self.user_id} {self.changed_at:%Y-%m-%d}"


class ApiToken(models.Model):
    """A token an integration signs in to the API with (接口令牌).

    Only a SHA-256 digest of the secret is stored; the secret is shown once, when created. The
    first characters (`prefix`) let the owner tell tokens apart in the list.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("client name"), max_length=80)
    prefix = models.CharField(_("starts with"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()
