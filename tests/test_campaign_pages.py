"""The campaign pages: the list, a campaign, editing it and its targets, and creating one.

Personas (tests/conftest.py): bob and bianca regulate Shijiazhuang (130100), charlie Tangshan
(130200); diana supervises Hebei (130000) read-only; alice is an SME user, erin an expert. Staff see
the campaigns of their jurisdiction and those above it; the regulators of a campaign's jurisdiction
and administrators change it; administrators create campaigns.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.cases import services
from campaigns.models import Campaign, CampaignTarget
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from enterprises.services import need_submit
from portal.models import AuditEntry, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, region

pytestmark = pytest.mark.django_db

Metric, Scope = CampaignTarget.Metric, CampaignTarget.Scope
TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


@pytest.fixture
def client_in_english(client_for, settings):
    """client_in_english(user): a signed-in client reading the English source messages."""

    def sign_in(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def hebei(db):
    """The province's campaign: bob and charlie read it, neither runs it."""
    return CampaignFactory(name="河北省质量提升行动", theme="推行全面质量管理")


@pytest.fixture
def shijiazhuang(db):
    """Bob's city's campaign: he and bianca run it."""
    campaign = CampaignFactory(name="石家庄市一对一帮扶", region=region("130100"), organiser="石家庄市市场监督管理局")
    campaign.service_areas.set([1, 2, 8])
    return campaign


@pytest.fixture
def tangshan(db):
    return CampaignFactory(name="唐山市计量帮扶", region=region("130200"), organiser="唐山市市场监督管理局")


def url(name: str, campaign: Campaign | None = None) -> str:
    return reverse(f"campaigns:{name}", kwargs={"pk": campaign.pk} if campaign else None)


def firm_in(code: str, name: str = ""):
    return EnterpriseFactory(region=region(code), **({"name": name} if name else {}))


def session_for(user, campaign, code: str, held_on=None, service_area=None):
    return training_services.training_record(
        user=user, campaign=campaign, region=region(code), topic="ISO 9001 内审员培训",
        held_on=held_on or TODAY() - DAY, organiser="市场监管局", service_area=service_area,
        attendances=[(firm_in(code), 3, "")])


# --- who reaches what ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["list", "new", "detail", "edit", "targets"])
def test_anonymous_users_are_sent_to_sign_in(client, shijiazhuang, name):
    response = client.get(url(name, shijiazhuang if name not in ("list", "new") else None))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("who", ["alice", "erin"])
@pytest.mark.parametrize("name", ["list", "new", "detail", "edit", "targets"])
def test_sme_users_and_experts_are_refused_every_campaign_page(client_for, persona, shijiazhuang, who, name):
    response = client_for(persona(who)).get(url(name, shijiazhuang if name not in ("list", "new") else None))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("who", "sees"),
    [("bob", {"hebei", "sjz"}), ("charlie", {"hebei", "tangshan"}), ("diana", {"hebei", "sjz", "tangshan"}),
     ("admin_user", {"hebei", "sjz", "tangshan"})],
)
def test_the_list_shows_the_jurisdictions_campaigns_and_those_above(client_for, persona, hebei, shijiazhuang,
                                                                    tangshan, who, sees):
    campaigns = {"hebei": hebei, "sjz": shijiazhuang, "tangshan": tangshan}
    response = client_for(persona(who)).get(url("list"))
    assert set(response.context["object_list"]) == {campaigns[key] for key in sees}


@pytest.mark.parametrize(
    ("who", "campaign", "detail", "edit"),
    [
        ("bob", "sjz", 200, 200), ("bianca", "sjz", 200, 200),
        ("bob", "hebei", 200, 403),  # above his jurisdiction: he reads it, the province runs it
        ("bob", "tangshan", 404, 404), ("charlie", "sjz", 404, 404),
        ("diana", "sjz", 200, 403), ("diana", "hebei", 200, 403),  # supervisors read only
        ("admin_user", "tangshan", 200, 200),
    ],
)
def test_who_reads_and_who_changes_a_campaign(client_for, persona, hebei, shijiazhuang, tangshan, who, campaign,
                                              detail, edit):
    campaign = {"hebei": hebei, "sjz": shijiazhuang, "tangshan": tangshan}[campaign]
    client = client_for(persona(who))
    assert client.get(url("detail", campaign)).status_code == detail
    assert client.get(url("edit", campaign)).status_code == edit
    assert client.get(url("targets", campaign)).status_code == edit
    response = client.post(url("edit", campaign), edit_data(campaign, theme="改"))
    assert response.status_code == (302 if edit == 200 else edit)
    assert (Campaign.objects.get(pk=campaign.pk).theme == "改") is (edit == 200)


@pytest.mark.parametrize(("who", "code"), [("admin_user", 200), ("bob", 403), ("diana", 403)])
def test_only_administrators_open_the_new_campaign_page(client_for, persona, who, code):
    assert client_for(persona(who)).get(url("new")).status_code == code


def test_the_list_page_answers_405_to_a_post(client_for, bob):
    assert client_for(bob).post(url("list")).status_code == 405


@pytest.mark.parametrize(("who", "shown"), [("bob", True), ("diana", True), ("admin_user", True), ("alice", False),
                                            ("erin", False)])
def test_staff_find_campaigns_in_the_navigation(client_for, persona, who, shown):
    items = client_for(persona(who)).get(reverse("home")).context["nav_items"]
    assert ("campaigns:list" in {item["url_name"] for item in items}) is shown


# --- the list --------------------------------------------------------------------------------


def test_each_row_shows_its_period_status_and_what_the_reader_may_see_of_its_cases_and_sessions(
    client_for, bob, charlie, diana, hebei, shijiazhuang,
):
    services.case_open(user=bob, campaign=hebei, enterprise=firm_in("130102"), title="石家庄帮扶")
    services.case_open(user=charlie, campaign=hebei, enterprise=firm_in("130203"), title="唐山帮扶")
    session_for(bob, hebei, "130102")
    session_for(charlie, hebei, "130203")
    session_for(charlie, hebei, "130203")
    CampaignFactory(name="明年的行动", region=region("130100"), starts_on=TODAY() + DAY, ends_on=TODAY() + 30 * DAY)
    CampaignFactory(name="去年的行动", region=region("130100"), starts_on=TODAY() - 400 * DAY,
                    ends_on=TODAY() - 30 * DAY)

    def rows(user):
        response = client_for(user).get(url("list"))
        return {c.name: (c.period_status, c.cases_count, c.training_sessions_count)
                for c in response.context["object_list"]}

    assert rows(bob) == {"河北省质量提升行动": ("running", 1, 1), "石家庄市一对一帮扶": ("running", 0, 0),
                         "明年的行动": ("upcoming", 0, 0), "去年的行动": ("ended", 0, 0)}
    assert rows(diana)["河北省质量提升行动"] == ("running", 2, 3)
    html = client_for(bob).get(url("list")).content.decode()
    assert 'data-status="upcoming"' in html and 'data-status="ended"' in html and "河北省" in html


@pytest.mark.parametrize("per_page", [25, 100])
def test_the_list_costs_the_same_queries_at_any_page_size(client_for, bob, django_assert_num_queries, per_page):
    for n in range(110):
        campaign = CampaignFactory(name=f"县级行动{n:03d}", region=region("130102" if n % 2 else "130104"))
        if n % 10 == 0:
            session_for(bob, campaign, campaign.region_id)
    client = client_for(bob)
    client.get(url("list"))  # warm the session
    # session, user, the user's region (jurisdiction) and its province (page header); the COUNT;
    # one page of campaigns joined to region -> city -> province, with its status and its case and
    # session counts as subqueries.
    with django_assert_num_queries(5):
        response = client.get(url("list"), {"per_page": per_page})
    assert len(response.context["object_list"]) == per_page


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({"q": "一对一"}, {"石家庄市一对一帮扶"}),
        ({"q": "全面质量"}, {"河北省质量提升行动"}),  # the theme
        ({"region": "130100"}, {"石家庄市一对一帮扶", "长安区行动"}),
        ({"status": ["upcoming"]}, {"长安区行动"}),
        ({"status": ["running", "upcoming"]}, {"河北省质量提升行动", "石家庄市一对一帮扶", "长安区行动"}),
        ({"active_on": "2000-01-01"}, set()),
    ],
)
def test_the_list_filters(client_for, bob, hebei, shijiazhuang, params, names):
    CampaignFactory(name="长安区行动", region=region("130102"), starts_on=TODAY() + DAY, ends_on=TODAY() + 9 * DAY)
    response = client_for(bob).get(url("list"), params)
    assert {c.name for c in response.context["object_list"]} == names


@pytest.mark.parametrize(("params", "status", "names"), [
    # A value that is no choice is ignored: every campaign bob reads, not an error page.
    ({"per_page": "x"}, 200, ["石家庄市一对一帮扶"]),
    ({"status": "lost"}, 200, ["石家庄市一对一帮扶"]),
    ({"active_on": "yesterday"}, 200, ["石家庄市一对一帮扶"]),
    ({"service_area": "99999999999999999999"}, 200, ["石家庄市一对一帮扶"]),
    ({"running": "maybe"}, 200, ["石家庄市一对一帮扶"]),
    # A region that names none, or a code that is not a 6-digit region code, keeps nothing.
    ({"region": "abc"}, 200, []),
    ({"covers": "13"}, 200, []),
    ({"page": "abc"}, 404, None),
])
def test_nonsense_filter_values_do_not_fail(client_for, bob, shijiazhuang, params, status, names):
    response = client_for(bob).get(url("list"), params)
    assert response.status_code == status
    if names is not None:
        assert [c.name for c in response.context["object_list"]] == names


# --- a campaign ------------------------------------------------------------------------------


def test_a_campaign_page_shows_its_facts_targets_and_links(client_for, bob, shijiazhuang):
    campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.KEY_FIRMS_ASSISTED, value=50,
                                 scope=Scope.EACH_COUNTY)
    campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.CERTIFIED_SHARE, value=20)
    response = client_for(bob).get(url("detail", shijiazhuang))
    html = response.content.decode()
    for text in ("石家庄市一对一帮扶", "石家庄市市场监督管理局", "河北省石家庄市", "130100",
                 f"{shijiazhuang.starts_on:%Y-%m-%d} – {shijiazhuang.ends_on:%Y-%m-%d}"):
        assert text in html
    assert [str(area) for area in response.context["service_areas"]] == [
        str(ServiceArea.objects.get(code=code)) for code in (1, 2, 8)]
    assert len(response.context["targets"]) == 2 and "≥ 20%" in html and "≥ 50" in html
    assert f'{reverse("cases:list")}?campaign={shijiazhuang.pk}' in html
    assert f'{reverse("training:list")}?campaign={shijiazhuang.pk}' in html
    assert url("edit", shijiazhuang) in html and url("targets", shijiazhuang) in html


def test_a_reader_who_does_not_run_the_campaign_gets_no_edit_links(client_for, bob, hebei):
    html = client_for(bob).get(url("detail", hebei)).content.decode()
    assert url("edit", hebei) not in html and url("targets", hebei) not in html


@pytest.mark.parametrize("path", ["0/", "99999999999999999999/", "abc/"])
def test_unknown_or_malformed_campaign_ids_are_404(client_for, bob, path):
    assert client_for(bob).get(reverse("campaigns:list") + path).status_code == 404


# --- editing ---------------------------------------------------------------------------------


def edit_data(campaign: Campaign, **overrides) -> dict:
    data = {"name": campaign.name, "organiser": campaign.organiser, "theme": campaign.theme,
            "starts_on": campaign.starts_on.isoformat(),
            "ends_on": campaign.ends_on.isoformat(),
            "service_areas": list(campaign.service_areas.values_list("code", flat=True))}
    data.update(overrides)
    return data


def test_a_regulator_changes_theme_period_and_service_areas_with_an_audit_entry(client_for, bob, shijiazhuang):
    new_end = shijiazhuang.ends_on + 30 * DAY
    response = client_for(bob).post(url("edit", shijiazhuang), edit_data(
        shijiazhuang, theme="一企一策", ends_on=new_end.isoformat(), service_areas=[1, 2, 8, 9]))
    assert response.status_code == 302 and response.url == url("detail", shijiazhuang)
    campaign = Campaign.objects.get(pk=shijiazhuang.pk)
    assert (campaign.theme, campaign.ends_on) == ("一企一策", new_end)
    assert sorted(campaign.service_areas.values_list("code", flat=True)) == [1, 2, 8, 9]
    entry = AuditEntry.objects.get(content_type__model="campaign", object_id=str(campaign.pk))
    assert entry.actor == bob and entry.region_code == "130100"
    assert set(entry.changes) == {"theme", "ends_on", "service_areas"}


def test_a_regulator_cannot_rename_the_campaign_but_an_administrator_can(client_for, bob, admin_user, shijiazhuang):
    client_for(bob).post(url("edit", shijiazhuang), edit_data(shijiazhuang, name="改名", organiser="别的局"))
    assert Campaign.objects.get(pk=shijiazhuang.pk).name == "石家庄市一对一帮扶"
    response = client_for(admin_user).post(url("edit", shijiazhuang), edit_data(
        shijiazhuang, name="石家庄市质量帮扶", organiser=shijiazhuang.organiser))
    assert response.status_code == 302
    assert Campaign.objects.get(pk=shijiazhuang.pk).name == "石家庄市质量帮扶"


def test_a_campaign_cannot_end_before_it_starts(client_in_english, bob, shijiazhuang):
    response = client_in_english(bob).post(url("edit", shijiazhuang), edit_data(
        shijiazhuang, starts_on="2025-06-01", ends_on="2025-05-01"))
    assert response.status_code == 400
    assert response.context["form"].errors["ends_on"] == ["A campaign cannot end before it starts."]
    assert Campaign.objects.get(pk=shijiazhuang.pk).starts_on == shijiazhuang.starts_on


def test_a_shortened_period_must_keep_the_cases_and_sessions_already_recorded(client_in_english, bob, shijiazhuang):
    services.case_open(user=bob, campaign=shijiazhuang, enterprise=firm_in("130102"), title="计量帮扶")
    session_for(bob, shijiazhuang, "130104", held_on=TODAY() - 100 * DAY)
    response = client_in_english(bob).post(url("edit", shijiazhuang), edit_data(
        shijiazhuang, starts_on=(TODAY() - 10 * DAY).isoformat(), ends_on=(TODAY() - DAY).isoformat()))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["starts_on"] == [f"The campaign cannot start after {TODAY() - 100 * DAY}: its first case, visit "
                                   "or training session dates from that day."]
    assert errors["ends_on"] == [f"The campaign cannot end before {TODAY()}: a case was opened or a training session "
                                 "held on that day."]
    assert Campaign.objects.get(pk=shijiazhuang.pk).ends_on == shijiazhuang.ends_on
    assert not AuditEntry.objects.filter(content_type__model="campaign").exists()


def test_a_service_area_the_cases_are_about_stays_in_scope(client_in_english, alice, bob, shijiazhuang):
    firm = alice.enterprises.get()
    need = need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2), title="压力表校准",
                       description="十台压力表")
    services.case_open(user=bob, campaign=shijiazhuang, needs=[need], title="计量帮扶")
    response = client_in_english(bob).post(url("edit", shijiazhuang), edit_data(shijiazhuang, service_areas=[1, 8]))
    assert response.status_code == 400
    assert "service_areas" in response.context["form"].errors
    assert sorted(shijiazhuang.service_areas.values_list("code", flat=True)) == [1, 2, 8]
    # Every area in scope (none ticked) still includes it.
    assert client_in_english(bob).post(url("edit", shijiazhuang), edit_data(shijiazhuang, service_areas=[])
                                       ).status_code == 302


@pytest.mark.parametrize("field", ["starts_on", "ends_on"])
@pytest.mark.parametrize("value", ["", "yesterday", "2025-02-30"])
def test_a_missing_or_malformed_date_is_a_field_error(client_for, bob, shijiazhuang, field, value):
    response = client_for(bob).post(url("edit", shijiazhuang), edit_data(shijiazhuang, **{field: value}))
    assert response.status_code == 400 and field in response.context["form"].errors


# --- targets ---------------------------------------------------------------------------------


def add(client, campaign, **fields):
    data = {"action": "add", "metric": Metric.FIRMS_ASSISTED, "scope": Scope.CAMPAIGN, "region": "", "value": "50"}
    data.update(fields)
    return client.post(url("targets", campaign), data)


def test_a_regulator_adds_a_target_for_each_city_and_one_for_a_county(client_for, bob, shijiazhuang):
    client = client_for(bob)
    assert add(client, shijiazhuang, metric=Metric.KEY_FIRMS_ASSISTED, scope=Scope.EACH_COUNTY).status_code == 302
    assert add(client, shijiazhuang, metric=Metric.PERSON_TIMES, scope=Scope.REGION, region="130102",
               value="1200").status_code == 302
    targets = {(t.metric, t.scope, t.region_id, t.value) for t in shijiazhuang.targets.all()}
    assert targets == {(Metric.KEY_FIRMS_ASSISTED, Scope.EACH_COUNTY, None, 50),
                       (Metric.PERSON_TIMES, Scope.REGION, "130102", 1200)}
    assert AuditEntry.objects.filter(content_type__model="campaigntarget", actor=bob).count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"scope": Scope.REGION, "region": "130203"}, "region",
         "This region lies outside the campaign's jurisdiction."),
        ({"scope": Scope.REGION}, "region", "Name the region for a target of one region."),
        ({"scope": Scope.EACH_CITY, "region": "130102"}, "region", "Only a target of one region names a region."),
        ({"region": "999999", "scope": Scope.REGION}, "region", "There is no region with the code 999999."),
        ({"metric": Metric.CERTIFIED_SHARE, "value": "120"}, "value", "A share is at most 100%."),
        ({"metric": Metric.SATISFACTION_MEAN, "value": "7"}, "value", "Mean satisfaction is between 1 and 5."),
        ({"value": "-1"}, "value", "Ensure this value is greater than or equal to 0."),
        ({"value": "lots"}, "value", "Enter a number."),
        ({"metric": "profit"}, "metric", "Select a valid choice. profit is not one of the available choices."),
    ],
)
def test_a_bad_target_is_refused_on_its_field(client_in_english, bob, shijiazhuang, fields, field, message):
    response = add(client_in_english(bob), shijiazhuang, **fields)
    assert response.status_code == 400
    assert response.context["add_form"].errors[field] == [message]
    assert not shijiazhuang.targets.exists()


def test_a_target_value_is_changed_on_its_row(client_for, bob, shijiazhuang):
    target = campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.FIRMS_ASSISTED, value=50)
    response = client_for(bob).post(url("targets", shijiazhuang),
                                    {"action": "change", "target": target.pk, f"target-{target.pk}-value": "80"})
    assert response.status_code == 302
    assert CampaignTarget.objects.get(pk=target.pk).value == 80
    entries = AuditEntry.objects.filter(content_type__model="campaigntarget", object_id=str(target.pk))
    assert [entry.changes for entry in entries.filter(action="update")] == [{"value": ["50.00", "80.00"]}]
    # The same value again (as typed, without cents) changes nothing and records nothing.
    client_for(bob).post(url("targets", shijiazhuang),
                         {"action": "change", "target": target.pk, f"target-{target.pk}-value": "80"})
    assert entries.filter(action="update").count() == 1


def test_a_bad_value_on_a_row_is_shown_on_that_row(client_in_english, bob, shijiazhuang):
    target = campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.CERTIFIED_SHARE, value=20)
    response = client_in_english(bob).post(url("targets", shijiazhuang), {
        "action": "change", "target": target.pk, f"target-{target.pk}-value": "150"})
    assert response.status_code == 400
    [row] = response.context["rows"]
    assert row["form"].errors["value"] == ["A share is at most 100%."]
    assert CampaignTarget.objects.get(pk=target.pk).value == 20


def test_removing_a_target_is_recorded_on_the_campaign(client_for, bob, shijiazhuang):
    target = campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.FIRMS_ASSISTED, value=50)
    response = client_for(bob).post(url("targets", shijiazhuang), {"action": "remove", "target": target.pk})
    assert response.status_code == 302
    assert not CampaignTarget.objects.exists()
    entry = AuditEntry.objects.get(content_type__model="campaign", object_id=str(shijiazhuang.pk))
    assert entry.actor == bob and entry.changes["targets"][1] is None
    # The campaign page shows the removal in its trail.
    assert entry in client_for(bob).get(url("detail", shijiazhuang)).context["audit_entries"]


@pytest.mark.parametrize("target", ["abc", "0", "99999999999999999999", "other"])
def test_a_target_of_another_campaign_or_a_malformed_id_is_404(client_for, bob, shijiazhuang, tangshan, charlie,
                                                               target):
    other = campaign_target_set(user=charlie, campaign=tangshan, metric=Metric.FIRMS_ASSISTED, value=5)
    value = str(other.pk) if target == "other" else target
    for action in ("change", "remove"):
        response = client_for(bob).post(url("targets", shijiazhuang), {"action": action, "target": value})
        assert response.status_code == 404
    assert CampaignTarget.objects.filter(pk=other.pk).exists()


def test_an_unknown_action_changes_nothing(client_for, bob, shijiazhuang):
    response = client_for(bob).post(url("targets", shijiazhuang), {"action": "explode"})
    assert response.status_code == 200 and not shijiazhuang.targets.exists()


# --- creating --------------------------------------------------------------------------------


def new_data(**overrides) -> dict:
    data = {"name": "2026年唐山市质量提升行动", "organiser": "唐山市市场监督管理局", "region": "130200",
            "theme": "质量强市", "starts_on": TODAY().isoformat(), "ends_on": (TODAY() + 200 * DAY).isoformat(),
            "service_areas": [2, 8]}
    data.update(overrides)
    return data


def test_an_administrator_creates_a_campaign_then_sets_its_targets(client_for, admin_user):
    response = client_for(admin_user).post(url("new"), new_data())
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response.url == url("targets", campaign)
    assert (campaign.name, campaign.region_id) == ("2026年唐山市质量提升行动", "130200")
    assert sorted(campaign.service_areas.values_list("code", flat=True)) == [2, 8]
    entry = AuditEntry.objects.get(content_type__model="campaign", action="create")
    assert entry.actor == admin_user and entry.region_code == "130200" and "service_areas" in entry.changes


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"name": ""}, "name"), ({"region": "999999"}, "region"), ({"region": ""}, "region"),
     ({"ends_on": "2020-01-01"}, "ends_on"), ({"service_areas": ["99999999999999999999"]}, "service_areas"),
     ({"starts_on": "x"}, "starts_on")],
)
def test_bad_input_for_a_new_campaign_saves_nothing(client_for, admin_user, overrides, field):
    response = client_for(admin_user).post(url("new"), new_data(**overrides))
    assert response.status_code == 400 and field in response.context["form"].errors
    assert not Campaign.objects.exists()


def test_a_regulator_cannot_create_a_campaign(client_for, bob):
    assert client_for(bob).post(url("new"), new_data(region="130100")).status_code == 403
    assert not Campaign.objects.exists()


# --- the services directly -------------------------------------------------------------------


def test_the_campaign_services_refuse_the_wrong_people(bob, bianca, charlie, diana, shijiazhuang, hebei):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        campaign_services.campaign_create(user=bob, name="x", organiser="x", region=region("130100"),
                                          starts_on=TODAY(), ends_on=TODAY())
    for user, campaign in ((charlie, shijiazhuang), (diana, shijiazhuang), (bob, hebei)):
        with pytest.raises(PermissionDenied):
            campaign_services.campaign_update(user=user, campaign=campaign, theme="x")
    with pytest.raises(PermissionDenied):  # renaming is the administrators'
        campaign_services.campaign_update(user=bianca, campaign=shijiazhuang, name="x")
    target = campaign_target_set(user=bob, campaign=shijiazhuang, metric=Metric.FIRMS_ASSISTED, value=1)
    with pytest.raises(PermissionDenied):
        campaign_services.campaign_target_remove(user=charlie, target=target)
    assert CampaignTarget.objects.filter(pk=target.pk).exists()


def test_an_edit_that_changes_nothing_records_nothing(bob, shijiazhuang):
    campaign_services.campaign_update(user=bob, campaign=shijiazhuang, theme=shijiazhuang.theme,
                                      service_areas=list(shijiazhuang.service_areas.all()))
    assert not AuditEntry.objects.exists()

