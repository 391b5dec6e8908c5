"""Session limits: an idle timeout and an absolute lifetime on top of ending at browser close."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext as _

from portal.security.events import current_request, event_record
from portal.security.models import SecurityEvent

STARTED = "_security_started"
LAST_SEEN = "_security_last_seen"
# The last-seen time is written back at most this often, so a burst of requests is one session save.
TOUCH_EVERY_SECONDS = 60


def session_expiry_reason(session, now: float) -> str | None:
    """Why the signed-in session has ended, or None while it is still good."""
    started = session.get(STARTED)
    last_seen = session.get(LAST_SEEN)
    if started is not None and now - started > settings.SESSION_COOKIE_AGE:
        return "lifetime"
    if last_seen is not None and now - last_seen > settings.SESSION_IDLE_SECONDS:
        return "idle"
    return None


def session_start(session) -> None:
    """Called at sign-in (portal.security.events): the session's clocks start."""
    now = time.time()
    session[STARTED] = now
    session[LAST_SEEN] = now


class SessionLimitsMiddleware:
    """Signs out a session idle for SESSION_IDLE_SECONDS or older than SESSION_COOKIE_AGE.

    Also keeps the request in progress for security events recorded deeper down.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            ended = self.check(request)
            if ended is not None:
                return ended
            return self.get_response(request)
        finally:
            current_request.reset(token)

    def check(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        session = request.session
        now = time.time()
        reason = session_expiry_reason(session, now)
        if reason is not None:
            event_record(kind=SecurityEvent.Kind.SESSION_EXPIRED, user=user, request=request, detail=reason)
            logout(request)
            if request.path.startswith("/api/"):
                return None  # the API then answers as to anybody not signed in
            if reason == "idle":
                messages.info(request, _("You were signed out after %(minutes)d minutes without activity. "
                                         "Please sign in again.") % {"minutes": settings.SESSION_IDLE_SECONDS // 60})
            else:
                messages.info(request, _("Your session reached its maximum length of %(hours)d hours. "
                                         "Please sign in again.") % {"hours": settings.SESSION_COOKIE_AGE // 3600})
            return redirect_to_login(request.get_full_path() if request.method == "GET" else "/")
        if STARTED not in session:
            session[STARTED] = now
        if now - session.get(LAST_SEEN, 0) >= TOUCH_EVERY_SECONDS:
            session[LAST_SEEN] = now
        return None
