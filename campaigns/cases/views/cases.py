"""Case pages for phone and desk: the list, opening a case, its page, editing, the lifecycle,
closing and the firm's rating."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from campaigns.cases import services
from campaigns.cases.filters import CaseFilterSet
from campaigns.cases.forms import (
    CaseCloseForm,
    CaseEditForm,
    CaseOpenForm,
    RatingForm,
    TransitionForm,
    next_status,
)
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseRating, Visit
from campaigns.cases.selectors import (
    action_first,
    cases_visible_to,
    is_assigned_expert,
    may_manage_case,
    may_rate_case,
    shows_internal_remarks,
    visits_visible_to,
)
from campaigns.selectors import campaigns_for_entry, campaigns_open_for, campaigns_visible_to
from enterprises.models import Enterprise, NeedRequest
from enterprises.selectors import enterprises_visible_to, needs_visible_to
from experts.models import Expert
from portal.access import ALL_ROLES, PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page, require_roles
from portal.audit import audit_entries_for, audit_entries_visible_to, with_rows
from portal.filters import MAX_ID
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.models import User, enclosing_codes

Role = User.Role
Status = AssistanceCase.Status
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})
LIFECYCLE = [Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS, Status.CLOSED]
AUDIT_ROWS = 200


def visible_case(user: User, pk: int) -> AssistanceCase:
    """The case if the user may see it; 404 otherwise, whatever the reason."""
    return get_object_or_404(cases_visible_to(user), pk=pk)


def positive_ids(values: list[str]) -> list[int]:
    """Ids from the query string; anything else is a page that does not exist."""
    try:
        ids = [int(value) for value in values]
    except ValueError:
        raise Http404 from None
    if any(not 0 < i <= MAX_ID for i in ids):
        raise Http404
    return list(dict.fromkeys(ids))


def in_open_case() -> Exists:
    """Whether a need is already answered by a case that is still open."""
    return Exists(AssistanceCase.needs.through.objects.filter(
        needrequest=OuterRef("pk")).exclude(assistancecase__status=Status.CLOSED))


def lead_candidates(enterprise: Enterprise, keep: User | None = None):
    """Active regulators whose jurisdiction covers the firm (the service checks the same rule)."""
    rule = Q(role=Role.REGULATOR, is_active=True, region_id__in=enclosing_codes(enterprise.region_id))
    if keep is not None:
        rule |= Q(pk=keep.pk)
    return User.objects.filter(rule).select_related("region").order_by("-region_id", "full_name", "username")


def lifecycle_steps(case: AssistanceCase) -> list[dict]:
    current = LIFECYCLE.index(Status(case.status))
    return [{"value": status, "label": status.label,
             "state": "done" if i < current else "current" if i == current else "todo"}
            for i, status in enumerate(LIFECYCLE)]


def lead_choices(user: User):
    """Regulators who can lead the cases `user` sees: those of the jurisdiction and above it."""
    regulators = User.objects.filter(role=User.Role.REGULATOR, is_active=True)
    if not user.is_administrator:
        regulators = regulators.filter(Q(region__code__startswith=user.region.prefix)
                                       | Q(region_id__in=enclosing_codes(user.region_id)))
    return regulators.order_by("full_name", "username")


class CaseListView(RoleRequiredMixin, ListView):
    """Cases the user may see: an SME its firms', an expert those assigned, staff their jurisdiction's."""

    template_name = "campaigns/case_list.html"
    read_roles = ALL_ROLES

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        self.filterset = CaseFilterSet(self.request.GET, queryset=cases_visible_to(self.request.user))
        active = CaseAssignment.objects.filter(active=True).select_related("expert")
        return action_first(self.filterset.qs).prefetch_related(
            Prefetch("assignments", queryset=active, to_attr="active_experts"))

    def get_context_data(self, **kwargs):
        user = self.request.user
        staff = has_role(user, STAFF_ROLES)
        context = {
            "filterset": self.filterset, "page_sizes": PAGE_SIZES,
            "staff": staff, "today": timezone.localdate(), "statuses": Status.choices,
            "can_open": has_role(user, EDITORS),
        }
        if staff:
            visible = cases_visible_to(user)
            context["campaigns"] = campaigns_visible_to(user).order_by("-starts_on", "name")
            # Choices from the small tables (regulators, active assignments), not a scan of every case.
            context["leads"] = lead_choices(user)
            context["experts"] = Expert.objects.filter(pk__in=CaseAssignment.objects.filter(
                active=True, case__in=visible.order_by().values("pk")).values("expert_id")).order_by("name", "pk")
        return super().get_context_data(**context, **kwargs)


@login_required
@idempotent_post
def case_new(request):
    """Open a case from one or more needs of a firm (?need=…), or for the firm directly (?enterprise=…)."""
    user = request.user
    require_roles(user, EDITORS)
    need_ids = positive_ids(request.GET.getlist("need"))
    enterprise_ids = positive_ids(request.GET.getlist("enterprise"))
    if need_ids:
        given = list(needs_visible_to(user).filter(pk__in=need_ids))
        if len(given) != len(need_ids):
            raise Http404
        if len({need.enterprise_id for need in given}) > 1:
            messages.error(request, _("A case answers the needs of one enterprise: choose needs of the same firm."))
            return redirect("needs:list")
        enterprise = given[0].enterprise
    elif enterprise_ids:
        enterprise = get_object_or_404(enterprises_visible_to(user), pk=enterprise_ids[0])
        given = []
    else:
        messages.info(request, _("Open a case from a quality need or from an enterprise's page."))
        return redirect(reverse("needs:list") + "?open=true")

    available = (needs_visible_to(user).filter(enterprise=enterprise, status__in=NeedRequest.OPEN_STATUSES)
                 .exclude(in_open_case()).order_by("-submitted_at"))
    campaigns = (campaigns_for_entry(enterprise) & campaigns_visible_to(user)).order_by("-starts_on", "name")
    form = CaseOpenForm(request.POST or None, campaigns=campaigns, needs=available,
                        leads=lead_candidates(enterprise))
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_open(
                    user=user, campaign=data["campaign"], enterprise=enterprise, needs=data["needs"],
                    title=data["title"], lead=data["lead"], diagnosis=data["diagnosis"], plan=data["plan"],
                    opened_on=data["opened_on"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Case #%(number)d opened.") % {"number": case.pk})
                return redirect("cases:detail", pk=case.pk)
    else:
        available_ids = set(available.filter(pk__in=[n.pk for n in given]).values_list("pk", flat=True))
        for need in given:
            if need.pk not in available_ids:
                messages.warning(request, _("“%(title)s” is settled or already answered by an open case.")
                                 % {"title": need.title})
        campaign_list = list((campaigns & campaigns_open_for(enterprise))[:2])
        form.initial = {
            "title": given[0].title if given else "",
            "needs": sorted(available_ids),
            "lead": user.pk if user.is_regulator else None,
            "campaign": campaign_list[0].pk if len(campaign_list) == 1 else None,
        }
    return render(request, "campaigns/case_new.html", {
        "form": form, "enterprise": enterprise, "no_campaign": not campaigns.exists(),
    })


def detail_context(request, case: AssistanceCase, **extra) -> dict:
    user = request.user
    manager = may_manage_case(user, case)
    assigned = not manager and is_assigned_expert(user, case)
    visits = list(visits_visible_to(user).filter(case=case).prefetch_related("attachments"))
    for visit in visits:  # "entered later" reads the case's campaign: the one already loaded
        visit.case = case
    rating = CaseRating.objects.filter(case=case).select_related("rated_by").first()
    can_rate = case.is_closed and rating is None and may_rate_case(user, case)
    audit = None
    if has_role(user, STAFF_ROLES):
        visit_entries = audit_entries_visible_to(user).filter(
            content_type=ContentType.objects.get_for_model(Visit), object_id__in=[str(v.pk) for v in visits])
        audit = with_rows((audit_entries_for(user, case) | visit_entries)[:AUDIT_ROWS])
    context = {
        "case": case,
        "steps": lifecycle_steps(case),
        "needs": case.needs.select_related("service_area").order_by("pk"),
        "assignments": case.assignments.select_related("expert", "assigned_by", "released_by")
        .order_by("-active", "assigned_at", "pk"),
        "visits": visits,
        "events": case.events.select_related("actor"),
        "rating": rating,
        "show_remarks": shows_internal_remarks(user),
        # Experts read the case, not the registry: no links to pages that would answer 404.
        "links_registry": not user.is_expert,
        "audit_entries": audit,
        "is_manager": manager,
        "can_edit": (manager or assigned) and not (case.is_closed and not manager),
        "can_work": (manager or assigned) and not case.is_closed,
        "next_step": next_status(case) if manager and not case.is_closed else None,
        "can_close": manager and not case.is_closed,
        "rating_form": RatingForm() if can_rate else None,
    }
    if context["next_step"]:
        context["next_step_label"] = Status(context["next_step"]).label
    context.update(extra)
    return context


@login_required
def case_detail(request, pk: int):
    case = visible_case(request.user, pk)
    return render(request, "campaigns/case_detail.html", detail_context(request, case))


@login_required
def case_edit(request, pk: int):
    """Managers edit the case; assigned experts its diagnosis and plan. Two editors at once: the
    second is told and keeps their input, nothing is overwritten silently."""
    user = request.user
    case = visible_case(user, pk)
    manager = may_manage_case(user, case)
    if not manager and not is_assigned_expert(user, case):
        raise PermissionDenied
    if case.is_closed and not manager:
        messages.info(request, _("A closed case cannot be changed."))
        return redirect("cases:detail", pk=case.pk)
    form = CaseEditForm(request.POST or None, instance=case, manager=manager,
                        leads=lead_candidates(case.enterprise, keep=case.lead))
    saved_meanwhile = []
    if request.method == "POST" and form.is_valid():
        try:
            services.case_update(user=user, case=case, version=form.cleaned_data["version"], **form.changes())
        except ValidationError as error:
            if getattr(error, "code", None) == "conflict":
                saved_meanwhile = differences(form, AssistanceCase.objects.get(pk=case.pk), form.editable_fields)
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("cases:detail", pk=case.pk)
    return render(request, "campaigns/case_edit.html",
                  {"form": form, "case": case, "saved_meanwhile": saved_meanwhile})


def differences(form, current, names) -> list[dict]:
    """What the other editor saved, field by field, where it differs from this editor's input."""
    rows = []
    for name in names:
        theirs = getattr(current, name)
        if name not in form.cleaned_data or form.cleaned_data[name] == theirs:
            continue
        choices = dict(current._meta.get_field(name).flatchoices)
        if isinstance(theirs, bool):
            theirs = _("Yes") if theirs else _("No")
        elif choices:
            theirs = choices.get(theirs, theirs)
        rows.append({"label": form.fields[name].label, "value": theirs if theirs not in (None, "") else "—"})
    return rows


@require_POST
@login_required
def case_transition(request, pk: int):
    """One step forward; an illegal step is refused with a message and nothing changes."""
    user = request.user
    case = visible_case(user, pk)
    if not may_manage_case(user, case):
        raise PermissionDenied
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the status the case moves to."))
    else:
        data = form.cleaned_data
        try:
            case = services.case_transition(user=user, case=case, to_status=data["to_status"], note=data["note"],
                                            version=data["version"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The case is now: %(status)s.") % {"status": case.get_status_display()})
    return redirect("cases:detail", pk=pk)


@login_required
@idempotent_post
def case_close(request, pk: int):
    user = request.user
    case = visible_case(user, pk)
    if not may_manage_case(user, case):
        raise PermissionDenied
    if case.is_closed:
        messages.info(request, _("This case is already closed."))
        return redirect("cases:detail", pk=case.pk)
    form = CaseCloseForm(request.POST or None, initial={"version": case.version, "money_saved": case.money_saved,
                                                         "outcome_notes": case.outcome_notes,
                                                         **{name: getattr(case, name) for name in (
                                                             "certificate_obtained", "standard_drafted",
                                                             "excellence_model_adopted", "lab_set_up")}},
                         needs=case.needs.filter(status__in=NeedRequest.OPEN_STATUSES).select_related("service_area"))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.case_close(user=user, case=case, resolution=data["resolution"],
                                fulfilled_needs=data["fulfilled_needs"], note=data["note"], version=data["version"],
                                closed_on=data["closed_on"], **form.outcomes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The case is closed."))
            return redirect("cases:detail", pk=case.pk)
    return render(request, "campaigns/case_close.html", {"form": form, "case": case})


@login_required
@idempotent_post
def case_rate(request, pk: int):
    """The firm's contact rates a closed case once."""
    user = request.user
    case = visible_case(user, pk)
    if not may_rate_case(user, case):
        raise PermissionDenied
    if not case.is_closed or CaseRating.objects.filter(case=case).exists():
        messages.info(request, _("This case has already been rated.") if case.is_closed
                      else _("A case can be rated once it is closed."))
        return redirect("cases:detail", pk=case.pk)
    form = RatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_rate(user=user, case=case, score=form.cleaned_data["score"],
                               comment=form.cleaned_data["comment"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you for your rating."))
            return redirect("cases:detail", pk=case.pk)
    return render(request, "campaigns/case_rate.html", {"form": form, "case": case})
