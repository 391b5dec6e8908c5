"""Pages of key industrial parks and key products or services (重点园区、重点产品/服务): the list
of the jurisdiction with the form designating one, and withdrawing one.

Staff of the jurisdiction read; regulators (inside their jurisdiction) and administrators designate
and withdraw; a supervisor reads only. Reads start from
enterprises.designations.selectors.key_designations_visible_to, writes are its services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from enterprises.designations import services
from enterprises.designations.filters import KeyDesignationFilterSet
from enterprises.designations.forms import KeyDesignationForm
from enterprises.designations.models import KeyDesignation
from enterprises.designations.selectors import key_designation_for_change, key_designations_visible_to
from portal.access import EDITORS, PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page, require_roles
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post


class KeyDesignationListView(RoleRequiredMixin, ListView):
    """The designations of the user's jurisdiction, newest first; a POST (regulators and
    administrators) designates one, and answers the list with the form's errors when it is refused."""

    template_name = "enterprises/designation_list.html"
    read_roles = STAFF_ROLES
    http_method_names = ["get", "post"]

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        self.filterset = KeyDesignationFilterSet(self.request.GET,
                                                 queryset=key_designations_visible_to(self.request.user))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        user = self.request.user
        can_designate = has_role(user, EDITORS)
        return super().get_context_data(
            filterset=self.filterset, page_sizes=PAGE_SIZES, kinds=KeyDesignation.Kind.choices,
            can_designate=can_designate, form=getattr(self, "form", None) or (KeyDesignationForm()
                                                                              if can_designate else None),
            **kwargs)

    def post(self, request, *args, **kwargs):
        return designate(request, self)


@idempotent_post
def designate(request, view):
    user = request.user
    require_roles(user, EDITORS)
    form = KeyDesignationForm(request.POST)
    if form.is_valid():
        try:
            designation = services.key_designation_create(user=user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Designated: %(designation)s.") % {"designation": designation})
            return redirect("designations:list")
    view.form = form
    view.object_list = view.get_queryset()
    response = view.render_to_response(view.get_context_data())
    response.status_code = 400
    return response


@login_required
@require_POST
def designation_remove(request, pk: int):
    """Withdraw a designation: 404 outside the jurisdiction, 403 for a role that may not change it."""
    designation = key_designation_for_change(request.user, pk)
    services.key_designation_remove(user=request.user, designation=designation)
    messages.success(request, _("Withdrawn: %(designation)s.") % {"designation": designation})
    return redirect("designations:list")
