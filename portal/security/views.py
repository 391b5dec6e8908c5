"""Pages: two-factor enrolment and sign-in, API tokens, and the administrators' lockout, 2FA and
security-event pages."""

import segno
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticToken

from portal.access import PAGE_SIZES, per_page, require_roles
from portal.forms import add_service_errors
from portal.models import User
from portal.security import lockout, tokens, twofactor
from portal.security.filters import SecurityEventFilterSet
from portal.security.forms import CodeForm, TokenForm
from portal.security.models import SecurityEvent

ADMINISTRATORS = frozenset({User.Role.ADMINISTRATOR})


def next_url(request, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def qr_svg(data: str) -> str:
    """The enrolment QR code as an SVG data URI (shown as an <img>: no inline markup or style)."""
    return segno.make(data, error="m").svg_data_uri(scale=5, border=2)


@login_required
def two_factor(request):
    """The user's two-factor status: set up or change the authenticator, new recovery codes."""
    if not twofactor.may_use_two_factor(request.user):
        raise PermissionDenied
    return render(request, "security/two_factor.html", {
        "enrolled": user_has_device(request.user),
        "required": twofactor.must_use_two_factor(request.user),
        "recovery_left": StaticToken.objects.filter(device__user=request.user).count(),
    })


@login_required
def two_factor_enrol(request):
    user = request.user
    if not twofactor.may_use_two_factor(user):
        raise PermissionDenied
    if user_has_device(user) and not user.is_verified():
        return redirect("security:2fa-verify")
    device = twofactor.pending_device(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = twofactor.two_factor_enrol(request=request, user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Two-factor authentication is on. Keep the recovery codes somewhere safe."))
            return render(request, "security/recovery_codes.html", {"codes": codes, "next": next_url(request)})
    return render(request, "security/two_factor_enrol.html", {
        "form": form, "qr": qr_svg(device.config_url), "secret": device_secret(device), "next": next_url(request, ""),
    })


def device_secret(device) -> str:
    """The key in base32, in groups of four, for typing into an app that cannot scan."""
    import base64

    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i:i + 4] for i in range(0, len(key), 4))


@login_required
def two_factor_verify(request):
    user = request.user
    if user.is_verified() or not user_has_device(user):
        twofactor.remember_second_factor(request, user)  # an administrator may have reset it meanwhile
        return redirect(next_url(request))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            twofactor.two_factor_verify(request=request, user=user, code=form.cleaned_data["code"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect(next_url(request))
    return render(request, "security/two_factor_verify.html", {"form": form, "next": next_url(request, "")})


@login_required
@require_POST
def two_factor_recovery_codes(request):
    user = request.user
    if not user_has_device(user) or not user.is_verified():
        raise PermissionDenied
    codes = twofactor.new_recovery_codes(user)
    return render(request, "security/recovery_codes.html", {"codes": codes, "next": "security:2fa"})


# --- API tokens ----------------------------------------------------------------------------------

@login_required
def token_list(request):
    """The user's API tokens: create one (its secret shown once), see when each was used, revoke."""
    if not tokens.may_hold_tokens(request.user):
        raise PermissionDenied
    form = TokenForm(request.POST or None, initial={"days": settings.API_TOKEN_DAYS})
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = tokens.token_create(user=request.user, name=form.cleaned_data["name"],
                                                 days=form.cleaned_data["days"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            form = TokenForm(initial={"days": settings.API_TOKEN_DAYS})
    return render(request, "security/token_list.html", {
        "tokens": tokens.tokens_visible_to(request.user), "form": form, "secret": secret,
    })


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(tokens.tokens_visible_to(request.user), pk=pk)
    tokens.token_revoke(user=request.user, token=token)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("security:tokens")


# --- Administrators ------------------------------------------------------------------------------

@login_required
def lockout_list(request):
    require_roles(request.user, ADMINISTRATORS)
    return render(request, "security/lockout_list.html", {
        "lockouts": lockout.lockouts(), "limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    })


@login_required
@require_POST
def lockout_lift(request, pk: int):
    require_roles(request.user, ADMINISTRATORS)
    attempt = get_object_or_404(AccessAttempt, pk=pk)
    lockout.lockout_lift(actor=request.user, attempt_id=attempt.pk)
    name = attempt.username or attempt.ip_address
    messages.success(request, _("The lockout of %(name)s is lifted.") % {"name": name})
    return redirect("security:lockouts")


@login_required
@require_POST
def two_factor_reset(request):
    """An administrator resets the second factor of an account by its user name (a lost phone)."""
    require_roles(request.user, ADMINISTRATORS)
    user = User.objects.filter(username=request.POST.get("username", "").strip()).first()
    if user is None:
        messages.error(request, _("No account has this user name."))
        return redirect("security:events")
    twofactor.two_factor_reset(actor=request.user, user=user)
    messages.success(request, _("Two-factor authentication of %(name)s is reset: they set it up again at their "
                                "next sign-in.") % {"name": user.username})
    return redirect("security:events")


@login_required
def event_list(request):
    """Security events, newest first, filtered by account or address, kind and dates."""
    require_roles(request.user, ADMINISTRATORS)
    events = SecurityEvent.objects.select_related("user", "actor")
    filterset = SecurityEventFilterSet(request.GET, queryset=events)
    page = Paginator(filterset.qs, per_page(request)).get_page(request.GET.get("page"))
    return render(request, "security/event_list.html", {
        "filterset": filterset, "page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages(),
        "events": page.object_list, "page_sizes": PAGE_SIZES,
    })
