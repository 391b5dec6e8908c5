"""Targets relative to another campaign (Anhui 2018: at least 20% more demonstrations than last year).

A relative target names a base campaign and a percentage; its value in each region is worked out
from the base campaign's stored to-date figure for that region when the figures are counted, and
follows the base campaign when its figures change (the engine notes a target change for the
dependent campaign). Personas: bob and bianca regulate Shijiazhuang (130100), charlie Tangshan,
diana supervises Hebei read-only.
"""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.cases import services as case_services
from campaigns.kpis import engine
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import CampaignTarget
from campaigns.services import campaign_target_set
from enterprises.models import Certification, NeedsSurvey
from portal import outbox
from tests.factories import CampaignFactory, CaseFactory, EnterpriseFactory, UserFactory, region

pytestmark = pytest.mark.django_db

Metric, Scope = CampaignTarget.Metric, CampaignTarget.Scope


@pytest.fixture(autouse=True)
def in_english():
    """The services' messages read in English here, whatever a test before this one left active."""
    with translation.override("en"):
        yield


@pytest.fixture
def last_year(db):
    """Last year's Shijiazhuang campaign: 5 cases in 长安区 (130102), none in 桥西区 (130104)."""
    campaign = CampaignFactory(name="石家庄2025帮扶", region=region("130100"))
    for _ in range(5):
        CaseFactory(campaign=campaign, enterprise=EnterpriseFactory(region=region("130102")))
    engine.compute_campaign(campaign.pk)
    return campaign


@pytest.fixture
def this_year(db):
    """This year's: 3 cases in 长安区, 1 in 桥西区."""
    campaign = CampaignFactory(name="石家庄2026帮扶", region=region("130100"))
    for code in ("130102", "130102", "130102", "130104"):
        CaseFactory(campaign=campaign, enterprise=EnterpriseFactory(region=region(code)))
    return campaign


def county_row(campaign, code: str) -> dict:
    return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period="", breakdown="", key="").figures


def targets_url(campaign) -> str:
    return reverse("api:campaign-targets", kwargs={"pk": campaign.pk})


def relative(bob, campaign, base, percent=20, scope=Scope.EACH_COUNTY, metric=Metric.CASES, **kwargs):
    return campaign_target_set(user=bob, campaign=campaign, metric=metric, scope=scope, base_campaign=base,
                               base_percent=percent, **kwargs)


# --- the value worked out per region -------------------------------------------------------------


def test_each_countys_target_is_the_base_campaigns_figure_there_plus_the_percentage(bob, last_year, this_year):
    relative(bob, this_year, last_year, 20)
    engine.compute_campaign(this_year.pk)
    changan, qiaoxi = county_row(this_year, "130102"), county_row(this_year, "130104")
    assert changan["targets"] == {"cases": 6.0}  # 5 × 1.2
    assert changan["target_bases"] == {"cases": {"campaign": last_year.pk, "campaign_name": "石家庄2025帮扶",
                                                 "percent": 20.0, "base": 5}}
    assert qiaoxi["targets"] == {"cases": 0.0}  # nothing last year: nothing to beat
    assert "targets" in county_row(this_year, "130100") and county_row(this_year, "130100")["targets"] == {}


def test_a_negative_percentage_asks_for_less_and_minus_100_for_nothing(bob, last_year, this_year):
    relative(bob, this_year, last_year, Decimal("-40"), scope=Scope.CAMPAIGN)
    engine.compute_campaign(this_year.pk)
    assert county_row(this_year, "130100")["targets"] == {"cases": 3.0}


def test_the_target_follows_the_base_campaign_when_its_figures_change(bob, last_year, this_year):
    relative(bob, this_year, last_year, 20, scope=Scope.CAMPAIGN)
    outbox.drain_all()
    assert county_row(this_year, "130100")["targets"] == {"cases": 6.0}
    # A case of last year's campaign entered after the fact: its figure becomes 6, this year's target 7.2.
    case_services.case_open(user=bob, campaign=last_year, enterprise=EnterpriseFactory(), title="补录案件")
    outbox.drain_all()
    assert county_row(last_year, "130100")["cases"] == 6
    assert county_row(this_year, "130100")["targets"] == {"cases": 6.0}  # not yet: its note waits
    # Last year's recount left a note for this year's targets, in its own transaction; its commit
    # wakes the next drain.
    assert outbox.drain_all() == 1
    assert county_row(this_year, "130100")["targets"] == {"cases": 7.2}
    assert county_row(this_year, "130100")["target_bases"]["cases"]["base"] == 6
    # A recount of last year's cases that changes nothing leaves this year's targets alone.
    touched = engine.Touched()
    touched.add(["cases"], "130102", None)
    engine.recount(last_year.pk, touched)
    assert outbox.drain_all() == 0


def test_a_base_campaign_not_counted_yet_gives_no_base_figure_not_an_error(bob, this_year):
    base = CampaignFactory(name="未统计的活动", region=region("130100"))
    relative(bob, this_year, base, 20, scope=Scope.CAMPAIGN)
    engine.compute_campaign(this_year.pk)
    row = county_row(this_year, "130100")
    assert row["targets"] == {}
    assert row["target_bases"]["cases"]["base"] is None


def test_switching_between_a_value_and_a_base_campaign_keeps_one_target(bob, last_year, this_year):
    campaign_target_set(user=bob, campaign=this_year, metric=Metric.CASES, value=10)
    target = relative(bob, this_year, last_year, 20, scope=Scope.CAMPAIGN)
    assert (target.value, target.base_campaign, target.base_percent) == (None, last_year, Decimal("20"))
    target = campaign_target_set(user=bob, campaign=this_year, metric=Metric.CASES, value=10)
    assert (target.value, target.base_campaign_id, target.base_percent) == (Decimal("10"), None, None)
    assert this_year.targets.count() == 1


# --- refused, per field --------------------------------------------------------------------------


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict


def test_the_service_refuses_bad_relative_targets_per_field(bob, last_year, this_year):
    county = CampaignFactory(name="长安区帮扶", region=region("130102"))
    tangshan = CampaignFactory(name="唐山帮扶", region=region("130200"))
    assert "base_campaign" in errors_of(lambda: relative(bob, this_year, this_year))
    missing = errors_of(lambda: relative(bob, this_year, None))
    assert missing["base_campaign"] == ["Choose the campaign to compare with."]
    assert "base_percent" in errors_of(lambda: relative(bob, this_year, last_year, Decimal("-100.01")))
    assert "base_percent" in errors_of(lambda: relative(bob, this_year, last_year, None))
    assert "does not cover" in errors_of(lambda: relative(bob, this_year, county))["base_campaign"][0]
    assert errors_of(lambda: relative(bob, this_year, tangshan))["base_campaign"] == ["No such campaign."]
    # A one-region target may compare with a campaign covering that region only.
    assert relative(bob, this_year, county, scope=Scope.REGION, region=region("130102")).base_campaign == county
    assert this_year.targets.count() == 1


# --- the pages and the API -----------------------------------------------------------------------


def test_the_dashboard_says_what_the_target_was_worked_out_from_and_whether_it_is_met(
        client_for, bob, last_year, this_year):
    relative(bob, this_year, last_year, 20)
    engine.compute_campaign(this_year.pk)
    client = client_for(bob)
    client.cookies["django_language"] = "en"
    html = client.get(reverse("dashboards:campaign", args=[this_year.pk])).content.decode()
    assert "20% more than 石家庄2025帮扶 (5)" in html
    assert "50.0% · missed" in html  # 长安区: 3 of 6
    assert "100.0% · met" in html  # 桥西区: 1 of 0


def test_the_dashboard_shows_no_base_figure_instead_of_failing(client_for, bob, this_year):
    base = CampaignFactory(name="未统计的活动", region=region("130100"))
    relative(bob, this_year, base, 20, scope=Scope.CAMPAIGN)
    engine.compute_campaign(this_year.pk)
    client = client_for(bob)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("dashboards:campaign", args=[this_year.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "20% more than 未统计的活动 (no base figure)" in html
    assert "/ no base figure" in html  # the actual against no target, no attainment worked out
    assert 'data-testid="target-attainment">—<' in html


def test_the_export_and_the_kpi_api_carry_the_basis(client_for, api, bob, last_year, this_year):
    relative(bob, this_year, last_year, 20, scope=Scope.CAMPAIGN)
    engine.compute_campaign(this_year.pk)
    client = client_for(bob)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("dashboards:export", args=[this_year.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["Cases opened", "4.8", "4", "83.3", "no", "20% less than 石家庄2025帮扶 (5)"] not in rows
    assert ["Cases opened", "6.0", "4", "66.7", "no", "20% more than 石家庄2025帮扶 (5)"] in rows
    body = api(bob).get(reverse("api:kpi-snapshot-list"), {"campaign": this_year.pk, "region": "130100",
                                                           "to_date": "true"}).json()
    totals = [row for row in body["results"] if row["breakdown"] == ""][0]["figures"]
    assert totals["targets"] == {"cases": 6.0}
    assert totals["target_bases"]["cases"]["campaign"] == last_year.pk


def test_the_target_page_adds_a_relative_target_and_shows_errors_per_field(client_for, bob, last_year, this_year):
    client = client_for(bob)
    client.cookies["django_language"] = "en"
    url = reverse("campaigns:targets", args=[this_year.pk])
    page = client.get(url).content.decode()
    assert f'value="{last_year.pk}"' in page and f'value="{this_year.pk}"' not in page.split("base_campaign")[-1]
    response = client.post(url, {"action": "add", "metric": "cases", "scope": "each_county",
                                 "base_campaign": this_year.pk, "base_percent": "20"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    response = client.post(url, {"action": "add", "metric": "cases", "scope": "each_county",
                                 "base_campaign": last_year.pk, "base_percent": "-120"})
    assert response.status_code == 400
    assert response.context["add_form"].errors.keys() == {"base_percent"}
    response = client.post(url, {"action": "add", "metric": "cases", "scope": "each_county", "base_percent": "20"})
    assert response.context["add_form"].errors == {"base_campaign": ["Choose the campaign to compare with."]}
    response = client.post(url, {"action": "add", "metric": "cases", "scope": "each_county",
                                 "base_campaign": "99999999999999999999", "base_percent": "20"})
    assert response.status_code == 400 and "base_campaign" in response.context["add_form"].errors
    assert not this_year.targets.exists()
    response = client.post(url, {"action": "add", "metric": "cases", "scope": "each_county",
                                 "base_campaign": last_year.pk, "base_percent": "20"})
    assert response.status_code == 302
    target = this_year.targets.get()
    assert "20% more than 石家庄2025帮扶" in client.get(url).content.decode()
    # Changing the percentage of the listed target.
    response = client.post(url, {"action": "change", "target": target.pk, f"target-{target.pk}-value": "35"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.base_percent, target.base_campaign_id, target.value) == (Decimal("35.00"), last_year.pk, None)


def test_the_api_sets_a_relative_target_and_answers_400_per_field(api, bob, last_year, this_year):
    tangshan = CampaignFactory(name="唐山帮扶", region=region("130200"))
    url = targets_url(this_year)
    bad = [({"base_campaign": this_year.pk, "base_percent": "20"}, "base_campaign"),
           ({"base_campaign": tangshan.pk, "base_percent": "20"}, "base_campaign"),
           ({"base_campaign": last_year.pk, "base_percent": "-101"}, "base_percent"),
           ({"base_campaign": last_year.pk}, "base_percent"),
           ({"base_percent": "20"}, "base_campaign"),
           ({"base_campaign": 2**70, "base_percent": "20"}, "base_campaign"),
           ({}, "value")]
    for extra, field in bad:
        response = api(bob).post(url, {"metric": "cases", "scope": "each_county", **extra}, format="json")
        assert response.status_code == 400, (extra, response.content)
        assert field in response.json(), (extra, response.json())
    assert not this_year.targets.exists()
    response = api(bob).post(url, {"metric": "cases", "scope": "each_county", "base_campaign": last_year.pk,
                                   "base_percent": "20"}, format="json", HTTP_IDEMPOTENCY_KEY="relative-target-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["value"], body["base_campaign"], body["base_campaign_name"], body["base_percent"]) == (
        None, last_year.pk, "石家庄2025帮扶", "20.00")
    again = api(bob).post(url, {"metric": "cases", "scope": "each_county", "base_campaign": last_year.pk,
                                "base_percent": "20"}, format="json", HTTP_IDEMPOTENCY_KEY="relative-target-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    listed = api(bob).get(url).json()
    assert [(t["base_campaign"], t["base_percent"]) for t in listed] == [(last_year.pk, "20.00")]


@pytest.mark.parametrize(("who", "code"), [("bob", 201), ("bianca", 201), ("charlie", 404), ("diana", 403),
                                            ("alice", 403), ("anonymous", 403)])
def test_who_may_set_a_relative_target(api, persona, last_year, this_year, who, code):
    response = api(persona(who)).post(targets_url(this_year), {
        "metric": "cases", "scope": "campaign", "base_campaign": last_year.pk, "base_percent": "20"}, format="json")
    assert response.status_code == code
    assert this_year.targets.exists() == (code == 201)


def test_a_campaign_compared_with_cannot_be_deleted_from_under_its_dependants(bob, last_year, this_year):
    from django.db.models import ProtectedError

    relative(bob, this_year, last_year, 20)
    with pytest.raises(ProtectedError):
        last_year.delete()


# --- a relative target of one certification scheme --------------------------------------------------


def test_a_relative_target_of_one_scheme_reads_the_base_campaigns_row_of_that_scheme(admin_user):
    """20% more surveyed ISO 9001 holders than last year, per county: the base is last year's ISO 9001
    row in that county; a county where last year had firms but none with ISO 9001 has a base of 0."""
    def survey_and_certify(campaign, code, scheme=None):
        firm = EnterpriseFactory(region=region(code))
        NeedsSurvey.objects.create(enterprise=firm, campaign=campaign, kind="follow_up", answered_by=UserFactory(),
                                   awareness_improved=True, performance_improved=True)
        CaseFactory(campaign=campaign, enterprise=firm)
        if scheme:
            Certification.objects.create(enterprise=firm, scheme=scheme, number=f"N-{firm.pk}", body="CQC",
                                         issued_on=timezone.localdate() - datetime.timedelta(days=10))

    base = CampaignFactory(name="去年", region=region("130100"))
    for _ in range(5):
        survey_and_certify(base, "130102", "iso9001")
    survey_and_certify(base, "130104", "haccp")
    engine.compute_campaign(base.pk)
    current = CampaignFactory(name="今年", region=region("130100"))
    for scheme in ("iso9001", "iso9001", None):
        survey_and_certify(current, "130102", scheme)
    relative(admin_user, current, base, 20, metric=Metric.SURVEYED_CERTIFIED, key="iso9001")
    engine.compute_campaign(current.pk)
    changan, qiaoxi = county_row(current, "130102"), county_row(current, "130104")
    assert changan["targets"] == {"surveyed_certified:iso9001": 6.0}  # 5 × 1.2
    assert changan["surveyed_certified:iso9001"] == 2
    assert changan["target_bases"]["surveyed_certified:iso9001"]["base"] == 5
    assert qiaoxi["targets"] == {"surveyed_certified:iso9001": 0.0}  # firms last year, none with ISO 9001
