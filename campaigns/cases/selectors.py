"""Reads of cases and visits: what each user may see, and what needs attention."""

from datetime import timedelta

from django.db.models import Case, DateField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from campaigns.cases.models import AssistanceCase, CaseAssignment, Visit
from campaigns.models import ENTERED_LATER_DAYS
from portal.models import User
from portal.selectors import region_code_q, region_is_visible_to

Status = AssistanceCase.Status
STALE_AFTER_DAYS = 30


def cases_visible_to(user: User) -> QuerySet[AssistanceCase]:
    """Staff: cases of firms in their jurisdiction; SME users: their own firms' cases; experts: the
    cases assigned to them, including those they saw through to closing, but not a case they were
    released from."""
    cases = AssistanceCase.objects.select_related("enterprise", "enterprise__region", "campaign", "lead")
    if not user.is_authenticated or not user.is_active:
        return cases.none()
    if user.is_sme:
        return cases.filter(enterprise__users=user)
    if user.is_expert:
        return cases.filter(Exists(assigned_to(user).filter(case=OuterRef("pk"))))
    return cases.filter(region_code_q(user, "enterprise__region"))


def assigned_to(user: User) -> QuerySet[CaseAssignment]:
    return CaseAssignment.objects.filter(expert__user=user, released_at__isnull=True)


def visits_visible_to(user: User) -> QuerySet[Visit]:
    """The visits on the cases `user` may see. SME users read them without internal remarks,
    which is the pages' and serializers' job: `shows_internal_remarks` says whether to."""
    visits = Visit.objects.select_related("case", "case__enterprise", "logged_by")
    if not user.is_authenticated or not user.is_active:
        return visits.none()
    if user.is_sme:
        return visits.filter(case__enterprise__users=user).defer("internal_remark")
    if user.is_expert:
        return visits.filter(Exists(assigned_to(user).filter(case=OuterRef("case"))))
    return visits.filter(region_code_q(user, "case__enterprise__region"))


def shows_internal_remarks(user: User) -> bool:
    return user.is_authenticated and not user.is_sme


def overdue_q() -> Q:
    """Open, and the follow-up promised by the latest visit has passed."""
    return ~Q(status=Status.CLOSED) & Q(next_follow_up_on__lt=timezone.localdate())


def action_first(cases: QuerySet[AssistanceCase]) -> QuerySet[AssistanceCase]:
    """The order of a case list: what needs action first. Open cases whose follow-up is overdue
    (the longest overdue first), then open cases without a visit for 30 days, then the other open
    cases, newest first, and closed cases last."""
    attention = Case(
        When(overdue_q(), then=Value(0)), When(stale_q(), then=Value(1)),
        When(~Q(status=Status.CLOSED), then=Value(2)), default=Value(3), output_field=IntegerField(),
    )
    overdue_since = Case(When(overdue_q(), then=F("next_follow_up_on")), default=Value(None), output_field=DateField())
    return cases.annotate(attention=attention, overdue_since=overdue_since).order_by(
        "attention", F("overdue_since").asc(nulls_last=True), "-opened_at", "-pk")


def stale_q() -> Q:
    """Open, and no visit for 30 days (counting from opening when there has been none)."""
    cutoff = timezone.localdate() - timedelta(days=STALE_AFTER_DAYS)
    return ~Q(status=Status.CLOSED) & (
        Q(last_visit_on__lt=cutoff) | Q(last_visit_on__isnull=True, opened_at__date__lt=cutoff)
    )


def overdue_follow_ups(user: User) -> QuerySet[AssistanceCase]:
    """Open cases whose promised follow-up date has passed without a later visit."""
    return cases_visible_to(user).filter(overdue_q()).order_by("next_follow_up_on", "pk")


def stale_cases(user: User) -> QuerySet[AssistanceCase]:
    """Open cases without a visit for 30 days."""
    return cases_visible_to(user).filter(stale_q()).order_by("last_visit_on", "opened_at", "pk")


def cases_awaiting_rating(user: User) -> QuerySet[AssistanceCase]:
    """Closed cases of the SME user's firms that nobody has rated yet; a case that had closed long
    before it was typed in (a paper record, 补录) is not put to the firm."""
    if not user.is_authenticated or not user.is_sme:
        return AssistanceCase.objects.none()
    return (cases_visible_to(user).filter(status=Status.CLOSED, rating__isnull=True)
            .exclude(closed_at__lt=F("entered_at") - timedelta(days=ENTERED_LATER_DAYS)).order_by("-closed_at"))


# --- Who may do what on a case (the services enforce it; pages ask before offering a button) ---


def may_manage_case(user: User, case: AssistanceCase) -> bool:
    """Regulators of the firm's region and administrators run a case; supervisors only read."""
    return user.is_authenticated and (
        user.is_administrator or (user.is_regulator and region_is_visible_to(user, case.enterprise.region_id))
    )


def is_assigned_expert(user: User, case: AssistanceCase) -> bool:
    return (user.is_authenticated and user.is_expert
            and case.assignments.filter(active=True, expert__user=user).exists())


def may_work_on_case(user: User, case: AssistanceCase) -> bool:
    """Who logs visits and writes the diagnosis and plan: the bureau and the assigned experts."""
    return may_manage_case(user, case) or is_assigned_expert(user, case)


def may_edit_visit(user: User, visit: Visit) -> bool:
    return may_manage_case(user, visit.case) or (visit.logged_by_id == user.pk and is_assigned_expert(user, visit.case))


def may_rate_case(user: User, case: AssistanceCase) -> bool:
    return user.is_authenticated and user.is_sme and case.enterprise.users.filter(pk=user.pk).exists()
