"""Pages: the inbox, opening a notification, marking all read, preferences, and unsubscribing
from an email's link (which works without signing in)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import PAGE_SIZES, per_page
from portal.notifications import services
from portal.notifications.filters import NotificationFilterSet
from portal.notifications.forms import PreferencesForm
from portal.notifications.kinds import KINDS, kinds_for
from portal.notifications.selectors import notifications_visible_to, unread_count


@login_required
@require_GET
def inbox(request):
    """The user's notifications, newest first, unread marked; filter by kind or unread."""
    filterset = NotificationFilterSet(request.GET, notifications_visible_to(request.user))
    page = Paginator(filterset.qs, per_page(request)).get_page(request.GET.get("page"))
    return render(request, "portal/notifications/inbox.html", {
        "filter": filterset, "page_obj": page, "paginator": page.paginator, "is_paginated": page.has_other_pages(),
        "notifications": page.object_list, "unread": unread_count(request.user), "page_sizes": PAGE_SIZES,
        "kinds": KINDS,
    })


@login_required
@require_GET
def bell(request):
    """The bell's unread count, fetched by the navigation bar after the page loads (and every 30 s)."""
    return render(request, "portal/notifications/_bell.html", {"unread": unread_count(request.user)})


@login_required
@require_GET
def notification_open(request, pk: int):
    """Mark read and go to the object; its own page checks again that the user may see it."""
    notification = get_object_or_404(notifications_visible_to(request.user), pk=pk)
    services.notification_open(user=request.user, notification=notification)
    if notification.link and url_has_allowed_host_and_scheme(notification.link, {request.get_host()},
                                                              request.is_secure()):
        return redirect(notification.link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)d notifications marked read.") % {"count": count})
    return redirect("notifications:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    user = request.user
    kinds = kinds_for(user)
    form = PreferencesForm(request.POST or None, kinds=kinds, initial_choices=services.preferences_of(user),
                           initial={"language": user.language})
    if request.method == "POST" and form.is_valid():
        services.preferences_set(user=user, choices=form.choices(), language=form.cleaned_data["language"])
        messages.success(request, _("Your notification preferences were saved."))
        return redirect("notifications:preferences")
    return render(request, "portal/notifications/preferences.html", {"form": form})


@csrf_exempt  # a mail client's one-click unsubscribe posts without a form; the signed token is the credential
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """An email's unsubscribe link: GET asks to confirm, POST (also a mail client's one-click) stops
    that kind of email for that person. The signed token is the only credential."""
    try:
        user, kind = services.unsubscribe_target(token)
    except ValidationError as error:
        return render(request, "portal/notifications/unsubscribe.html", {"error": error.messages[0]}, status=404)
    if request.method == "POST":
        services.unsubscribe(token=token)
        return render(request, "portal/notifications/unsubscribe.html", {"done": True, "kind": KINDS[kind],
                                                                          "person": user})
    return render(request, "portal/notifications/unsubscribe.html", {"kind": KINDS[kind], "person": user,
                                                                      "token": token})
