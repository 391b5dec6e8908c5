"""The published figures of the five campaigns, built from data shaped like them and read off the
engine's snapshots: certification per scheme over the firms assisted and over the firms surveyed (the
national survey's "20.17% obtained ISO 9001"), the baseline survey's services wanted ("double zero":
87.5% wanted quality-infrastructure services), and Anhui's key parks and key products per city
against a target for each city."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.kpis import engine as kpis
from campaigns.kpis.dashboards import dashboard_for
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign, CampaignTarget
from campaigns.services import campaign_target_set
from enterprises import services as registry
from enterprises.designations.services import key_designation_create, key_designation_remove
from enterprises.models import Certification, KeyDesignation, NeedsSurvey
from portal import outbox
from portal.models import ServiceArea
from tests.factories import (
    CampaignFactory,
    CaseFactory,
    EnterpriseFactory,
    RegulatorFactory,
    SupervisorFactory,
    UserFactory,
    region,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def snapshot(campaign, code, period="", breakdown="", key="") -> dict:
    return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period=period, breakdown=breakdown,
                                   key=key).figures


def certify(firm, scheme, number, days):
    return Certification.objects.create(enterprise=firm, scheme=scheme, number=number, body="CQC",
                                        issued_on=days_ago(days))


def answer(firm, campaign, kind="follow_up", services=()):
    survey = NeedsSurvey.objects.create(
        enterprise=firm, campaign=campaign, kind=kind, answered_by=UserFactory(),
        awareness_improved=True if kind == "follow_up" else None,
        performance_improved=True if kind == "follow_up" else None)
    survey.services_wanted.set(services)
    return survey


# --- certification per scheme --------------------------------------------------------------------------


def test_a_national_survey_gives_the_share_of_surveyed_firms_certified_per_scheme(admin_user):
    """50 surveyed firms, 10 of them ISO 9001 certified during the campaign (one twice), 2 ISO 14001
    (one of them also ISO 9001), one certified before the campaign began: 20% ISO 9001."""
    campaign = CampaignFactory()
    firms = [EnterpriseFactory(region=region("130102" if n % 2 else "130203")) for n in range(50)]
    for firm in firms:
        answer(firm, campaign)
    answer(firms[0], campaign, kind="baseline")  # a second survey of the same firm: one firm surveyed
    for n, firm in enumerate(firms[:10]):
        certify(firm, "iso9001", f"Q-{n}", 100)
    certify(firms[0], "iso9001", "Q-again", 50)
    certify(firms[1], "iso14001", "E-1", 60)
    certify(firms[20], "iso14001", "E-2", 60)
    certify(firms[30], "iso9001", "Q-old", 400)  # before the campaign's period
    certify(EnterpriseFactory(), "iso9001", "Q-unsurveyed", 10)  # not surveyed, not assisted
    # Assisted: 4 firms, 2 of them ISO 9001 certified, one of those also ISO 14001.
    for firm in (firms[0], firms[1], firms[40], firms[41]):
        CaseFactory(campaign=campaign, enterprise=firm)
    kpis.compute_campaign(campaign.pk)

    province = snapshot(campaign, "130000")
    assert (province["firms_surveyed"], province["surveyed_certified"], province["surveyed_certified_share"]) == (
        50, 11, 22.0)
    iso9001 = snapshot(campaign, "130000", breakdown="scheme", key="iso9001")
    assert (iso9001["surveyed_certified"], iso9001["surveyed_certified_share"]) == (10, 20.0)
    assert (iso9001["firms_certified"], iso9001["certified_share"]) == (2, 50.0)
    iso14001 = snapshot(campaign, "130000", breakdown="scheme", key="iso14001")
    assert (iso14001["surveyed_certified"], iso14001["surveyed_certified_share"]) == (2, 4.0)
    assert (iso14001["firms_certified"], iso14001["certified_share"]) == (1, 25.0)
    assert (province["firms_certified"], province["certified_share"]) == (2, 50.0)
    # Shijiazhuang holds the odd-numbered firms: 25 surveyed, 5 of them ISO 9001 (1, 3, 5, 7, 9).
    shijiazhuang = snapshot(campaign, "130100", breakdown="scheme", key="iso9001")
    assert (shijiazhuang["surveyed_certified"], shijiazhuang["surveyed_certified_share"]) == (5, 20.0)
    assert snapshot(campaign, "130100")["firms_surveyed"] == 25
    assert not KpiSnapshot.objects.filter(campaign=campaign, breakdown="scheme", key="ccc").exists()


def test_a_target_for_one_scheme_is_met_or_missed_on_its_own(admin_user):
    campaign = CampaignFactory()
    firms = [EnterpriseFactory() for _ in range(5)]
    for firm in firms:
        answer(firm, campaign)
    certify(firms[0], "iso9001", "Q-1", 30)
    certify(firms[1], "haccp", "H-1", 30)
    campaign_target_set(user=admin_user, campaign=campaign, metric="surveyed_certified_share", key="iso9001",
                        value=20)
    campaign_target_set(user=admin_user, campaign=campaign, metric="surveyed_certified", key="iatf16949", value=1)
    campaign_target_set(user=admin_user, campaign=campaign, metric="surveyed_certified", value=2)
    kpis.compute_campaign(campaign.pk)
    figures = snapshot(campaign, "130000")
    assert figures["targets"] == {"surveyed_certified_share:iso9001": 20.0, "surveyed_certified:iatf16949": 1.0,
                                  "surveyed_certified": 2.0}
    assert (figures["surveyed_certified_share:iso9001"], figures["surveyed_certified:iatf16949"],
            figures["surveyed_certified"]) == (20.0, 0, 2)
    dashboard = dashboard_for(user=admin_user, campaign=campaign)
    met = {row.metric: row.met for row in dashboard.targets}
    assert met == {"surveyed_certified": True, "surveyed_certified_share:iso9001": True,
                   "surveyed_certified:iatf16949": False}


@pytest.mark.parametrize(("metric", "key", "field", "message"), [
    ("firms_certified", "iso9999", "key", "Choose a certification scheme"),
    ("firms_wanting", "", "key", "Name the service area"),
    ("wanting_share", "99", "key", "No service area has this number"),
    ("visits", "iso9001", "key", "Only a figure counted per certification scheme"),
    ("wanting_share", "2", "value", "A share is at most 100%"),
])
def test_a_keyed_target_names_a_real_scheme_or_service_area(admin_user, metric, key, field, message):
    campaign = CampaignFactory()
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            campaign_target_set(user=admin_user, campaign=campaign, metric=metric, key=key,
                                value=150 if field == "value" else 1)
        assert message in " ".join(refused.value.message_dict[field])
    assert not CampaignTarget.objects.exists()


# --- the baseline survey ---------------------------------------------------------------------------


def test_seven_of_eight_baseline_firms_wanting_quality_infrastructure_is_87_5_percent(admin_user):
    campaign = CampaignFactory()
    quality_infrastructure, training, diagnosis = (ServiceArea.objects.get(code=code) for code in (2, 8, 1))
    firms = [EnterpriseFactory(region=region("130102" if n < 5 else "130203")) for n in range(8)]
    for n, firm in enumerate(firms):
        wanted = [quality_infrastructure, training] if n < 7 else []
        if n == 0:
            wanted.append(diagnosis)
        answer(firm, campaign, kind="baseline", services=wanted)
    answer(firms[1], campaign, kind="baseline", services=[quality_infrastructure])  # answered twice: one firm
    answer(firms[2], campaign, kind="follow_up")  # a follow-up is no baseline answer
    answer(EnterpriseFactory(), CampaignFactory(), kind="baseline", services=[quality_infrastructure])
    campaign_target_set(user=admin_user, campaign=campaign, metric="wanting_share", key="2", value=80)
    kpis.compute_campaign(campaign.pk)

    province = snapshot(campaign, "130000")
    assert province["baseline_surveys"] == 8
    area = snapshot(campaign, "130000", breakdown="service_area", key="2")
    assert (area["firms_wanting"], area["wanting_share"]) == (7, 87.5)
    assert snapshot(campaign, "130000", breakdown="service_area", key="1")["wanting_share"] == 12.5
    assert (province["wanting_share:2"], province["targets"]) == (87.5, {"wanting_share:2": 80.0})
    # Tangshan's three firms: two want it, one wants nothing.
    tangshan = snapshot(campaign, "130200", breakdown="service_area", key="2")
    assert (tangshan["firms_wanting"], tangshan["wanting_share"]) == (2, 66.67)
    assert snapshot(campaign, "130200")["baseline_surveys"] == 3
    dashboard = dashboard_for(user=admin_user, campaign=campaign)
    [row] = dashboard.targets
    assert (row.actual, row.met) == (87.5, True)
    assert "2 " in str(row.label)


# --- key parks and products per city ------------------------------------------------------------------


@pytest.fixture
def anhui(admin_user):
    campaign = Campaign.objects.create(name="安徽省质量提升行动年", organiser="安徽省质量技术监督局",
                                       region=region("340000"), starts_on=days_ago(200), ends_on=days_ago(-100))
    campaign_target_set(user=admin_user, campaign=campaign, metric="key_parks", scope="each_city", value=1)
    campaign_target_set(user=admin_user, campaign=campaign, metric="key_products", scope="each_city", value=2)
    return campaign


def designate(user, name, code, kind, days=30):
    return key_designation_create(user=user, name=name, region=region(code), kind=kind, designated_on=days_ago(days))


def test_anhui_cities_with_a_park_and_two_products_meet_the_quota_and_one_city_misses(anhui, admin_user):
    hefei = RegulatorFactory(region=region("340100"))
    designate(hefei, "合肥高新区", "340100", "park")
    designate(hefei, "新能源汽车", "340104", "product")  # in a county: counts for the city
    designate(hefei, "集成电路", "340102", "product")
    designate(admin_user, "芜湖经开区", "340200", "park")
    designate(admin_user, "机器人", "340202", "product")
    designate(admin_user, "家电", "340200", "product")
    designate(admin_user, "蚌埠高新区", "340300", "park")
    designate(admin_user, "硅基材料", "340302", "product")
    designate(admin_user, "玻璃", "340300", "product", days=300)  # before the campaign: not counted
    outbox.drain_all()

    province = snapshot(anhui, "340000")
    assert (province["key_parks"], province["key_products"]) == (3, 5)
    assert snapshot(anhui, "340104")["key_products"] == 1
    dashboard = dashboard_for(user=admin_user, campaign=anhui)
    met = {child.region.code: {row.metric: row.met for row in child.targets} for child in dashboard.children}
    assert met["340100"] == {"key_parks": True, "key_products": True}
    assert met["340200"] == {"key_parks": True, "key_products": True}
    assert met["340300"] == {"key_parks": True, "key_products": False}
    assert met["340400"] == {"key_parks": False, "key_products": False}  # nothing designated yet
    assert kpis.recount(anhui.pk, kpis.Touched(everything=True)).corrections == 0


def test_withdrawing_a_designation_updates_the_figures_at_once(anhui, admin_user):
    park = designate(admin_user, "蚌埠高新区", "340302", "park")
    outbox.drain_all()
    assert snapshot(anhui, "340300")["key_parks"] == 1
    key_designation_remove(user=admin_user, designation=park)
    outbox.drain_all()
    assert snapshot(anhui, "340300")["key_parks"] == 0
    assert snapshot(anhui, "340000")["key_parks"] == 0
    assert kpis.recount(anhui.pk, kpis.Touched(everything=True)).corrections == 0


def test_a_designation_outside_ones_jurisdiction_or_by_a_supervisor_is_refused(anhui):
    from django.core.exceptions import PermissionDenied

    hefei = RegulatorFactory(region=region("340100"))
    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            designate(hefei, "芜湖经开区", "340200", "park")
        assert "outside your jurisdiction" in refused.value.message_dict["region"][0]
    with pytest.raises(PermissionDenied):
        designate(SupervisorFactory(region=region("340000")), "园区", "340100", "park")
    assert not KeyDesignation.objects.exists()


def test_live_updates_of_certificates_and_surveys_reach_the_new_figures(admin_user):
    campaign = CampaignFactory()
    kpis.compute_campaign(campaign.pk)
    contact = UserFactory(role="sme")
    firm = EnterpriseFactory()
    firm.users.add(contact)
    registry.survey_answer(user=contact, enterprise=firm, kind="baseline", campaign=campaign,
                           services_wanted=[ServiceArea.objects.get(code=2)])
    outbox.drain_all()
    assert snapshot(campaign, "130000")["baseline_surveys"] == 1
    assert snapshot(campaign, "130000", breakdown="service_area", key="2")["wanting_share"] == 100.0
    registry.certification_add(user=admin_user, enterprise=firm, scheme="iso9001", number="Q-1", body="CQC",
                               issued_on=days_ago(3))
    outbox.drain_all()
    assert snapshot(campaign, "130000", breakdown="scheme", key="iso9001")["surveyed_certified_share"] == 100.0
    assert kpis.recount(campaign.pk, kpis.Touched(everything=True)).corrections == 0


# --- where the figures are read: the dashboard, its export, the KPI API, the target form -------------


@pytest.fixture
def surveyed_campaign(admin_user):
    campaign = CampaignFactory()
    firms = [EnterpriseFactory(region=region("130102" if n < 3 else "130203")) for n in range(5)]
    for n, firm in enumerate(firms):
        answer(firm, campaign, kind="baseline", services=ServiceArea.objects.filter(code=2) if n < 4 else [])
    certify(firms[0], "iso9001", "Q-1", 30)
    campaign_target_set(user=admin_user, campaign=campaign, metric="firms_wanting", key="2", scope="each_city",
                        value=3)
    kpis.compute_campaign(campaign.pk)
    return campaign


def test_the_dashboard_shows_the_figures_per_scheme_and_services_wanted_in_both_languages(
        client_for, diana, surveyed_campaign, settings):
    client = client_for(diana)
    url = reverse("dashboards:campaign", args=[surveyed_campaign.pk])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url, {"rank_by": "baseline_surveys"}).content.decode()
    for text in ("Firms surveyed", "Baseline surveys answered", "Certification by scheme", "ISO 9001",
                 "Services wanted in the baseline survey", "80%", "Key industrial parks"):
        assert text in page, text
    dashboard = client.get(url, {"rank_by": "baseline_surveys"}).context["dashboard"]
    assert dashboard.rank_by == "baseline_surveys"
    assert [child.region.code for child in dashboard.children[:2]] == ["130100", "130200"]
    columns = dict(dashboard.target_columns())
    assert str(columns["firms_wanting:2"]).startswith("Firms wanting a service area · 2 ")
    met = {child.region.code: child.targets[0].met for child in dashboard.children if child.targets}
    assert met["130100"] is True and met["130200"] is False  # 3 of 3 wanting, 1 of 3
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "ISO 9001" in client.get(url).content.decode()


def test_the_export_and_the_kpi_api_carry_the_new_figures(client_for, api, diana, surveyed_campaign, settings):
    client = client_for(diana)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    csv_text = client.get(reverse("dashboards:export", args=[surveyed_campaign.pk, "csv"])).content.decode("utf-8-sig")
    assert "Baseline surveys answered,5," in csv_text
    assert "Certification scheme" in csv_text and "iso9001,ISO 9001,0,—" not in csv_text
    rows = api(diana).get(reverse("api:kpi-snapshot-list"), {"campaign": surveyed_campaign.pk, "breakdown": "scheme",
                                                            "region": "130000"}).json()["results"]
    assert [(row["key"], row["figures"]["surveyed_certified_share"]) for row in rows] == [("iso9001", 20.0)]
    ranked = api(diana).get(reverse("api:kpi-snapshot-list"), {"campaign": surveyed_campaign.pk, "level": "city",
                                                              "to_date": "true", "breakdown": "total",
                                                              "rank_by": "baseline_surveys"}).json()["results"]
    assert [row["region"] for row in ranked[:2]] == ["130100", "130200"]


def test_a_target_of_one_service_area_is_set_through_the_page_and_the_api(client_for, api, admin_user):
    campaign = CampaignFactory()
    response = client_for(admin_user).post(reverse("campaigns:targets", args=[campaign.pk]), {
        "action": "add", "metric": "wanting_share", "scope": "campaign", "key": "2", "value": "80"})
    assert response.status_code == 302
    assert CampaignTarget.objects.get().figure == "wanting_share:2"
    response = api(admin_user).post(reverse("api:campaign-targets", args=[campaign.pk]),
                                    {"metric": "surveyed_certified_share", "key": "ISO9001", "value": "20"},
                                    format="json")
    assert response.status_code == 201 and response.json()["key"] == "iso9001"
    response = api(admin_user).post(reverse("api:campaign-targets", args=[campaign.pk]),
                                    {"metric": "wanting_share", "value": "20"}, format="json")
    assert response.status_code == 400 and "Name the service area" in response.json()["key"][0]
    assert CampaignTarget.objects.count() == 2


def test_a_scheme_target_counts_zero_where_only_the_other_side_has_firms_of_that_scheme(admin_user):
    """ISO 9001 among surveyed firms but none among assisted ones: the assisted-side target reads 0, 0%."""
    campaign = CampaignFactory()
    firm = EnterpriseFactory()
    answer(firm, campaign)
    certify(firm, "iso9001", "Q-1", 30)
    CaseFactory(campaign=campaign, enterprise=EnterpriseFactory())
    campaign_target_set(user=admin_user, campaign=campaign, metric="firms_certified", key="iso9001", value=1)
    campaign_target_set(user=admin_user, campaign=campaign, metric="certified_share", key="iso9001", value=10)
    kpis.compute_campaign(campaign.pk)
    figures = snapshot(campaign, "130000")
    assert (figures["firms_certified:iso9001"], figures["certified_share:iso9001"]) == (0, 0.0)
    assert snapshot(campaign, "130000", breakdown="scheme", key="iso9001")["surveyed_certified_share"] == 100.0


def test_the_weekly_pace_check_reads_a_target_of_one_service_area_but_never_a_share():
    from campaigns.kpis.pace import behind, describe

    figures = {"targets": {"wanting_share:2": 80.0, "firms_wanting:2": 10.0, "key_parks": 1.0},
               "wanting_share:2": 50.0, "firms_wanting:2": 3, "key_parks": 1}
    late = behind(figures, 0.6)
    assert [(metric, actual) for metric, _target, actual, _pace in late] == [("firms_wanting:2", 3)]
    with translation.override("en"):
        assert describe(late).startswith("Firms wanting a service area · 2 Quality-infrastructure")
        assert "3 / 10" in describe(late)
