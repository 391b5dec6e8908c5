"""The KPI engine: every figure of a hand-built campaign checked exactly, the 2023 national
survey's proportions given back, and a run that is safe to repeat, to race and to crash."""

import datetime
import random
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase
from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import CampaignTarget
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from enterprises import services as registry
from enterprises.models import Certification, NeedRequest
from portal.models import ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, RegulatorFactory, UserFactory, region

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def snapshot(campaign, code, period="", breakdown="", key="") -> dict:
    return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period=period, breakdown=breakdown,
                                   key=key).figures


def all_figures(campaign) -> dict:
    rows = KpiSnapshot.objects.filter(campaign=campaign)
    return {(row.region_id, row.period, row.breakdown, row.key): row.figures for row in rows}


def visit(user, case, on, mode, hours):
    return services.visit_log(user=user, case=case, visited_on=on, mode=mode, hours=hours, people_present="王建国")


@pytest.fixture
def hebei(bob, charlie, admin_user):
    """Three assisted firms in two cities, a need that waits, two sessions, ratings and surveys."""
    campaign = CampaignFactory()
    CampaignFactory(region=region("441900"))  # another campaign's data must not leak in
    owner = UserFactory(role="sme")
    a = EnterpriseFactory(region=region("130102"), is_key=True, industry_id="13", size="small")
    b = EnterpriseFactory(region=region("130104"), industry_id="39", size="micro")
    c = EnterpriseFactory(region=region("130203"), is_key=True, industry_id="14", size="small")
    d = EnterpriseFactory(region=region("130102"), industry_id="13", size="medium")
    for firm in (a, b, c, d):
        firm.users.add(owner)
    need = {firm: registry.need_submit(user=owner, enterprise=firm, service_area=ServiceArea.objects.get(code=code),
                                       title="需求", description="说明")
            for firm, code in ((a, 2), (b, 2), (d, 1))}
    NeedRequest.objects.filter(pk=need[a].pk).update(submitted_at=timezone.now() - datetime.timedelta(days=30))
    case_a = services.case_open(user=bob, campaign=campaign, needs=[need[a]], title="甲")
    case_b = services.case_open(user=bob, campaign=campaign, needs=[need[b]], title="乙")
    case_c = services.case_open(user=charlie, campaign=campaign, enterprise=c, title="丙")
    visit(bob, case_a, days_ago(10), "on_site", 2)
    visit(bob, case_a, days_ago(3), "remote", 1)
    visit(charlie, case_c, days_ago(5), "mobile_clinic", 3)
    for step in ("diagnosing", "plan_agreed", "in_progress"):
        if step == "plan_agreed":
            services.case_update(user=bob, case=AssistanceCase.objects.get(pk=case_a.pk), version=None,
                                 diagnosis="诊断", plan="方案")
        services.case_transition(user=bob, case=case_a, to_status=step)
    services.case_close(user=bob, case=case_a, resolution="resolved", fulfilled_needs=[need[a]], lab_set_up=True,
                        money_saved=Decimal("450000"))
    services.case_close(user=bob, case=case_b, resolution="unresolved", note="企业停产")
    services.case_rate(user=owner, case=AssistanceCase.objects.get(pk=case_a.pk), score=5)
    services.case_rate(user=owner, case=AssistanceCase.objects.get(pk=case_b.pk), score=3)
    Certification.objects.create(enterprise=a, scheme="iso9001", number="A-1", body="CQC", issued_on=days_ago(20))
    Certification.objects.create(enterprise=c, scheme="iso9001", number="C-1", body="CQC",
                                 issued_on=campaign.starts_on - datetime.timedelta(days=1))
    for firm, awareness, revenue in ((a, True, 12), (b, False, 8)):
        registry.survey_answer(user=owner, enterprise=firm, kind="follow_up", campaign=campaign,
                               awareness_improved=awareness, performance_improved=True, revenue_change_pct=revenue)
    training_services.training_record(user=bob, campaign=campaign, region=region("130102"), topic="计量培训",
                             held_on=days_ago(7), organiser="石家庄市局", attendances=[(a, 2, ""), (d, 3, "")])
    training_services.training_record(user=charlie, campaign=campaign, region=region("130200"), topic="质量管理培训",
                             held_on=days_ago(6), organiser="唐山市局", attendances=[(c, 4, "")])
    campaign_target_set(user=admin_user, campaign=campaign, metric="key_firms_assisted",
                                 scope="each_city", value=50)
    campaign_target_set(user=admin_user, campaign=campaign, metric="person_times", value=100)
    return campaign


EXPECTED_PROVINCE = {
    "cases": 3, "firms_assisted": 3, "key_firms_assisted": 2, "key_industries": 2,
    "cases_closed": 2, "cases_resolved": 1, "certificates_obtained": 0, "standards_drafted": 0,
    "excellence_models": 0, "labs_set_up": 1, "money_saved": 450000.0, "money_saved_once": 450000.0,
    "money_saved_per_year": 0.0,
    "visits": 3, "on_site_visits": 1, "consultations": 2, "visit_hours": 6.0,
    "needs_received": 3, "needs_fulfilled": 1, "needs_declined": 1, "fulfilment_rate": 33.33,
    "needs_visited": 1, "days_to_first_visit": 20.0,
    "firms_certified": 1, "certified_share": 33.33,
    "ratings": 2, "satisfied": 1, "satisfaction_mean": 4.0, "satisfied_share": 50.0,
    "surveys": 2, "awareness_up": 1, "performance_up": 2, "awareness_up_share": 50.0,
    "performance_up_share": 100.0, "revenue_change_mean": 10.0, "output_change_mean": None,
    "margin_change_mean": None,
    "training_sessions": 2, "firm_times": 3, "person_times": 9,
    "firms_surveyed": 2, "surveyed_certified": 1, "surveyed_certified_share": 50.0, "baseline_surveys": 0,
    "key_parks": 0, "key_products": 0,
    "targets": {"person_times": 100.0},
}


def test_every_figure_of_a_hand_built_campaign(hebei):
    kpis.compute_campaign(hebei.pk)
    assert snapshot(hebei, "130000") == EXPECTED_PROVINCE


def test_cities_and_counties_count_their_own(hebei):
    kpis.compute_campaign(hebei.pk)
    shijiazhuang, tangshan = snapshot(hebei, "130100"), snapshot(hebei, "130200")
    assert (shijiazhuang["firms_assisted"], shijiazhuang["key_firms_assisted"], shijiazhuang["visits"]) == (2, 1, 2)
    assert (shijiazhuang["needs_received"], shijiazhuang["firms_certified"], shijiazhuang["certified_share"]) == (
        3, 1, 50.0)
    assert (shijiazhuang["training_sessions"], shijiazhuang["firm_times"], shijiazhuang["person_times"]) == (1, 2, 5)
    assert shijiazhuang["targets"] == {"key_firms_assisted": 50.0}
    assert (tangshan["firms_assisted"], tangshan["consultations"], tangshan["person_times"]) == (1, 1, 4)
    assert tangshan["needs_received"] == 0 and tangshan["fulfilment_rate"] is None
    changan = snapshot(hebei, "130102")
    assert (changan["cases"], changan["visits"], changan["needs_received"], changan["person_times"]) == (1, 2, 2, 5)
    assert snapshot(hebei, "130104")["cases"] == 1
    # A session filed under the city's own code counts for the city, and for no county.
    assert not KpiSnapshot.objects.filter(campaign=hebei, level="county", region_id="130200").exists()
    # A region with nothing yet still has its row, at zero, for the target comparison.
    assert snapshot(hebei, "130300")["firms_assisted"] == 0


def test_months_and_breakdowns(hebei):
    kpis.compute_campaign(hebei.pk)
    this_month = f"{TODAY:%Y-%m}"
    assert snapshot(hebei, "130000", this_month)["cases"] == 3
    monthly = KpiSnapshot.objects.filter(campaign=hebei, region_id="130000", breakdown="").exclude(period="")
    assert sum(row.figures.get("visits", 0) for row in monthly) == 3
    assert sum(row.figures.get("person_times", 0) for row in monthly) == 9
    assert snapshot(hebei, "130000", breakdown="industry", key="C")["firms_assisted"] == 3
    assert snapshot(hebei, "130000", breakdown="size", key="small")["firms_assisted"] == 2
    assert snapshot(hebei, "130000", breakdown="size", key="micro")["firms_assisted"] == 1
    assert snapshot(hebei, "130000", breakdown="service_area", key="2")["needs_received"] == 2
    assert snapshot(hebei, "130100", breakdown="service_area", key="1")["needs_received"] == 1


def test_running_twice_writes_the_same_figures_once(hebei):
    kpis.compute_campaign(hebei.pk)
    first = all_figures(hebei)
    kpis.compute_campaign(hebei.pk)
    second = all_figures(hebei)
    assert first == second
    assert KpiSnapshot.objects.filter(campaign=hebei).count() == len(second)
    assert KpiSnapshot.objects.filter(campaign=hebei).values("computed_at").distinct().count() == 1


def test_a_run_that_fails_half_way_leaves_the_previous_snapshot(hebei, monkeypatch):
    kpis.compute_campaign(hebei.pk)
    before = snapshot(hebei, "130000")
    training_services.training_record(user=RegulatorFactory(), campaign=hebei, region=region("130102"), topic="再培训",
                             held_on=days_ago(1), organiser="石家庄市局",
                             attendances=[(EnterpriseFactory(), 10, "")])
    real_bulk_create = KpiSnapshot.objects.bulk_create

    def crash_after_some(objs, **options):
        real_bulk_create(objs[:5], **options)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(KpiSnapshot.objects, "bulk_create", crash_after_some)
    with pytest.raises(RuntimeError):
        kpis.compute_campaign(hebei.pk)
    assert snapshot(hebei, "130000") == before
    monkeypatch.undo()
    kpis.compute_campaign(hebei.pk)
    assert snapshot(hebei, "130000")["person_times"] == 19


def test_targets_are_attached_where_they_apply(hebei, admin_user):
    campaign_target_set(user=admin_user, campaign=hebei, metric="firms_assisted", scope="region",
                                 region=region("130104"), value=5)
    campaign_target_set(user=admin_user, campaign=hebei, metric="training_sessions", scope="each_county",
                                 value=2)
    kpis.compute_campaign(hebei.pk)
    assert snapshot(hebei, "130104")["targets"] == {"firms_assisted": 5.0, "training_sessions": 2.0}
    assert snapshot(hebei, "130102")["targets"] == {"training_sessions": 2.0}
    assert snapshot(hebei, "130200")["targets"] == {"key_firms_assisted": 50.0}


def test_the_2023_national_survey_proportions_come_back(admin_user):
    """14,267 surveyed firms: 90.46% awareness up, 96.95% performance up, 20.17% got ISO 9001."""
    from campaigns.models import Campaign
    from enterprises.models import Enterprise, NeedsSurvey
    from enterprises.uscc import generate_uscc
    from portal.models import User

    surveyed, aware, better, certified = 14_267, 12_906, 13_832, 2_878
    campaign = Campaign.objects.create(name="小微企业质量管理体系认证提升行动", organiser="市场监管总局",
                                       region=region("130000"), starts_on=days_ago(700), ends_on=days_ago(-30))
    lead = RegulatorFactory(region=region("130000"))
    firms = Enterprise.objects.bulk_create(
        Enterprise(uscc=generate_uscc("130102", random.Random(n)), name=f"企业{n}", region_id="130102",
                   industry_id="13", size="micro") for n in range(surveyed))
    AssistanceCase.objects.bulk_create(
        AssistanceCase(campaign=campaign, enterprise=firm, title="认证帮扶", lead=lead, opened_by=lead)
        for firm in firms)
    Certification.objects.bulk_create(
        Certification(enterprise=firm, scheme="iso9001", number=f"N{n}", body="CQC", issued_on=days_ago(100))
        for n, firm in enumerate(firms[:certified]))
    answerer = User.objects.create(username="surveys", role="sme")
    NeedsSurvey.objects.bulk_create(
        NeedsSurvey(enterprise=firm, campaign=campaign, kind="follow_up", answered_by=answerer,
                    awareness_improved=n < aware, performance_improved=n < better)
        for n, firm in enumerate(firms))
    kpis.compute_campaign(campaign.pk)
    figures = snapshot(campaign, "130000")
    assert (figures["awareness_up_share"], figures["performance_up_share"], figures["certified_share"]) == (
        90.46, 96.95, 20.17)
    assert figures["firms_assisted"] == surveyed and figures["surveys"] == surveyed


def test_a_city_campaign_has_no_province_row(bob):
    campaign = CampaignFactory(region=region("130100"))
    kpis.compute_campaign(campaign.pk)
    levels = set(KpiSnapshot.objects.filter(campaign=campaign).values_list("level", flat=True))
    assert levels == {"city", "county"}
    assert CampaignTarget.objects.count() == 0


def test_a_write_notes_its_figures_in_its_own_transaction_and_they_are_counted_once_it_commits(
        bob, django_capture_on_commit_callbacks):
    from portal.models import OutboxEntry

    campaign = CampaignFactory()
    kpis.compute_campaign(campaign.pk)
    firm = EnterpriseFactory()
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_open(user=bob, campaign=campaign, enterprise=firm, title="甲")
        visit(bob, case, days_ago(1), "on_site", 2)
        # Noted in the writes' transaction, counted only after it commits.
        assert OutboxEntry.objects.filter(topic="figures", payload__campaign=campaign.pk).count() >= 2
        assert snapshot(campaign, "130100")["visits"] == 0
    assert snapshot(campaign, "130100")["visits"] == 1
    assert snapshot(campaign, firm.region_id)["cases"] == 1
    assert not OutboxEntry.objects.exists()


def test_a_write_that_rolls_back_leaves_no_note(bob):
    from django.db import transaction

    from portal.models import OutboxEntry

    campaign = CampaignFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="甲")
        raise RuntimeError("the request failed after the case was written")
    assert not OutboxEntry.objects.exists()


def test_a_change_shows_in_the_snapshot_once_its_run_has_happened(bob):
    from campaigns.kpis import tasks

    campaign = CampaignFactory()
    firm = EnterpriseFactory()
    tasks.kpi_compute.delay(campaign.pk)
    assert snapshot(campaign, "130100")["visits"] == 0
    case = services.case_open(user=bob, campaign=campaign, enterprise=firm, title="甲")
    visit(bob, case, days_ago(1), "on_site", 2)
    tasks.kpi_compute.delay(campaign.pk)
    assert snapshot(campaign, "130100")["visits"] == 1


def test_the_task_retries_a_lost_database_connection_but_not_a_bug(monkeypatch):
    from django.db import OperationalError

    from campaigns.kpis import tasks

    campaign = CampaignFactory()
    calls = []

    def flaky(campaign_id):
        calls.append(campaign_id)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return 0

    monkeypatch.setattr(kpis, "compute_campaign", flaky)
    result = tasks.kpi_compute.apply(args=(campaign.pk,), throw=False)
    assert result.successful() and calls == [campaign.pk, campaign.pk]

    def broken(campaign_id):
        calls.append("bug")
        raise ValueError("a bug")

    monkeypatch.setattr(kpis, "compute_campaign", broken)
    result = tasks.kpi_compute.apply(args=(campaign.pk,), throw=False)
    assert result.failed() and isinstance(result.result, ValueError)
    assert calls.count("bug") == 1
    assert tasks.kpi_compute.acks_late and tasks.kpi_compute.time_limit < 3600


def test_a_session_held_by_the_province_itself_counts_for_the_province_only(hebei, admin_user):
    kpis.compute_campaign(hebei.pk)
    before = snapshot(hebei, "130000")
    training_services.training_record(user=admin_user, campaign=hebei, region=region("130000"), topic="全省培训",
                             held_on=days_ago(2), organiser="河北省局", attendances=[(EnterpriseFactory(), 6, "")])
    kpis.compute_campaign(hebei.pk)
    after = snapshot(hebei, "130000")
    assert after["training_sessions"] == before["training_sessions"] + 1
    assert after["person_times"] == before["person_times"] + 6
    assert after["cases"] == before["cases"] == 3  # the province's other figures are untouched
    assert snapshot(hebei, "130100")["training_sessions"] == 1
    assert not KpiSnapshot.objects.filter(campaign=hebei, level="city", region_id="130000").exists()


def test_a_need_answered_by_two_cases_counts_once(hebei, bob):
    kpis.compute_campaign(hebei.pk)
    before = snapshot(hebei, "130000")
    answered = AssistanceCase.objects.get(campaign=hebei, title="甲")
    need = answered.needs.get()
    later = services.case_open(user=bob, campaign=hebei, enterprise=answered.enterprise, title="甲续")
    later.needs.add(need)  # as a case taking over a need of a closed one would
    visit(bob, later, days_ago(1), "on_site", 1)
    kpis.compute_campaign(hebei.pk)
    after = snapshot(hebei, "130000")
    assert after["needs_visited"] == before["needs_visited"] == 1
    assert after["days_to_first_visit"] == before["days_to_first_visit"] == 20.0


def test_a_row_with_training_only_has_no_rates_rather_than_zero_or_full_ones():
    figures = kpis.derive({"training_sessions": 2, "firms_certified": 0})
    assert figures["training_sessions"] == 2
    assert {name: figures[name] for name in (
        "fulfilment_rate", "certified_share", "satisfaction_mean", "satisfied_share", "awareness_up_share",
        "performance_up_share", "revenue_change_mean", "output_change_mean", "margin_change_mean")} == dict.fromkeys(
        ("fulfilment_rate", "certified_share", "satisfaction_mean", "satisfied_share", "awareness_up_share",
         "performance_up_share", "revenue_change_mean", "output_change_mean", "margin_change_mean"))


def test_days_to_first_visit_is_the_mean_wait_to_a_tenth_of_a_day():
    assert kpis.derive({"wait": 5, "needs_visited": 2})["days_to_first_visit"] == 2.5


def test_a_full_count_returns_how_many_snapshot_rows_the_campaign_has(db):
    campaign = CampaignFactory()
    rows = kpis.compute_campaign(campaign.pk)
    assert rows == KpiSnapshot.objects.filter(campaign=campaign).count() > 0
