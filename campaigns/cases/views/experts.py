"""Matching and assigning experts to a case, and suggestions for a need before its case opens."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.cases import services
from campaigns.cases.forms import (
    AssignForm,
)
from campaigns.cases.matching import case_words, suggest_experts
from campaigns.cases.models import AssistanceCase
from campaigns.cases.selectors import may_manage_case
from campaigns.cases.views.cases import in_open_case, visible_case
from enterprises.models import NeedRequest
from enterprises.selectors import needs_visible_to
from experts.selectors import experts_visible_to
from portal.access import STAFF_ROLES, has_role, require_roles
from portal.filters import MAX_ID
from portal.forms import add_service_errors
from portal.models import ServiceArea, User

Role = User.Role
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})


def case_service_areas(case: AssistanceCase) -> list[int]:
    """What the case is about: its needs' service areas, or the campaign's when it answers none."""
    areas = list(case.needs.values_list("service_area_id", flat=True).distinct())
    return areas or list(case.campaign.service_areas.values_list("code", flat=True))


def experts_context(request, case: AssistanceCase, form: AssignForm | None = None) -> dict:
    user = request.user
    area_ids = case_service_areas(case)
    return {
        "case": case,
        "service_areas": ServiceArea.objects.filter(code__in=area_ids),
        "suggestions": suggest_experts(user=user, enterprise=case.enterprise, service_area_ids=area_ids,
                                       exclude_case=case, text=case_words(case)),
        "assignments": case.assignments.filter(active=True).select_related("expert", "assigned_by"),
        "form": form,
        "form_expert": form.data.get("expert") if form is not None else None,
    }


@login_required
def case_experts(request, pk: int):
    """The ranked suggestions for the case, each with an Assign button, and who is assigned now."""
    user = request.user
    case = visible_case(user, pk)
    if not may_manage_case(user, case):
        raise PermissionDenied
    return render(request, "campaigns/case_experts.html", experts_context(request, case))


@require_POST
@login_required
def case_assign(request, pk: int):
    user = request.user
    case = visible_case(user, pk)
    if not may_manage_case(user, case):
        raise PermissionDenied
    form = AssignForm(request.POST, experts=experts_visible_to(user))
    if form.is_valid():
        expert = form.cleaned_data["expert"]
        try:
            assignment = services.case_assign_expert(user=user, case=case, expert=expert,
                                                     override_reason=form.cleaned_data["override_reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if assignment.over_capacity:
                messages.warning(request, _("%(name)s is assigned past capacity; the reason is kept.")
                                 % {"name": expert.name})
            else:
                messages.success(request, _("%(name)s is assigned to the case.") % {"name": expert.name})
            return redirect("cases:experts", pk=case.pk)
    return render(request, "campaigns/case_experts.html", experts_context(request, case, form), status=400)


@require_POST
@login_required
def case_release(request, pk: int, expert_pk: int):
    user = request.user
    case = visible_case(user, pk)
    if not may_manage_case(user, case):
        raise PermissionDenied
    if expert_pk > MAX_ID:  # the database cannot even compare it
        raise Http404
    assignment = get_object_or_404(case.assignments.filter(active=True).select_related("expert"), expert_id=expert_pk)
    try:
        services.case_release_expert(user=user, case=case, expert=assignment.expert,
                                     note=request.POST.get("note", "")[:1000])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is released from the case.") % {"name": assignment.expert.name})
    return redirect("cases:experts", pk=case.pk)


@login_required
def need_experts(request, need_pk: int):
    """The ranked experts for a need that has no case yet: read-only, with the way to open one."""
    user = request.user
    require_roles(user, STAFF_ROLES)
    need = get_object_or_404(needs_visible_to(user), pk=need_pk)
    suggestions = suggest_experts(user=user, enterprise=need.enterprise, service_area_ids=[need.service_area_id],
                                  text=f"{need.title} {need.description}")
    can_open = (has_role(user, EDITORS) and need.is_open
                and not NeedRequest.objects.filter(pk=need.pk).filter(in_open_case()).exists())
    return render(request, "campaigns/need_experts.html",
                  {"need": need, "suggestions": suggestions, "can_open": can_open})
