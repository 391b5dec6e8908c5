"""Back-office entry (补录): a past campaign's cases, visits, training and needs typed in after the
fact, with the day of the event, who entered it and when, and a campaign closed for entry."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from campaigns.services import campaign_entry_close, campaign_entry_reopen
from campaigns.training.services import training_record
from enterprises import services as registry
from portal.models import Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dongguan_2010(db):
    """Dongguan's quality-city campaign of 2010-2011, long over before the portal existed."""
    return CampaignFactory(name="东莞质量强市", organiser="东莞市质量技术监督局",
                           region=Region.objects.get(code="441900"),
                           starts_on=datetime.date(2010, 3, 1), ends_on=datetime.date(2011, 12, 31))


@pytest.fixture
def dg_regulator(db):
    from tests.factories import RegulatorFactory

    return RegulatorFactory(username="dg", region=Region.objects.get(code="441900"))


@pytest.fixture
def firm(db):
    return EnterpriseFactory(region=Region.objects.get(code="441900"), name="东莞五金制品有限公司")


def test_a_past_campaign_is_entered_after_the_fact_and_counted_in_its_own_months(dongguan_2010, dg_regulator, firm):
    need = registry.need_submit(user=dg_regulator, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                                title="计量器具校准", description="纸质需求表", received_on=datetime.date(2010, 4, 2))
    case = services.case_open(user=dg_regulator, campaign=dongguan_2010, needs=[need], title="点对点帮扶",
                              opened_on=datetime.date(2010, 4, 10))
    services.visit_log(user=dg_regulator, case=case, visited_on=datetime.date(2010, 5, 6), mode="on_site", hours=3,
                       people_present="质监局")
    for step in ("diagnosing", "plan_agreed", "in_progress"):
        if step == "plan_agreed":
            services.case_update(user=dg_regulator, case=case, version=None, diagnosis="诊断", plan="方案")
        services.case_transition(user=dg_regulator, case=case, to_status=step)
    services.case_close(user=dg_regulator, case=case, resolution="resolved", fulfilled_needs=[need],
                        closed_on=datetime.date(2010, 9, 30), money_saved=Decimal("80000"))
    training_record(user=dg_regulator, campaign=dongguan_2010, region=firm.region, topic="质量法律法规培训",
                    held_on=datetime.date(2010, 6, 18), organiser="东莞市质监局", attendances=[(firm, 12, "")])

    case.refresh_from_db()
    need.refresh_from_db()
    assert timezone.localdate(case.opened_at) == datetime.date(2010, 4, 10)
    assert timezone.localdate(case.entered_at) == timezone.localdate() and case.opened_by == dg_regulator
    assert case.entered_later and case.visits.get().entered_later
    assert timezone.localdate(need.submitted_at) == datetime.date(2010, 4, 2)
    assert timezone.localdate(need.created_at) == timezone.localdate()

    kpis.compute_campaign(dongguan_2010.pk)
    total = KpiSnapshot.objects.get(campaign=dongguan_2010, region_id="441900", period="", breakdown="").figures
    assert (total["firms_assisted"], total["visits"], total["needs_received"], total["needs_fulfilled"],
            total["person_times"], total["money_saved"]) == (1, 1, 1, 1, 12, 80000.0)
    assert total["days_to_first_visit"] == 34.0  # from the day received, not the day typed in
    months = set(KpiSnapshot.objects.filter(campaign=dongguan_2010, region_id="441900", breakdown="")
                 .exclude(period="").values_list("period", flat=True))
    assert months == {"2010-04", "2010-05", "2010-06", "2010-09"}


def test_the_page_shows_a_case_entered_later_with_who_and_when(client_for, dongguan_2010, dg_regulator, firm):
    case = services.case_open(user=dg_regulator, campaign=dongguan_2010, enterprise=firm, title="补录",
                              opened_on=datetime.date(2011, 1, 5))
    html = client_for(dg_regulator).get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="entered-later"' in html


def test_a_case_opened_today_in_a_running_campaign_is_not_entered_later(bob):
    case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=EnterpriseFactory(), title="今天")
    assert not case.entered_later


@pytest.mark.parametrize(("day", "field"), [(datetime.date(2009, 12, 31), "opened_on"),
                                            (datetime.date(2012, 1, 1), "opened_on")])
def test_a_day_outside_the_campaigns_period_is_refused(dongguan_2010, dg_regulator, firm, day, field):
    with pytest.raises(ValidationError) as raised:
        services.case_open(user=dg_regulator, campaign=dongguan_2010, enterprise=firm, title="x", opened_on=day)
    assert field in raised.value.message_dict


def test_an_ended_campaign_without_a_day_still_refuses_a_case(dongguan_2010, dg_regulator, firm):
    with pytest.raises(ValidationError) as raised:
        services.case_open(user=dg_regulator, campaign=dongguan_2010, enterprise=firm, title="x")
    assert "campaign" in raised.value.message_dict


def test_a_need_cannot_be_received_in_the_future(dg_regulator, firm):
    with pytest.raises(ValidationError) as raised:
        registry.need_submit(user=dg_regulator, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                             title="x", description="y", received_on=timezone.localdate() + datetime.timedelta(days=1))
    assert "received_on" in raised.value.message_dict


def test_a_regulator_of_another_region_cannot_enter_a_firms_paper_need(bob, firm):
    with pytest.raises(PermissionDenied):
        registry.need_submit(user=bob, enterprise=firm, service_area=ServiceArea.objects.get(code=2), title="x",
                             description="y", received_on=datetime.date(2010, 4, 2))


class TestClosingACampaignForEntry:
    def test_a_closed_campaign_takes_no_case_visit_or_session(self, admin_user, dongguan_2010, dg_regulator, firm):
        case = services.case_open(user=dg_regulator, campaign=dongguan_2010, enterprise=firm, title="x",
                                  opened_on=datetime.date(2010, 4, 10))
        campaign_entry_close(user=admin_user, campaign=dongguan_2010)
        dongguan_2010.refresh_from_db()
        with pytest.raises(ValidationError):
            services.case_open(user=dg_regulator, campaign=dongguan_2010, enterprise=EnterpriseFactory(
                region=firm.region), title="y", opened_on=datetime.date(2010, 4, 10))
        with pytest.raises(ValidationError):
            services.visit_log(user=dg_regulator, case=case, visited_on=datetime.date(2010, 5, 6), mode="on_site",
                               hours=1, people_present="x")
        with pytest.raises(ValidationError):
            training_record(user=dg_regulator, campaign=dongguan_2010, region=firm.region, topic="t",
                            held_on=datetime.date(2010, 6, 18), organiser="o")
        campaign_entry_reopen(user=admin_user, campaign=dongguan_2010)
        services.visit_log(user=dg_regulator, case=case, visited_on=datetime.date(2010, 5, 6), mode="on_site",
                           hours=1, people_present="x")

    def test_only_an_administrator_closes_a_campaign_for_entry(self, client_for, dg_regulator, admin_user,
                                                               dongguan_2010):
        url = reverse("campaigns:close-entry", args=[dongguan_2010.pk])
        assert client_for(dg_regulator).post(url).status_code == 403
        assert client_for(admin_user).get(url).status_code == 405
        assert client_for(admin_user).post(url).status_code == 302
        dongguan_2010.refresh_from_db()
        assert dongguan_2010.entry_closed_by == admin_user

    def test_a_regulator_of_another_region_gets_404(self, client_for, bob, dongguan_2010):
        assert client_for(bob).post(reverse("campaigns:close-entry", args=[dongguan_2010.pk])).status_code == 404

    def test_anonymous_is_sent_to_sign_in(self, client_for, dongguan_2010):
        assert client_for(None).post(reverse("campaigns:close-entry", args=[dongguan_2010.pk])).status_code == 302


def test_the_api_opens_a_past_case_with_its_day(api_for, dongguan_2010, dg_regulator, firm):
    response = api_for(dg_regulator).post(reverse("api:case-list"), {
        "campaign": dongguan_2010.pk, "enterprise": firm.pk, "title": "补录", "opened_on": "2010-04-10"},
        format="json")
    assert response.status_code == 201, response.content
    assert response.json()["entered_later"] is True
    refused = api_for(dg_regulator).post(reverse("api:case-list"), {
        "campaign": dongguan_2010.pk, "enterprise": EnterpriseFactory(region=firm.region).pk, "title": "补录",
        "opened_on": "2013-04-10"}, format="json")
    assert refused.status_code == 400 and "opened_on" in refused.json()
