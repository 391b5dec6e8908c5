"""Two-factor sign-in with a TOTP authenticator app (django-otp), and one-time recovery codes.

Required for administrators (TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS), open to every staff user. A
user with a confirmed device who has signed in with the password alone reaches nothing but the
code page until the code is accepted.
"""

import secrets

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.access import STAFF_ROLES
from portal.models import User
from portal.security.events import event_record
from portal.security.models import SecurityEvent
from portal.security.passwords import password_expired

Kind = SecurityEvent.Kind
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"
# Whether the account had an authenticator when it signed in: looked up once per session (at
# sign-in, see portal.security.events), not on every request.
HAS_DEVICE = "_security_second_factor"
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def remember_second_factor(request, user: User) -> None:
    request.session[HAS_DEVICE] = user_has_device(user)


def has_second_factor(request) -> bool:
    if HAS_DEVICE not in request.session:
        remember_second_factor(request, request.user)
    return request.session[HAS_DEVICE]


def may_use_two_factor(user: User) -> bool:
    return user.is_authenticated and user.effective_role in STAFF_ROLES


def must_use_two_factor(user: User) -> bool:
    return user.is_authenticated and user.is_administrator and settings.TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed authenticator the user is enrolling, created on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with TWO_FACTOR_RECOVERY_CODES fresh ones; shown once."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
             for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def clean_code(code: str) -> str:
    return "".join(str(code).split()).replace("-", "").lower()


def two_factor_enrol(*, request, user: User, code: str) -> list[str]:
    """Confirm the pending authenticator with a code from it; returns the new recovery codes."""
    if not may_use_two_factor(user):
        raise PermissionDenied
    device = pending_device(user)
    if not device.verify_token(clean_code(code)):
        raise ValidationError({"code": _("This code is not right. Enter the 6 digits the app shows now.")})
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_recovery_codes(user)
        event_record(kind=Kind.TWO_FACTOR_ENROLLED, user=user, request=request)
    otp_login(request, device)
    request.session[HAS_DEVICE] = True
    return codes


def two_factor_verify(*, request, user: User, code: str) -> None:
    """Accept a code from the authenticator, or a recovery code (used up), for this session."""
    code = clean_code(code)
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if totp is not None and code.isdigit():
        allowed, _data = totp.verify_is_allowed()
        if not allowed:
            event_record(kind=Kind.TWO_FACTOR_FAILED, user=user, request=request, detail="throttled")
            raise ValidationError({"code": _("Too many wrong codes. Wait a minute, then try again.")})
        if totp.verify_token(code):
            otp_login(request, totp)
            event_record(kind=Kind.TWO_FACTOR_VERIFIED, user=user, request=request)
            return
    recovery = StaticDevice.objects.filter(user=user, name=RECOVERY_NAME, confirmed=True).first()
    if recovery is not None and not code.isdigit() and recovery.verify_token(code):
        otp_login(request, recovery)
        event_record(kind=Kind.TWO_FACTOR_RECOVERY_USED, user=user, request=request,
                     detail=_("%(count)d recovery codes left") % {"count": recovery.token_set.count()})
        return
    event_record(kind=Kind.TWO_FACTOR_FAILED, user=user, request=request)
    raise ValidationError({"code": _("This code is not right. Enter the 6 digits the app shows now, or one of "
                                     "your recovery codes.")})


def two_factor_reset(*, actor: User, user: User) -> None:
    """An administrator removes a user's authenticator and recovery codes (a lost phone)."""
    if not actor.is_administrator:
        raise PermissionDenied
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        event_record(kind=Kind.TWO_FACTOR_RESET, user=user, actor=actor)


# Pages a user who still owes a second factor (or a new password) may open.
OPEN_URL_NAMES = {"security:2fa-verify", "security:2fa-enrol", "logout", "set_language", "login",
                  "password_change", "password_change_done", "javascript-catalog"}


class TwoFactorMiddleware:
    """Holds a session signed in with the password alone at the code page (or the enrolment page for
    an administrator without an authenticator), and a staff user with an expired password at the
    password page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        held = self.hold(request)
        return held if held is not None else self.get_response(request)

    def hold(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        try:
            url_name = resolve(request.path_info).view_name
        except Resolver404:
            url_name = None
        if url_name in OPEN_URL_NAMES:
            return None
        if not user.is_verified():
            if has_second_factor(request):
                return self.send(request, "security:2fa-verify",
                                 _("Enter the code from your authenticator app to go on."))
            if must_use_two_factor(user):
                return self.send(request, "security:2fa-enrol",
                                 _("Administrators must set up two-factor authentication before going on."))
        if password_expired(user):
            if not request.path.startswith("/api/"):
                messages.warning(request, _("Your password has expired. Choose a new one to go on."))
            return self.send(request, "password_change", _("Your password has expired. Choose a new one to go on."))
        return None

    def send(self, request, url_name: str, message: str):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=403)
        target = reverse(url_name)
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return redirect(target)
