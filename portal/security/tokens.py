"""API tokens for integrations, and the API's authentication classes.

A token is `<prefix>.<secret>`; only the SHA-256 digest of the whole token is stored, so a copy of the
database gives nobody a working token. Tokens expire after API_TOKEN_DAYS and can be revoked.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import authentication, exceptions

from portal.access import STAFF_ROLES
from portal.models import User
from portal.security.events import event_record
from portal.security.models import ApiToken, SecurityEvent

KEYWORD = "Token"
MAX_ACTIVE_TOKENS = 20
# The last-used time is written at most this often, not on every call.
TOUCH_EVERY = timedelta(minutes=5)


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_hold_tokens(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.effective_role in STAFF_ROLES


def tokens_visible_to(user: User) -> QuerySet[ApiToken]:
    """A user sees and revokes their own tokens, nobody else's."""
    if not may_hold_tokens(user):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def token_create(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """A new token for the client `name`; returns the row and the secret, which is never shown again."""
    if not may_hold_tokens(user):
        raise PermissionDenied
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Name the client that will use this token.")})
    days = settings.API_TOKEN_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_DAYS:
        raise ValidationError({"days": _("A token lasts from 1 to %(days)d days.") % {"days": settings.API_TOKEN_DAYS}})
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one count per user at a time
        if tokens_visible_to(user).filter(revoked_at__isnull=True, expires_at__gt=timezone.now()).count() \
                >= MAX_ACTIVE_TOKENS:
            raise ValidationError({"name": _("You have %(count)d active tokens; revoke one first.")
                                   % {"count": MAX_ACTIVE_TOKENS}})
        prefix = secrets.token_hex(4)
        secret = f"{prefix}.{secrets.token_urlsafe(32)}"
        token = ApiToken(user=user, name=name, prefix=prefix, digest=digest_of(secret),
                         expires_at=timezone.now() + timedelta(days=days))
        token.full_clean()
        token.save()
        event_record(kind=SecurityEvent.Kind.TOKEN_CREATED, user=user, detail=f"{name} ({prefix})")
    return token, secret


def token_revoke(*, user: User, token: ApiToken) -> ApiToken:
    if token.user_id != user.pk:
        raise PermissionDenied
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            event_record(kind=SecurityEvent.Kind.TOKEN_REVOKED, user=user, detail=f"{token.name} ({token.prefix})")
    return token


class TokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>`: an active, unexpired token of an active account."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("The Authorization header must be: Token <token>."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("This token is not valid.")) from None
        token = ApiToken.objects.select_related("user").filter(digest=digest_of(raw)).first()
        if token is None or not token.is_active or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This token is not valid, has expired or was revoked."))
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return KEYWORD


class BasicAuthentication(authentication.BasicAuthentication):
    """HTTP basic authentication for development scripts: off in production (API_BASIC_AUTH), and
    never for an account that signs in with a second factor; locked-out accounts are told so."""

    www_authenticate_realm = "api"
    locked_message = gettext_lazy("Too many failed sign-in attempts: this account or address is locked.")

    def authenticate(self, request):
        if not settings.API_BASIC_AUTH:
            return None
        try:
            result = super().authenticate(request)
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False) or getattr(request._request, "axes_locked_out", False):
                raise exceptions.Throttled(detail=str(self.locked_message)) from None
            raise
        if result is not None:
            from django_otp import user_has_device

            user = result[0]
            if user.is_administrator or user_has_device(user):
                raise exceptions.AuthenticationFailed(
                    _("Accounts with two-factor sign-in use an API token, not a password."))
        return result

    def authenticate_header(self, request):
        if not settings.API_BASIC_AUTH:
            return None
        return super().authenticate_header(request)
