"""Security events: every sign-in, failure, lockout, sign-out, password change, 2FA and token event.

Receivers of Django's and django-axes' signals record them; the request in progress (kept by
SessionLimitsMiddleware) gives the address and browser when a signal does not carry the request.
"""

from contextvars import ContextVar

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal.models import User
from portal.security.models import SecurityEvent

Kind = SecurityEvent.Kind

current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)


def client_address(request) -> str | None:
    """The client's address as django-axes sees it (REMOTE_ADDR unless trusted proxies are set)."""
    if request is None:
        return None
    address = getattr(request, "axes_ip_address", None)
    if address:
        return address
    try:
        return get_client_ip_address(request) or None
    except Exception:  # a request object without META (a test calling authenticate() directly)
        return None


def event_record(*, kind: str, user: User | None = None, username: str = "", request=None,
                 actor: User | None = None, detail: str = "") -> SecurityEvent:
    """Append one security event; `request` defaults to the request in progress."""
    request = request if request is not None else current_request.get()
    if user is not None and not user.is_authenticated:
        user = None
    meta = getattr(request, "META", {}) if request is not None else {}
    return SecurityEvent.objects.create(
        kind=kind, user=user, username=(username or (user.get_username() if user else ""))[:150],
        ip_address=client_address(request), user_agent=str(meta.get("HTTP_USER_AGENT", ""))[:255],
        actor=actor if actor is not None and actor.is_authenticated else None, detail=detail[:255],
    )


@receiver(user_logged_in, dispatch_uid="security_sign_in")
def on_sign_in(sender, request, user, **kwargs):
    from portal.security.sessions import session_start
    from portal.security.twofactor import remember_second_factor

    if request is not None and hasattr(request, "session"):
        session_start(request.session)
        remember_second_factor(request, user)
    event_record(kind=Kind.SIGN_IN, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="security_sign_in_failed")
def on_sign_in_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username") or "")
    user = User.objects.filter(username=username).first() if username else None
    event_record(kind=Kind.SIGN_IN_FAILED, user=user, username=username, request=request)


@receiver(user_locked_out, dispatch_uid="security_locked_out")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    user = User.objects.filter(username=username).first() if username else None
    event_record(kind=Kind.LOCKED_OUT, user=user, username=username or "", request=request)


@receiver(user_logged_out, dispatch_uid="security_sign_out")
def on_sign_out(sender, request, user, **kwargs):
    if user is not None:
        event_record(kind=Kind.SIGN_OUT, user=user, request=request)
