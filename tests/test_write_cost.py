"""A write's cost on the default set-up does not grow with the campaign: opening a case and logging a
visit, through the API and the page, run the same number of SQL statements with 10 cases in the
campaign as with 500. (The figures are left to the KPI worker: the write only notes which cells
it touched, so nothing in the request counts the campaign's rows.)
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, Visit
from campaigns.kpis import engine
from enterprises.models import Enterprise
from enterprises.uscc import generate_uscc
from portal.models import Industry, Region
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="石家庄一对一帮扶", region=Region.objects.get(code="130100"))


def grow(campaign, bob, to: int) -> None:
    """Bring the campaign to `to` cases, each with a visit, in bulk (rows only), then count its figures."""
    have = AssistanceCase.objects.filter(campaign=campaign).count()
    county, industry = Region.objects.get(code="130102"), Industry.objects.get(code="13")
    firms = Enterprise.objects.bulk_create([
        Enterprise(region=county, uscc=generate_uscc("130102"), name=f"规模测试企业{have + n}", industry=industry,
                   size=Enterprise.Size.SMALL) for n in range(to - have)])
    cases = AssistanceCase.objects.bulk_create([
        AssistanceCase(campaign=campaign, enterprise=firm, title="一对一帮扶", lead=bob, opened_by=bob)
        for firm in firms])
    Visit.objects.bulk_create([
        Visit(case=case, visited_on=timezone.localdate() - datetime.timedelta(days=3), mode="on_site", hours=2,
              people_present="王建国", logged_by=bob) for case in cases])
    engine.compute_campaign(campaign.pk)


def statements(call) -> tuple[int, int]:
    """The call's SQL statements and its answer's status code."""
    with CaptureQueriesContext(connection) as queries:
        response = call()
    return len(queries), response.status_code


def costs(api, client_for, bob, campaign) -> dict[str, int]:
    """Statements of one case opened and one visit logged through the API, and one visit through the page."""
    client, page = api(bob), client_for(bob)
    visit = {"visited_on": str(timezone.localdate() - datetime.timedelta(days=1)), "mode": "on_site", "hours": "2",
             "people_present": "王建国、企业质量主管", "problems_found": "压力表超期未检"}
    found = {}
    found["open a case (API)"], code = statements(lambda: client.post(reverse("api:case-list"), {
        "campaign": campaign.pk, "enterprise": EnterpriseFactory().pk, "title": "计量帮扶"}, format="json"))
    assert code == 201
    case = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="走访")
    found["log a visit (API)"], code = statements(
        lambda: client.post(reverse("api:visit-list"), {"case": case.pk, **visit}, format="json"))
    assert code == 201
    case = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="走访")
    found["log a visit (page)"], code = statements(lambda: page.post(
        reverse("cases:visit-new", args=[case.pk]), {**visit, "next_follow_up_on": "", "internal_remark": "",
                                                     "actions_recommended": ""}))
    assert code == 302
    return found


def test_a_write_costs_the_same_with_10_and_with_500_cases_in_the_campaign(api, client_for, bob, campaign):
    grow(campaign, bob, 10)
    costs(api, client_for, bob, campaign)  # warms the per-process caches (content types, the session)
    small = costs(api, client_for, bob, campaign)
    grow(campaign, bob, 500)
    assert AssistanceCase.objects.filter(campaign=campaign).count() >= 500
    large = costs(api, client_for, bob, campaign)
    assert small == large, (small, large)
    # And few: a write that counted the campaign in the request would not stay this small.
    assert all(count < 60 for count in small.values()), small
