"""/api/campaigns/: campaigns with their targets and figures, creating, changing, and their targets.

Personas (tests/conftest.py): bob and bianca regulate Shijiazhuang (130100), charlie Tangshan
(130200); diana supervises Hebei (130000) read-only; alice is an SME user, erin an expert.
Anonymous callers get 403 (session authentication sends no challenge). Who sees which campaign
in the list is also covered by tests/test_cases_api.py.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.models import Campaign, CampaignTarget
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from enterprises.services import need_submit
from portal.models import AuditEntry, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, region

pytestmark = pytest.mark.django_db

Metric, Scope = CampaignTarget.Metric, CampaignTarget.Scope
ANONYMOUS = FORBIDDEN = 403
HIDDEN = 404
TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


@pytest.fixture
def hebei(db):
    return CampaignFactory(name="河北省质量提升行动", theme="推行全面质量管理")


@pytest.fixture
def shijiazhuang(db):
    campaign = CampaignFactory(name="石家庄市一对一帮扶", region=region("130100"), organiser="石家庄市市场监督管理局")
    campaign.service_areas.set([1, 2, 8])
    return campaign


@pytest.fixture
def tangshan(db):
    return CampaignFactory(name="唐山市计量帮扶", region=region("130200"))


def detail_url(campaign: Campaign) -> str:
    return reverse("api:campaign-detail", kwargs={"pk": campaign.pk})


def targets_url(campaign: Campaign) -> str:
    return reverse("api:campaign-targets", kwargs={"pk": campaign.pk})


def target_url(campaign: Campaign, target_id) -> str:
    return reverse("api:campaign-target", kwargs={"pk": campaign.pk, "target_id": target_id})


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def session_for(user, campaign, code: str, held_on=None):
    return training_services.training_record(
        user=user, campaign=campaign, region=region(code), topic="计量培训", held_on=held_on or TODAY() - DAY,
        organiser="市场监管局", attendances=[(EnterpriseFactory(region=region(code)), 2, "")])


# --- reading ---------------------------------------------------------------------------------


def test_a_campaign_shows_its_status_figures_and_targets(api, bob, shijiazhuang):
    campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.KEY_FIRMS_ASSISTED, value=50,
                                 scope=Scope.EACH_COUNTY)
    campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.PERSON_TIMES, value=300,
                                 scope=Scope.REGION, region=region("130102"))
    services.case_open(user=bob, campaign=shijiazhuang, enterprise=EnterpriseFactory(), title="计量帮扶")
    session_for(bob, shijiazhuang, "130104")
    body = api(bob).get(detail_url(shijiazhuang)).json()
    assert (body["region"], body["status"], body["service_areas"]) == ("130100", "running", [1, 2, 8])
    assert (body["cases_count"], body["training_sessions_count"]) == (1, 1)
    assert [(t["metric"], t["scope"], t["region"], t["region_name"], t["value"]) for t in body["targets"]] == [
        ("key_firms_assisted", "each_county", None, None, "50.00"),
        ("person_times", "region", "130102", "长安区", "300.00"),
    ]
    assert body["targets"][0]["metric_label"] == "Key enterprises assisted"


def test_the_figures_count_only_what_the_caller_may_see(api, bob, charlie, diana, hebei):
    services.case_open(user=bob, campaign=hebei, enterprise=EnterpriseFactory(), title="石家庄")
    services.case_open(user=charlie, campaign=hebei, enterprise=EnterpriseFactory(region=region("130203")),
                       title="唐山")
    session_for(charlie, hebei, "130203")
    figures = {who.username: api(who).get(detail_url(hebei)).json() for who in (bob, charlie, diana)}
    assert {name: (b["cases_count"], b["training_sessions_count"]) for name, b in figures.items()} == {
        "bob": (1, 0), "charlie": (1, 1), "diana": (2, 1)}


@pytest.mark.parametrize(("who", "code"), [("alice", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS),
                                            ("bob", 200), ("diana", 200)])
def test_only_staff_read_a_campaigns_targets(api, persona, shijiazhuang, who, code):
    assert api(persona(who)).get(targets_url(shijiazhuang)).status_code == code


def test_another_citys_campaign_and_its_targets_are_hidden(api, bob, tangshan):
    assert api(bob).get(detail_url(tangshan)).status_code == HIDDEN
    assert api(bob).get(targets_url(tangshan)).status_code == HIDDEN


# --- filters: one test each ------------------------------------------------------------------


@pytest.fixture
def spread(hebei, shijiazhuang, tangshan):
    """Hebei and the two cities run now; Chang'an's starts next month; Xinhua's ended last year."""
    changan = CampaignFactory(name="长安区计量行动", region=region("130102"), starts_on=TODAY() + 30 * DAY,
                              ends_on=TODAY() + 90 * DAY)
    changan.service_areas.set([2])
    xinhua = CampaignFactory(name="新华区品牌行动", region=region("130105"), starts_on=TODAY() - 500 * DAY,
                             ends_on=TODAY() - 200 * DAY)
    return {"hebei": hebei, "sjz": shijiazhuang, "tangshan": tangshan, "changan": changan, "xinhua": xinhua}


@pytest.mark.parametrize(
    ("params", "keeps"),
    [
        ({"q": "计量"}, {"tangshan", "changan"}),
        ({"q": "全面质量"}, {"hebei"}),
        ({"q": "石家庄市市场监督管理局"}, {"sjz"}),
        ({"region": "130100"}, {"sjz", "changan", "xinhua"}),
        ({"region": "130102"}, {"changan"}),
        ({"covers": "130102"}, {"hebei", "sjz", "changan"}),
        ({"covers": "130203"}, {"hebei", "tangshan"}),
        ({"running": "true"}, {"hebei", "sjz", "tangshan"}),
        ({"running": "false"}, {"changan", "xinhua"}),
        ({"status": "upcoming"}, {"changan"}),
        ({"status": ["ended", "upcoming"]}, {"changan", "xinhua"}),
        ({"service_area": "2"}, {"sjz", "changan"}),
    ],
)
def test_each_filter_keeps_its_rows(api, admin_user, spread, params, keeps):
    assert ids(api(admin_user).get(reverse("api:campaign-list"), params)) == {spread[key].pk for key in keeps}


def test_the_active_on_filter_keeps_campaigns_whose_period_includes_the_date(api, admin_user, spread):
    day = (TODAY() + 60 * DAY).isoformat()
    response = api(admin_user).get(reverse("api:campaign-list"), {"active_on": day})
    assert ids(response) == {spread[key].pk for key in ("hebei", "sjz", "tangshan", "changan")}
    response = api(admin_user).get(reverse("api:campaign-list"), {"active_on": (TODAY() - 300 * DAY).isoformat()})
    assert ids(response) == {spread[key].pk for key in ("hebei", "sjz", "tangshan", "xinhua")}


@pytest.mark.parametrize("params", [{"active_on": "soon"}, {"status": "lost"}, {"service_area": "99999999999999999999"},
                                    {"service_area": "x"}])
def test_a_malformed_filter_answers_400(api, bob, params):
    assert api(bob).get(reverse("api:campaign-list"), params).status_code == 400


@pytest.mark.parametrize("params", [{"region": "abc"}, {"covers": "13"}])
def test_a_malformed_region_filter_keeps_nothing(api, bob, hebei, params):
    assert ids(api(bob).get(reverse("api:campaign-list"), params)) == set()


# --- query counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [2, 20])
def test_the_list_runs_a_constant_number_of_queries(api, bob, django_assert_num_queries, page_size):
    for n in range(25):
        campaign = CampaignFactory(name=f"县级行动{n:02d}", region=region("130102" if n % 2 else "130104"))
        campaign.service_areas.set([1, 2])
        campaign_target_set(user=bob, campaign=campaign, metric=Metric.FIRMS_ASSISTED, value=10)
        campaign_target_set(user=bob, campaign=campaign, metric=Metric.PERSON_TIMES, value=100,
                                     scope=Scope.REGION, region=campaign.region)
    client = api(bob)
    # 1 COUNT; 1 page of campaigns joined to region, with status, case and session counts as
    # subqueries; 1 prefetch of service areas; 1 prefetch of targets joined to their region.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:campaign-list"), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# --- creating --------------------------------------------------------------------------------


def new_campaign(**overrides) -> dict:
    payload = {"name": "2026年唐山市质量提升行动", "organiser": "唐山市市场监督管理局", "region": "130200",
               "theme": "质量强市", "starts_on": TODAY().isoformat(), "ends_on": (TODAY() + 200 * DAY).isoformat(),
               "service_areas": [2, 8]}
    payload.update(overrides)
    return payload


def test_an_administrator_creates_a_campaign(api, admin_user):
    response = api(admin_user).post(reverse("api:campaign-list"), new_campaign(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["region"], body["service_areas"], body["targets"]) == (
        "2026年唐山市质量提升行动", "130200", [2, 8], [])
    assert AuditEntry.objects.filter(content_type__model="campaign", object_id=str(body["id"]),
                                     action="create", actor=admin_user).exists()


@pytest.mark.parametrize(("who", "code"), [("bob", FORBIDDEN), ("diana", FORBIDDEN), ("alice", FORBIDDEN),
                                            ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_only_administrators_create_campaigns(api, persona, who, code):
    # Refused before the input is read: bad input from a regulator is a 403 too.
    for payload in (new_campaign(region="130100"), {}):
        assert api(persona(who)).post(reverse("api:campaign-list"), payload, format="json").status_code == code
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "errors"),
    [
        ({"ends_on": "2020-01-01"}, {"ends_on": ["A campaign cannot end before it starts."]}),
        ({"region": "999999"}, {"region": ["Object with code=999999 does not exist."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"service_areas": [99]}, {"service_areas": ['Invalid pk "99" - object does not exist.']}),
        ({"starts_on": "soon"}, {"starts_on": ["Date has wrong format. Use one of these formats instead: "
                                               "YYYY-MM-DD."]}),
    ],
)
def test_bad_input_for_a_new_campaign_answers_400_per_field(api, admin_user, overrides, errors):
    response = api(admin_user).post(reverse("api:campaign-list"), new_campaign(**overrides), format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert not Campaign.objects.exists()


# --- changing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "campaign", "code"),
    [("bob", "sjz", 200), ("bianca", "sjz", 200), ("admin_user", "tangshan", 200), ("bob", "hebei", FORBIDDEN),
     ("diana", "sjz", FORBIDDEN), ("charlie", "sjz", HIDDEN), ("alice", "sjz", FORBIDDEN),
     ("anonymous", "sjz", ANONYMOUS)],
)
def test_who_may_change_a_campaign(api, persona, hebei, shijiazhuang, tangshan, who, campaign, code):
    campaign = {"hebei": hebei, "sjz": shijiazhuang, "tangshan": tangshan}[campaign]
    response = api(persona(who)).patch(detail_url(campaign), {"theme": "一企一策"}, format="json")
    assert response.status_code == code
    assert (Campaign.objects.get(pk=campaign.pk).theme == "一企一策") is (code == 200)


def test_a_manager_extends_the_period_and_scope(api, bob, shijiazhuang):
    new_end = shijiazhuang.ends_on + 60 * DAY
    response = api(bob).patch(detail_url(shijiazhuang), {"ends_on": new_end.isoformat(), "service_areas": [1, 2, 8, 9]},
                              format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["ends_on"], response.json()["service_areas"]) == (new_end.isoformat(), [1, 2, 8, 9])
    entry = AuditEntry.objects.get(content_type__model="campaign", object_id=str(shijiazhuang.pk))
    assert set(entry.changes) == {"ends_on", "service_areas"} and entry.actor == bob


def test_a_regulator_renaming_a_campaign_is_refused_but_sending_the_name_unchanged_is_fine(api, bob, shijiazhuang):
    assert api(bob).patch(detail_url(shijiazhuang), {"name": "改名"}, format="json").status_code == FORBIDDEN
    response = api(bob).patch(detail_url(shijiazhuang), {"name": shijiazhuang.name, "theme": "新主题"}, format="json")
    assert response.status_code == 200
    assert Campaign.objects.get(pk=shijiazhuang.pk).name == "石家庄市一对一帮扶"


def test_an_administrator_renames_a_campaign(api, admin_user, shijiazhuang):
    response = api(admin_user).patch(detail_url(shijiazhuang), {"name": "石家庄市质量帮扶"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "石家庄市质量帮扶"


def test_the_jurisdiction_is_not_changed_through_the_api(api, admin_user, shijiazhuang):
    response = api(admin_user).patch(detail_url(shijiazhuang), {"region": "130200"}, format="json")
    assert response.status_code == 200
    assert Campaign.objects.get(pk=shijiazhuang.pk).region_id == "130100"


def test_a_shortened_period_leaving_out_recorded_work_is_refused_per_field(api, bob, shijiazhuang):
    services.case_open(user=bob, campaign=shijiazhuang, enterprise=EnterpriseFactory(), title="计量帮扶")
    first_session = TODAY() - 100 * DAY
    session_for(bob, shijiazhuang, "130104", held_on=first_session)
    payload = {"starts_on": (TODAY() - 10 * DAY).isoformat(), "ends_on": (TODAY() - DAY).isoformat()}
    response = api(bob).patch(detail_url(shijiazhuang), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "starts_on": [f"The campaign cannot start after {first_session}: its first case, visit or training session "
                      "dates from that day."],
        "ends_on": [f"The campaign cannot end before {TODAY()}: a case was opened or a training session held on "
                    "that day."],
    }
    assert Campaign.objects.get(pk=shijiazhuang.pk).starts_on == shijiazhuang.starts_on


def test_a_visit_before_a_later_start_is_refused(api, bob, shijiazhuang):
    case = services.case_open(user=bob, campaign=shijiazhuang, enterprise=EnterpriseFactory(), title="计量帮扶")
    services.visit_log(user=bob, case=case, visited_on=TODAY() - 3 * DAY, hours=2, people_present="王工")
    response = api(bob).patch(detail_url(shijiazhuang), {"starts_on": (TODAY() - DAY).isoformat()}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"starts_on"}


def test_dropping_a_service_area_the_cases_are_about_is_refused(api, alice, bob, shijiazhuang):
    need = need_submit(user=alice, enterprise=alice.enterprises.get(), service_area=ServiceArea.objects.get(code=8),
                       title="ISO 9001 认证", description="客户要求认证")
    services.case_open(user=bob, campaign=shijiazhuang, needs=[need], title="认证辅导")
    response = api(bob).patch(detail_url(shijiazhuang), {"service_areas": [1, 2]}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"service_areas"}


@pytest.mark.parametrize("payload", [{"ends_on": None}, {"starts_on": "x"}, {"service_areas": ["x"]},
                                     {"ends_on": "2025-02-30"}])
def test_malformed_changes_answer_400(api, bob, shijiazhuang, payload):
    assert api(bob).patch(detail_url(shijiazhuang), payload, format="json").status_code == 400


# --- targets ---------------------------------------------------------------------------------


def test_a_manager_sets_a_target_then_changes_its_value(api, bob, shijiazhuang):
    payload = {"metric": "key_firms_assisted", "scope": "each_county", "value": "50"}
    response = api(bob).post(targets_url(shijiazhuang), payload, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["metric"], response.json()["scope"], response.json()["value"]) == (
        "key_firms_assisted", "each_county", "50.00")
    response = api(bob).post(targets_url(shijiazhuang), {**payload, "value": "60"}, format="json")
    assert response.status_code == 200 and response.json()["value"] == "60.00"
    assert [row["value"] for row in api(bob).get(targets_url(shijiazhuang)).json()] == ["60.00"]


def test_a_target_for_one_region_names_it_by_code(api, bob, shijiazhuang):
    payload = {"metric": "person_times", "scope": "region", "region": "130102", "value": "1200"}
    response = api(bob).post(targets_url(shijiazhuang), payload, format="json")
    assert response.status_code == 201
    assert (response.json()["region"], response.json()["region_name"]) == ("130102", "长安区")


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"scope": "region", "region": "130203"},
         {"region": ["This region lies outside the campaign's jurisdiction."]}),
        ({"scope": "region"}, {"region": ["Name the region for a target of one region."]}),
        ({"metric": "certified_share", "value": "101"}, {"value": ["A share is at most 100%."]}),
        ({"value": "-5"}, {"value": ["Ensure this value is greater than or equal to 0."]}),
        ({"metric": "profit"}, {"metric": ['"profit" is not a valid choice.']}),
        ({"region": "abc", "scope": "region"}, {"region": ["Object with code=abc does not exist."]}),
    ],
)
def test_a_bad_target_answers_400_per_field(api, bob, shijiazhuang, payload, errors):
    response = api(bob).post(targets_url(shijiazhuang), {"metric": "firms_assisted", "value": "10", **payload},
                             format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert not CampaignTarget.objects.exists()


@pytest.mark.parametrize(("who", "campaign", "code"),
                         [("bob", "hebei", FORBIDDEN), ("diana", "sjz", FORBIDDEN), ("charlie", "sjz", HIDDEN),
                          ("alice", "sjz", FORBIDDEN), ("admin_user", "sjz", 201)])
def test_who_may_set_a_target(api, persona, hebei, shijiazhuang, who, campaign, code):
    campaign = {"hebei": hebei, "sjz": shijiazhuang}[campaign]
    response = api(persona(who)).post(targets_url(campaign), {"metric": "firms_assisted", "value": "10"},
                                      format="json")
    assert response.status_code == code
    assert CampaignTarget.objects.exists() is (code == 201)


def test_a_manager_removes_a_target_and_the_campaigns_trail_keeps_it(api, bob, shijiazhuang):
    target = campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.FIRMS_ASSISTED, value=50)
    response = api(bob).delete(target_url(shijiazhuang, target.pk))
    assert response.status_code == 204
    assert not CampaignTarget.objects.exists()
    entry = AuditEntry.objects.get(content_type__model="campaign", object_id=str(shijiazhuang.pk))
    assert entry.changes["targets"][1] is None and entry.note == "Target removed"


@pytest.mark.parametrize(("who", "code"), [("diana", FORBIDDEN), ("charlie", HIDDEN), ("anonymous", ANONYMOUS)])
def test_who_may_not_remove_a_target(api, persona, bob, shijiazhuang, who, code):
    target = campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.FIRMS_ASSISTED, value=50)
    assert api(persona(who)).delete(target_url(shijiazhuang, target.pk)).status_code == code
    assert CampaignTarget.objects.filter(pk=target.pk).exists()


def test_a_target_of_another_campaign_or_an_unknown_one_is_404(api, bob, charlie, shijiazhuang, tangshan):
    other = campaign_target_set(user=charlie, campaign=tangshan, metric=Metric.FIRMS_ASSISTED, value=5)
    for target_id in (other.pk, 99999, 99999999999999999999):
        assert api(bob).delete(target_url(shijiazhuang, target_id)).status_code == HIDDEN
    assert CampaignTarget.objects.filter(pk=other.pk).exists()


@pytest.mark.parametrize("method", ["put", "patch"])
def test_targets_are_set_by_post_and_removed_by_delete_only(api, bob, shijiazhuang, method):
    assert getattr(api(bob), method)(targets_url(shijiazhuang), {}, format="json").status_code == 405


# --- the schema ------------------------------------------------------------------------------


def test_the_schema_describes_the_campaign_endpoints(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    for path in ["/api/campaigns/{id}/targets/:", "/api/campaigns/{id}/targets/{target_id}/:", "CampaignStatusEnum",
                 "CampaignTargetMetricEnum", "active_on"]:
        assert path in schema
