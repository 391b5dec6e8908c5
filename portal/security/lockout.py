"""Sign-in lockout glue for django-axes: the message with the time to wait, and lifting a lockout."""

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import User
from portal.security.events import event_record
from portal.security.models import SecurityEvent


class PortalLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with a limit of its own for an address.

    A whole bureau often reaches the portal through one address, so an address is locked only after
    AXES_ADDRESS_FAILURE_LIMIT failures, an account after AXES_FAILURE_LIMIT. Axes compares one count
    with one limit, so the address count is scaled onto the account limit.
    """

    def get_failures(self, request, credentials=None) -> int:
        by_account, by_address = [
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        ]
        scaled = by_address * settings.AXES_FAILURE_LIMIT // settings.AXES_ADDRESS_FAILURE_LIMIT
        return max(by_account, scaled)

    def user_logged_in(self, sender, request, user, **kwargs):
        """A sign-in clears that account's failures only (AXES_RESET_ON_SUCCESS is off): otherwise
        anybody signing in from a shared address would clear another account's lockout."""
        super().user_logged_in(sender, request, user, **kwargs)
        AccessAttempt.objects.filter(username=user.get_username()).delete()


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def recent_attempts() -> QuerySet[AccessAttempt]:
    """Failure counters still inside the cool-off time, the only ones that can lock anybody out."""
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off())


def minutes_to_wait(*, username: str | None, ip_address: str | None) -> int:
    """Whole minutes until the last failure of this account or address leaves the cool-off time."""
    match = Q(pk__in=[])
    if username:
        match |= Q(username=username)
    if ip_address:
        match |= Q(ip_address=ip_address)
    last = recent_attempts().filter(match).order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if last is None:
        return math.ceil(cool_off().total_seconds() / 60)
    seconds = (last + cool_off() - timezone.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))


def lockout_message(minutes: int) -> str:
    return ngettext(
        "Too many failed sign-in attempts: this account or address is locked. Try again in %(minutes)d minute, "
        "or ask an administrator to lift the lockout.",
        "Too many failed sign-in attempts: this account or address is locked. Try again in %(minutes)d minutes, "
        "or ask an administrator to lift the lockout.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page (or a JSON body for the API) saying how long to wait."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    minutes = minutes_to_wait(username=username, ip_address=get_client_ip_address(request))
    message = lockout_message(minutes)
    retry_after = str(minutes * 60)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429, headers={"Retry-After": retry_after})
    form = AuthenticationForm(request, initial={"username": username})
    response = render(request, "registration/login.html",
                      {"form": form, "lockout_message": message, "next": request.POST.get("next", "")}, status=429)
    response["Retry-After"] = retry_after
    return response


def lockouts() -> list[dict]:
    """Accounts and addresses locked out now: what the administrators' page lists."""
    rows = []
    attempts = list(recent_attempts().order_by("-attempt_time"))
    by_username: dict[str, int] = {}
    by_address: dict[str, int] = {}
    for attempt in attempts:
        if attempt.username:
            by_username[attempt.username] = by_username.get(attempt.username, 0) + attempt.failures_since_start
        if attempt.ip_address:
            by_address[attempt.ip_address] = by_address.get(attempt.ip_address, 0) + attempt.failures_since_start
    for attempt in attempts:
        locked_user = attempt.username and by_username.get(attempt.username, 0) >= settings.AXES_FAILURE_LIMIT
        locked_address = (attempt.ip_address
                          and by_address.get(attempt.ip_address, 0) >= settings.AXES_ADDRESS_FAILURE_LIMIT)
        if locked_user or locked_address:
            rows.append({"attempt": attempt, "locked_username": bool(locked_user),
                         "locked_address": bool(locked_address),
                         "until": attempt.attempt_time + cool_off()})
    return rows


def lockout_lift(*, actor: User, attempt_id: int) -> int:
    """An administrator lifts the lockout of an attempt's account and address; returns counters removed."""
    if not actor.is_administrator:
        raise PermissionDenied
    attempt = AccessAttempt.objects.get(pk=attempt_id)
    with transaction.atomic():
        removed = 0
        if attempt.username:
            removed += reset(username=attempt.username)
        if attempt.ip_address:
            removed += reset(ip=attempt.ip_address)
        user = User.objects.filter(username=attempt.username).first() if attempt.username else None
        event_record(kind=SecurityEvent.Kind.LOCKOUT_LIFTED, user=user, username=attempt.username or "",
                     actor=actor, detail=_("address %(ip)s") % {"ip": attempt.ip_address or "—"})
    return removed
