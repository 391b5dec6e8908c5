"""The answers cases give to the registry's and the expert pool's pages (enterprises/hooks.py,
experts/hooks.py), registered when the app is ready (campaigns/apps.py)."""

from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseRating
from campaigns.cases.selectors import cases_visible_to
from enterprises.hooks import need_page
from enterprises.models import NeedRequest
from experts.hooks import expert_page
from experts.models import Expert
from portal.access import EDITORS, has_role
from portal.models import User

RECENT_RATINGS = 10


@need_page.register
def cases_of_need(user: User, need: NeedRequest) -> dict:
    cases = list(cases_visible_to(user).filter(needs=need).order_by("-opened_at"))
    return {
        "cases": cases,
        # A need answered by an open case cannot join another one (campaigns.cases.services.case_open).
        "can_open_case": has_role(user, EDITORS) and need.is_open
        and not any(case.status != AssistanceCase.Status.CLOSED for case in cases),
    }


@expert_page.register
def cases_of_expert(user: User, expert: Expert) -> dict:
    visible_cases = cases_visible_to(user)
    assignments = (
        CaseAssignment.objects.filter(expert=expert, case__in=visible_cases)
        .select_related("case", "case__enterprise", "case__campaign")
        .order_by("-assigned_at", "-pk")
    )
    # The same cases as the satisfaction record (experts.selectors.rating_mean), as far as the
    # reader may see them: a comment names the firm's experience of a case in its region.
    ratings = (
        CaseRating.objects.filter(case__assignments__expert=expert, case__assignments__released_at__isnull=True,
                                  case__in=visible_cases)
        .select_related("case").order_by("-rated_at", "-pk")[:RECENT_RATINGS]
    )
    return {"assignments": assignments, "ratings": ratings}
