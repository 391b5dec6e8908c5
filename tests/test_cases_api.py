"""/api/ endpoints of campaigns, assistance cases, visits, ratings, matching and the audit trail.

Personas (tests/conftest.py): alice is the SME contact of a firm in 长安区 (130102, Shijiazhuang);
olivia (below) is another SME of the same county; bob and bianca regulate Shijiazhuang (130100),
charlie Tangshan (130200); diana supervises Hebei (130000) read-only; erin is an expert, assigned
to alice's case by the `erin_assigned` fixture. Anonymous callers get 403: session authentication
sends no WWW-Authenticate challenge, so DRF answers 403 rather than 401.
"""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseRating, Visit, VisitAttachment
from enterprises.models import NeedRequest
from enterprises.services import need_submit
from portal.models import ServiceArea, User
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory, UserFactory, region, sample_file_content

pytestmark = pytest.mark.django_db

Status = AssistanceCase.Status
NeedStatus = NeedRequest.Status

ANONYMOUS = 403  # see the module docstring
FORBIDDEN = 403
HIDDEN = 404
TODAY = timezone.localdate


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def alice_firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def olivia(db):
    """Another SME user, contact of another firm in the same county as alice's."""
    user = UserFactory(username="olivia", full_name="陈静", role=User.Role.SME)
    EnterpriseFactory(name="石家庄华兴机械有限公司").users.add(user)
    return user


@pytest.fixture
def campaign(db):
    """A Hebei campaign: it covers Shijiazhuang and Tangshan alike."""
    return CampaignFactory(name="河北省质量提升行动")


@pytest.fixture
def alices_need(alice, alice_firm):
    return need_submit(user=alice, enterprise=alice_firm, service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="十台压力表需要校准。")


@pytest.fixture
def case(bob, campaign, alices_need):
    """Alice's firm's case, opened by bob from her need."""
    return services.case_open(user=bob, campaign=campaign, needs=[alices_need], title="计量帮扶")


@pytest.fixture
def tangshan_case(charlie, campaign):
    firm = EnterpriseFactory(name="唐山远航钢铁有限公司", region=region("130203"))
    return services.case_open(user=charlie, campaign=campaign, enterprise=firm, title="唐山帮扶")


@pytest.fixture
def erins_record(erin):
    """Erin's record in the Shijiazhuang pool."""
    return ExpertFactory(name="王海燕", user=erin)


@pytest.fixture
def erin_assigned(bob, case, erins_record):
    return services.case_assign_expert(user=bob, case=case, expert=erins_record)


@pytest.fixture
def visit(bob, case):
    return services.visit_log(user=bob, case=case, **visit_fields(internal_remark="负责人不太配合"))


@pytest.fixture
def closed_case(bob, case):
    return services.case_close(user=bob, case=case, resolution="unresolved", note="企业停产")


def visit_fields(**overrides) -> dict:
    fields = {"visited_on": TODAY() - datetime.timedelta(days=1), "mode": "on_site", "hours": Decimal("2.0"),
              "people_present": "王建国、企业质量主管", "problems_found": "压力表超期未检"}
    return {**fields, **overrides}


def visit_payload(case_: AssistanceCase, **overrides) -> dict:
    payload = {"case": case_.pk, "visited_on": str(TODAY() - datetime.timedelta(days=1)), "mode": "on_site",
               "hours": "2.5", "people_present": "王建国、企业质量主管", "problems_found": "压力表超期未检",
               "internal_remark": "需要再跟进"}
    return {**payload, **overrides}


def case_url(case_: AssistanceCase, action: str = "detail") -> str:
    return reverse(f"api:case-{action}", kwargs={"pk": case_.pk})


def visit_url(visit_: Visit, action: str = "detail") -> str:
    return reverse(f"api:visit-{action}", kwargs={"pk": visit_.pk})


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    content = sample_file_content(name) if content is None else content
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def fresh(case_: AssistanceCase) -> AssistanceCase:
    return AssistanceCase.objects.get(pk=case_.pk)


# --- campaigns -------------------------------------------------------------------------------


@pytest.fixture
def tangshan_campaign(db):
    return CampaignFactory(name="唐山市计量帮扶", region=region("130200"))


@pytest.mark.parametrize(
    ("who", "sees"),
    [("bob", {"hebei"}), ("charlie", {"hebei", "tangshan"}), ("diana", {"hebei", "tangshan"}),
     ("admin_user", {"hebei", "tangshan"})],
)
def test_the_campaign_list_shows_the_jurisdictions_campaigns_and_those_above(api, persona, campaign,
                                                                             tangshan_campaign, who, sees):
    campaigns = {"hebei": campaign, "tangshan": tangshan_campaign}
    response = api(persona(who)).get(reverse("api:campaign-list"))
    assert ids(response) == {campaigns[key].pk for key in sees}


@pytest.mark.parametrize(("who", "code"), [("alice", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_only_staff_list_campaigns(api, persona, campaign, who, code):
    assert api(persona(who)).get(reverse("api:campaign-list")).status_code == code


@pytest.mark.parametrize(("who", "code"), [("bob", HIDDEN), ("charlie", 200), ("diana", 200)])
def test_retrieving_a_city_campaign(api, persona, tangshan_campaign, who, code):
    response = api(persona(who)).get(reverse("api:campaign-detail", kwargs={"pk": tangshan_campaign.pk}))
    assert response.status_code == code
    if code == 200:
        assert response.json()["region"] == "130200"


@pytest.mark.parametrize("method", ["put", "delete"])
def test_campaigns_cannot_be_replaced_or_deleted_in_the_api(api, admin_user, campaign, method):
    # Created and changed there (tests/test_campaigns_api.py), never replaced whole or deleted.
    url = reverse("api:campaign-detail", kwargs={"pk": campaign.pk})
    assert getattr(api(admin_user), method)(url, {"name": "x"}, format="json").status_code == 405


# --- cases: who sees what --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("alice", {"alice"}),
        ("olivia", set()),
        ("bob", {"alice"}),
        ("bianca", {"alice"}),
        ("charlie", {"tangshan"}),
        ("diana", {"alice", "tangshan"}),
        ("admin_user", {"alice", "tangshan"}),
        ("erin", {"alice"}),
    ],
)
def test_the_case_list_shows_what_each_persona_may_see(api, persona, case, tangshan_case, erin_assigned, who, sees):
    cases = {"alice": case, "tangshan": tangshan_case}
    assert ids(api(persona(who)).get(reverse("api:case-list"))) == {cases[key].pk for key in sees}


def test_an_expert_sees_no_case_before_being_assigned(api, erin, erins_record, case):
    assert ids(api(erin).get(reverse("api:case-list"))) == set()
    assert api(erin).get(case_url(case)).status_code == HIDDEN


def test_anonymous_callers_cannot_list_cases(api):
    assert api(None).get(reverse("api:case-list")).status_code == ANONYMOUS


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", HIDDEN), ("bob", 200), ("bianca", 200), ("charlie", HIDDEN), ("diana", 200),
     ("admin_user", 200), ("erin", 200), ("anonymous", ANONYMOUS)],
)
def test_retrieving_alices_case(api, persona, case, erin_assigned, who, code):
    response = api(persona(who)).get(case_url(case))
    assert response.status_code == code
    if code == 200:
        assert response.json()["title"] == "计量帮扶"


def test_a_case_shows_its_firm_region_needs_lead_and_experts(api, bob, case, alices_need, erin_assigned, erins_record):
    body = api(bob).get(case_url(case)).json()
    assert (body["enterprise_name"], body["region"], body["region_name"]) == (
        "石家庄恒泰食品有限公司", "130102", "河北省石家庄市长安区")
    assert (body["status"], body["status_label"], body["resolution"]) == ("open", "Open", None)
    assert body["needs"] == [alices_need.pk]
    assert (body["lead"], body["lead_name"], body["opened_by"]) == (bob.pk, "王建国", "王建国")
    assert [expert["name"] for expert in body["experts"]] == ["王海燕"]
    assert [row["expert"]["id"] for row in body["assignments"]] == [erins_record.pk]
    assert body["version"] == 1 and body["rating"] is None


@pytest.mark.parametrize("method", ["put", "delete"])
def test_cases_cannot_be_replaced_or_deleted(api, bob, case, method):
    assert getattr(api(bob), method)(case_url(case), {"title": "x"}, format="json").status_code == 405
    assert AssistanceCase.objects.filter(pk=case.pk).exists()


@pytest.mark.parametrize("path", ["abc/", "99999999999999999999/", "0/", "1.5/"])
@pytest.mark.parametrize("list_name", ["api:case-list", "api:visit-list", "api:campaign-list"])
def test_malformed_or_unknown_ids_answer_404(api, admin_user, list_name, path):
    assert api(admin_user).get(reverse(list_name) + path).status_code == 404


# --- cases: opening --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 201), ("bianca", 201), ("admin_user", 201), ("charlie", 400), ("diana", FORBIDDEN),
     ("erin", FORBIDDEN), ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_open_a_case_for_alices_firm(api, persona, campaign, alice_firm, bianca, who, code):
    # An administrator leads no case, so names the lead; a regulator would lead it when none is named.
    payload = {"campaign": campaign.pk, "enterprise": alice_firm.pk, "title": "标准化帮扶", "lead": bianca.pk}
    response = api(persona(who)).post(reverse("api:case-list"), payload, format="json")
    assert response.status_code == code, response.content
    if code == 400:  # another city's firm is not one charlie can name
        assert set(response.json()) == {"enterprise"}
    assert AssistanceCase.objects.exists() is (code == 201)


def test_a_regulator_opens_a_case_from_a_need_and_leads_it(api, bob, campaign, alices_need):
    payload = {"campaign": campaign.pk, "needs": [alices_need.pk], "title": "计量帮扶", "diagnosis": "待诊断"}
    response = api(bob).post(reverse("api:case-list"), payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["enterprise"], body["lead"], body["status"], body["needs"]) == (
        alices_need.enterprise_id, bob.pk, "open", [alices_need.pk])
    assert response["Location"] == reverse("api:case-detail", args=[body["id"]])
    alices_need.refresh_from_db()
    assert alices_need.status == NeedStatus.TRIAGED


def test_an_administrator_opens_a_case_naming_the_lead(api, admin_user, bianca, campaign, alice_firm):
    payload = {"campaign": campaign.pk, "enterprise": alice_firm.pk, "title": "品牌帮扶", "lead": bianca.pk}
    response = api(admin_user).post(reverse("api:case-list"), payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["lead"] == bianca.pk


def test_opening_a_case_with_an_empty_body_lists_the_required_fields(api, bob):
    response = api(bob).post(reverse("api:case-list"), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"campaign", "title"}


def test_opening_a_case_without_a_firm_or_needs_says_to_choose_one(api, bob, campaign):
    response = api(bob).post(reverse("api:case-list"), {"campaign": campaign.pk, "title": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"enterprise": ["Choose the enterprise, or the needs the case answers."]}


def test_opening_a_case_in_a_campaign_that_has_ended_is_refused(api, bob, alice_firm):
    ended = CampaignFactory(starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2020, 12, 31))
    response = api(bob).post(reverse("api:case-list"), {"campaign": ended.pk, "enterprise": alice_firm.pk,
                                                        "title": "x"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"campaign"}
    assert not AssistanceCase.objects.exists()


def test_a_second_open_case_for_the_firm_in_the_campaign_is_refused(api, bob, case, campaign, alice_firm):
    response = api(bob).post(reverse("api:case-list"), {"campaign": campaign.pk, "enterprise": alice_firm.pk,
                                                        "title": "又一个"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"enterprise": ["This enterprise already has an open case in this campaign."]}
    assert AssistanceCase.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("campaign", "abc"), ("campaign", 99999), ("enterprise", "99999999999999999999"), ("needs", ["x"]),
     ("needs", "7"), ("lead", 99999), ("title", ""), ("title", "标" * 121)],
)
def test_a_malformed_or_unknown_value_is_refused_per_field(api, bob, campaign, alice_firm, field, value):
    payload = {"campaign": campaign.pk, "enterprise": alice_firm.pk, "title": "标准化帮扶", field: value}
    response = api(bob).post(reverse("api:case-list"), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not AssistanceCase.objects.exists()


def test_the_lead_must_be_a_regulator_covering_the_firm(api, bob, charlie, campaign, alice_firm):
    payload = {"campaign": campaign.pk, "enterprise": alice_firm.pk, "title": "x", "lead": charlie.pk}
    response = api(bob).post(reverse("api:case-list"), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "lead": ["The lead must be an active regulator whose jurisdiction covers the enterprise."]}


def test_another_firms_need_cannot_be_answered_by_the_case(api, bob, campaign, alice_firm, olivia):
    olivias_need = need_submit(user=olivia, enterprise=olivia.enterprises.get(),
                               service_area=ServiceArea.objects.get(code=2), title="校准", description="校准")
    payload = {"campaign": campaign.pk, "enterprise": alice_firm.pk, "needs": [olivias_need.pk], "title": "x"}
    response = api(bob).post(reverse("api:case-list"), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"needs": ["Every need must be a need of the same enterprise."]}


# --- cases: editing, with the version read ---------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", HIDDEN), ("diana", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_edit_the_plan_of_alices_case(api, persona, case, who, code):
    response = api(persona(who)).patch(case_url(case), {"version": 1, "plan": "建立计量室"}, format="json")
    assert response.status_code == code
    assert (fresh(case).plan == "建立计量室") is (code == 200)


def test_an_edit_answers_the_case_with_its_new_version(api, bob, case):
    response = api(bob).patch(case_url(case), {"version": 1, "diagnosis": "压力表超期", "money_saved": "1200.50"},
                              format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["diagnosis"], body["money_saved"], body["version"]) == ("压力表超期", "1200.50", 2)


def test_an_assigned_expert_writes_the_diagnosis_but_not_the_title(api, erin, case, erin_assigned):
    response = api(erin).patch(case_url(case), {"version": 1, "diagnosis": "压力表超期未检"}, format="json")
    assert response.status_code == 200, response.content
    response = api(erin).patch(case_url(case), {"version": 2, "title": "改名"}, format="json")
    assert response.status_code == FORBIDDEN
    assert fresh(case).title == "计量帮扶"


def test_an_expert_released_from_a_case_no_longer_sees_it(api, bob, erin, case, erin_assigned, erins_record):
    services.case_release_expert(user=bob, case=case, expert=erins_record)
    response = api(erin).patch(case_url(case), {"version": 1, "diagnosis": "x"}, format="json")
    assert response.status_code == 404
    assert fresh(case).diagnosis == ""


def test_two_edits_from_one_version_save_the_first_and_answer_the_second_409(api, bob, bianca, case):
    first = api(bob).patch(case_url(case), {"version": 1, "diagnosis": "王的诊断"}, format="json")
    second = api(bianca).patch(case_url(case), {"version": 1, "plan": "李的计划"}, format="json")
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json() == {"detail": "Someone else saved this case after you opened it. Your changes were not "
                                       "saved: reload the page to see theirs, then make your changes again."}
    case = fresh(case)
    assert (case.diagnosis, case.plan, case.version) == ("王的诊断", "", 2)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"plan": "x"}, {"version"}),
        ({"version": "abc"}, {"version"}),
        ({"version": 1, "money_saved": "-5"}, {"money_saved"}),
        ({"version": 1, "money_saved": "lots"}, {"money_saved"}),
        ({"version": 1, "lab_set_up": "perhaps"}, {"lab_set_up"}),
        ({"version": 1, "lead": 99999}, {"lead"}),
        ({"version": 1, "title": ""}, {"title"}),
    ],
)
def test_a_bad_edit_is_refused_per_field_and_saves_nothing(api, bob, case, payload, fields):
    response = api(bob).patch(case_url(case), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert fresh(case).version == 1


def test_an_edit_sent_as_form_data_leaves_the_outcomes_it_does_not_name(api, bob, case):
    api(bob).patch(case_url(case), {"version": 1, "lab_set_up": True}, format="json")
    response = api(bob).patch(case_url(case), {"version": 2, "plan": "建立计量室"}, format="multipart")
    assert response.status_code == 200, response.content
    assert (response.json()["plan"], response.json()["lab_set_up"]) == ("建立计量室", True)


def test_closing_with_form_data_keeps_the_outcomes_recorded_before(api, bob, case):
    api(bob).patch(case_url(case), {"version": 1, "certificate_obtained": True}, format="json")
    response = api(bob).post(case_url(case, "close"), {"resolution": "unresolved", "note": "停产"}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["certificate_obtained"] is True


def test_a_lead_outside_the_firms_region_is_refused(api, bob, charlie, case):
    response = api(bob).patch(case_url(case), {"version": 1, "lead": charlie.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"lead"}
    assert fresh(case).lead == bob


def test_a_closed_case_keeps_its_plan(api, bob, closed_case):
    response = api(bob).patch(case_url(closed_case), {"version": closed_case.version, "plan": "新计划"},
                              format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A closed case cannot be changed."]}


# --- cases: the lifecycle --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", HIDDEN), ("diana", FORBIDDEN),
     ("erin", FORBIDDEN), ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_move_alices_case_on(api, persona, case, erin_assigned, who, code):
    response = api(persona(who)).post(case_url(case, "transition"), {"to_status": "diagnosing"}, format="json")
    assert response.status_code == code
    assert fresh(case).status == ("diagnosing" if code == 200 else "open")


def test_an_illegal_transition_is_refused_with_the_reason_and_changes_nothing(api, bob, case):
    response = api(bob).post(case_url(case, "transition"), {"to_status": "in_progress"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"to_status": ["A case that is Open cannot become In progress."]}
    case = fresh(case)
    assert (case.status, case.version, case.events.count()) == ("open", 1, 1)


def test_closing_is_not_a_transition(api, bob, case):
    response = api(bob).post(case_url(case, "transition"), {"to_status": "closed"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"to_status"}
    assert fresh(case).status == "open"


def test_the_plan_cannot_be_agreed_before_it_is_written(api, bob, case):
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
    response = api(bob).post(case_url(case, "transition"), {"to_status": "plan_agreed"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"to_status": ["Write the diagnosis and the plan before marking the plan agreed."]}


@pytest.mark.parametrize("body", [{}, {"to_status": "lost"}, {"to_status": "diagnosing", "version": "abc"}])
def test_a_malformed_transition_is_refused_per_field(api, bob, case, body):
    response = api(bob).post(case_url(case, "transition"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == ({"version"} if "version" in body else {"to_status"})


def test_a_transition_from_a_stale_version_answers_409(api, bob, bianca, case):
    api(bob).patch(case_url(case), {"version": 1, "diagnosis": "诊断"}, format="json")
    response = api(bianca).post(case_url(case, "transition"), {"to_status": "diagnosing", "version": 1},
                                format="json")
    assert response.status_code == 409
    assert fresh(case).status == "open"


def test_a_case_runs_from_opening_to_rating_through_the_api(api, bob, alice, erin, erins_record, campaign,
                                                            alices_need, media):
    client = api(bob)
    response = client.post(reverse("api:case-list"), {"campaign": campaign.pk, "needs": [alices_need.pk],
                                                      "title": "计量帮扶"}, format="json")
    assert response.status_code == 201, response.content
    case = AssistanceCase.objects.get(pk=response.json()["id"])

    response = client.post(case_url(case, "assign"), {"expert": erins_record.pk}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["expert"]["id"], response.json()["active"]) == (erins_record.pk, True)

    response = client.post(case_url(case, "transition"), {"to_status": "diagnosing", "note": "开始诊断",
                                                          "version": 1}, format="json")
    assert response.json()["status"] == "diagnosing"
    response = api(erin).patch(case_url(case), {"version": 2, "diagnosis": "压力表超期", "plan": "建立计量室"},
                               format="json")
    assert response.status_code == 200, response.content
    for step, version in (("plan_agreed", 3), ("in_progress", 4)):
        response = client.post(case_url(case, "transition"), {"to_status": step, "version": version},
                               format="json")
        assert response.status_code == 200, response.content

    response = api(erin).post(reverse("api:visit-list"), visit_payload(
        case, next_follow_up_on=str(TODAY() + datetime.timedelta(days=14)), attachments=[upload("现场.jpg")]),
        format="multipart")
    assert response.status_code == 201, response.content
    assert fresh(case).next_follow_up_on == TODAY() + datetime.timedelta(days=14)

    response = client.post(case_url(case, "close"), {
        "resolution": "resolved", "fulfilled_needs": [alices_need.pk], "lab_set_up": True, "money_saved": "45000",
        "version": 5}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["resolution"], body["lab_set_up"], body["money_saved"]) == (
        "closed", "resolved", True, "45000.00")
    assert body["experts"] == [] and body["next_follow_up_on"] is None
    alices_need.refresh_from_db()
    assert alices_need.status == NeedStatus.FULFILLED

    response = api(alice).post(case_url(case, "rate"), {"score": 5, "comment": "很有帮助"}, format="json")
    assert response.status_code == 201, response.content
    assert api(alice).get(case_url(case)).json()["rating"]["score"] == 5

    history = api(alice).get(case_url(case, "history")).json()
    assert [(row["from_status"], row["to_status"]) for row in history] == [
        (None, "open"), ("open", "diagnosing"), ("diagnosing", "plan_agreed"), ("plan_agreed", "in_progress"),
        ("in_progress", "closed")]
    assert history[1]["note"] == "开始诊断" and history[1]["actor"] == "王建国"

    actions = [row["action"] for row in api(bob).get(case_url(case, "audit")).json()]
    assert actions == ["update", "transition", "transition", "transition", "update", "transition", "assign",
                       "create"]


# --- cases: closing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("admin_user", 200), ("charlie", HIDDEN), ("diana", FORBIDDEN), ("erin", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_close_alices_case(api, persona, case, erin_assigned, who, code):
    response = api(persona(who)).post(case_url(case, "close"), {"resolution": "unresolved", "note": "企业停产"},
                                      format="json")
    assert response.status_code == code
    assert fresh(case).is_closed is (code == 200)


def test_closing_unresolved_declines_the_needs_and_releases_the_experts(api, bob, case, alices_need, erin_assigned):
    response = api(bob).post(case_url(case, "close"), {"resolution": "unresolved", "note": "企业停产"}, format="json")
    assert response.status_code == 200, response.content
    alices_need.refresh_from_db()
    assert alices_need.status == NeedStatus.DECLINED
    assert not CaseAssignment.objects.filter(active=True).exists()


def test_closing_unresolved_without_a_note_is_refused(api, bob, case):
    response = api(bob).post(case_url(case, "close"), {"resolution": "unresolved"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"note": ["Say why the case closes unresolved."]}
    assert not fresh(case).is_closed


def test_a_case_not_yet_in_progress_cannot_close_resolved(api, bob, case):
    response = api(bob).post(case_url(case, "close"), {"resolution": "resolved"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [
        "A case that is Open cannot be closed as resolved: the plan must be in progress first."]}
    assert not fresh(case).is_closed


def test_a_closed_case_cannot_close_again(api, bob, closed_case):
    response = api(bob).post(case_url(closed_case, "close"), {"resolution": "unresolved", "note": "x"},
                             format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This case is already closed."]}


def test_only_the_cases_own_needs_can_be_fulfilled_by_it(api, bob, case, alice, alice_firm):
    other = need_submit(user=alice, enterprise=alice_firm, service_area=ServiceArea.objects.get(code=3),
                        title="另一个需求", description="x")
    response = api(bob).post(case_url(case, "close"), {"resolution": "unresolved", "note": "x",
                                                       "fulfilled_needs": [other.pk]}, format="json")
    assert response.status_code == 400
    assert response.json() == {"fulfilled_needs": ["Only needs answered by this case can be settled here."]}
    assert not fresh(case).is_closed


@pytest.mark.parametrize(
    ("body", "fields"),
    [({}, {"resolution"}), ({"resolution": "maybe"}, {"resolution"}),
     ({"resolution": "unresolved", "note": "x", "money_saved": "-1"}, {"money_saved"}),
     ({"resolution": "unresolved", "note": "x", "fulfilled_needs": [99999]}, {"fulfilled_needs"})],
)
def test_a_malformed_closing_is_refused_per_field(api, bob, case, body, fields):
    response = api(bob).post(case_url(case, "close"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert not fresh(case).is_closed


# --- cases: experts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 201), ("bianca", 201), ("admin_user", 201), ("charlie", HIDDEN), ("diana", FORBIDDEN),
     ("erin", FORBIDDEN), ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_assign_an_expert_to_alices_case(api, persona, case, erin, who, code):
    expert = ExpertFactory(name="李专家")
    response = api(persona(who)).post(case_url(case, "assign"), {"expert": expert.pk}, format="json")
    assert response.status_code == code
    assert CaseAssignment.objects.filter(expert=expert).exists() is (code == 201)


def test_an_expert_at_capacity_needs_a_reason_which_is_kept(api, bob, case, campaign):
    expert = ExpertFactory(name="满负荷", capacity=1)
    other = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="已有")
    services.case_assign_expert(user=bob, case=other, expert=expert)
    response = api(bob).post(case_url(case, "assign"), {"expert": expert.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"override_reason": [
        "满负荷 already carries 1 open cases (capacity 1). Give a reason to assign past capacity."]}
    response = api(bob).post(case_url(case, "assign"), {"expert": expert.pk, "override_reason": "唯一的计量专家"},
                             format="json")
    assert response.status_code == 201
    assert (response.json()["over_capacity"], response.json()["override_reason"]) == (True, "唯一的计量专家")


def test_an_expert_outside_the_regulators_pools_cannot_be_assigned(api, bob, case):
    tangshan_expert = ExpertFactory(region=region("130200"))
    response = api(bob).post(case_url(case, "assign"), {"expert": tangshan_expert.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"expert"}
    assert not CaseAssignment.objects.exists()


def test_an_expert_already_assigned_is_not_assigned_twice(api, bob, case, erin_assigned, erins_record):
    response = api(bob).post(case_url(case, "assign"), {"expert": erins_record.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"expert": ["王海燕 is already assigned to this case."]}


@pytest.mark.parametrize("body", [{}, {"expert": "abc"}, {"expert": 99999}])
def test_a_malformed_assignment_is_refused_per_field(api, bob, case, body):
    response = api(bob).post(case_url(case, "assign"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"expert"}


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("admin_user", 200), ("charlie", HIDDEN), ("diana", FORBIDDEN), ("erin", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_release_an_expert_from_alices_case(api, persona, case, erin_assigned, erins_record, who, code):
    response = api(persona(who)).post(case_url(case, "release"), {"expert": erins_record.pk, "note": "调离"},
                                      format="json")
    assert response.status_code == code
    erin_assigned.refresh_from_db()
    assert erin_assigned.active is (code != 200)
    if code == 200:
        assert response.json()["released_at"] is not None


def test_releasing_an_expert_who_is_not_assigned_is_refused(api, bob, case, erin_assigned, erins_record):
    api(bob).post(case_url(case, "release"), {"expert": erins_record.pk}, format="json")
    response = api(bob).post(case_url(case, "release"), {"expert": erins_record.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"expert": ["王海燕 is not assigned to this case."]}


def test_only_experts_ever_assigned_to_the_case_can_be_named_for_release(api, bob, case):
    response = api(bob).post(case_url(case, "release"), {"expert": ExpertFactory().pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"expert"}


# --- matching --------------------------------------------------------------------------------


@pytest.fixture
def pool(db):
    """A metrology expert and a brand expert serving Shijiazhuang, and one serving Tangshan only."""
    from portal.models import Specialty

    return {
        "metrology": ExpertFactory(name="计量专家", specialties=list(Specialty.objects.filter(code="metrology"))),
        "brand": ExpertFactory(name="品牌专家", specialties=list(Specialty.objects.filter(code="brand"))),
        "tangshan": ExpertFactory(name="唐山专家", regions_served=[region("130200")]),
    }


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("diana", 200), ("admin_user", 200), ("charlie", HIDDEN), ("erin", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_see_the_suggested_experts_for_alices_case(api, persona, case, pool, erin, who, code):
    response = api(persona(who)).get(case_url(case, "suggestions"))
    assert response.status_code == code


def test_the_suggestions_for_a_case_rank_the_fitting_specialty_first_and_say_why(api, bob, case, pool):
    rows = api(bob).get(case_url(case, "suggestions")).json()
    assert [row["expert"]["name"] for row in rows] == ["计量专家", "品牌专家"]
    best = rows[0]
    assert best["specialty_fits"] is True and best["served_region"] == {"code": "130100", "name": "石家庄市"}
    assert (best["load"], best["capacity"], best["at_capacity"], best["rating_count"]) == (0, 3, False, 0)
    assert best["score"] > rows[1]["score"]
    assert best["named_words"] == ["计量", "校准", "压力表"] and best["past_cases"] == 0
    assert best["reasons"] == ["Specialty fits the service area",
                               "Specialty Metrology matches the need's words: 计量、校准、压力表",
                               "Serves 石家庄市", "Has room: 0 of 3 open cases", "No ratings yet"]


def test_an_expert_already_on_the_case_is_not_suggested_again(api, bob, case, pool):
    services.case_assign_expert(user=bob, case=case, expert=pool["metrology"])
    rows = api(bob).get(case_url(case, "suggestions")).json()
    assert [row["expert"]["name"] for row in rows] == ["品牌专家"]


def test_the_suggestions_can_match_other_service_areas_and_be_cut(api, bob, case, pool):
    rows = api(bob).get(case_url(case, "suggestions"), {"service_area": 4, "limit": 1}).json()
    assert len(rows) == 1
    assert rows[0]["expert"]["name"] == "品牌专家" and rows[0]["specialty_fits"] is True


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"limit": "51"}, {"service_area": "999"},
                                    {"service_area": "x"}])
def test_malformed_suggestion_parameters_answer_400(api, bob, case, params):
    response = api(bob).get(case_url(case, "suggestions"), params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("diana", 200), ("admin_user", 200), ("charlie", HIDDEN), ("erin", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_see_the_suggested_experts_for_alices_need(api, persona, alices_need, pool, erin, who, code):
    response = api(persona(who)).get(reverse("api:need-suggestions", kwargs={"pk": alices_need.pk}))
    assert response.status_code == code
    if code == 200:
        assert [row["expert"]["name"] for row in response.json()] == ["计量专家", "品牌专家"]


def test_suggestions_for_an_unknown_need_answer_404(api, bob):
    assert api(bob).get(reverse("api:need-suggestions", kwargs={"pk": 99999999999999999999})).status_code == 404


# --- ratings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 201), ("olivia", HIDDEN), ("bob", FORBIDDEN), ("diana", FORBIDDEN), ("erin", FORBIDDEN),
     ("anonymous", ANONYMOUS)],
)
def test_who_may_rate_alices_closed_case(api, persona, closed_case, olivia, who, code):
    response = api(persona(who)).post(case_url(closed_case, "rate"), {"score": 4, "comment": "及时"}, format="json")
    assert response.status_code == code
    assert CaseRating.objects.filter(case=closed_case).exists() is (code == 201)


def test_a_case_still_open_cannot_be_rated(api, alice, case):
    response = api(alice).post(case_url(case, "rate"), {"score": 4}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A case can be rated once it is closed."]}


def test_a_case_is_rated_once(api, alice, closed_case):
    assert api(alice).post(case_url(closed_case, "rate"), {"score": 4}, format="json").status_code == 201
    response = api(alice).post(case_url(closed_case, "rate"), {"score": 2}, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["This case has already been rated."]}
    assert CaseRating.objects.get().score == 4


@pytest.mark.parametrize("body", [{}, {"score": 0}, {"score": 6}, {"score": "good"}])
def test_a_score_outside_one_to_five_is_refused(api, alice, closed_case, body):
    response = api(alice).post(case_url(closed_case, "rate"), body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"score"}
    assert not CaseRating.objects.exists()


# --- history and audit trail ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", HIDDEN), ("bob", 200), ("charlie", HIDDEN), ("diana", 200), ("erin", 200),
     ("anonymous", ANONYMOUS)],
)
def test_who_may_read_the_history_of_alices_case(api, persona, case, erin_assigned, olivia, who, code):
    response = api(persona(who)).get(case_url(case, "history"))
    assert response.status_code == code
    if code == 200:
        assert [row["to_status"] for row in response.json()] == ["open"]


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("diana", 200), ("admin_user", 200), ("charlie", HIDDEN), ("alice", FORBIDDEN),
     ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_read_the_audit_trail_of_alices_case(api, persona, case, erin_assigned, who, code):
    response = api(persona(who)).get(case_url(case, "audit"))
    assert response.status_code == code


def test_the_audit_trail_shows_each_change_with_old_and_new_values(api, bob, case):
    api(bob).patch(case_url(case), {"version": 1, "diagnosis": "压力表超期", "lab_set_up": True}, format="json")
    latest = api(bob).get(case_url(case, "audit")).json()[0]
    assert (latest["action"], latest["action_label"], latest["actor"]) == ("update", "Changed", "王建国")
    assert sorted(latest["changes"], key=lambda row: row["field"]) == [
        {"field": "diagnosis", "old": "—", "new": "压力表超期"},
        {"field": "measurement lab set up", "old": "No", "new": "Yes"},
    ]


def test_a_visits_audit_trail_keeps_its_earlier_values(api, bob, visit):
    api(bob).patch(visit_url(visit), {"version": 1, "hours": "3.5"}, format="json")
    entries = api(bob).get(visit_url(visit, "audit")).json()
    assert [entry["action"] for entry in entries] == ["update", "create"]
    assert entries[0]["changes"] == [{"field": "hours", "old": "2.0", "new": "3.5"}]


@pytest.mark.parametrize(("who", "code"), [("bob", 200), ("charlie", HIDDEN), ("alice", FORBIDDEN),
                                           ("erin", FORBIDDEN)])
def test_who_may_read_the_audit_trail_of_a_visit(api, persona, visit, erin_assigned, who, code):
    assert api(persona(who)).get(visit_url(visit, "audit")).status_code == code


# --- visits: who sees what -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", True), ("olivia", False), ("bob", True), ("bianca", True), ("charlie", False), ("diana", True),
     ("admin_user", True), ("erin", True)],
)
def test_the_visit_list_shows_the_visits_of_the_cases_each_persona_may_see(api, persona, visit, erin_assigned,
                                                                           olivia, who, sees):
    assert ids(api(persona(who)).get(reverse("api:visit-list"))) == ({visit.pk} if sees else set())


def test_anonymous_callers_cannot_list_visits(api):
    assert api(None).get(reverse("api:visit-list")).status_code == ANONYMOUS


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", HIDDEN), ("bob", 200), ("charlie", HIDDEN), ("diana", 200), ("admin_user", 200),
     ("erin", 200), ("anonymous", ANONYMOUS)],
)
def test_retrieving_a_visit_to_alices_firm(api, persona, visit, erin_assigned, olivia, who, code):
    response = api(persona(who)).get(visit_url(visit))
    assert response.status_code == code
    if code == 200:
        assert response.json()["people_present"] == "王建国、企业质量主管"


def test_the_firm_never_receives_the_internal_remark(api, alice, visit):
    detail = api(alice).get(visit_url(visit)).json()
    listed = api(alice).get(reverse("api:visit-list")).json()["results"][0]
    assert "internal_remark" not in detail and "internal_remark" not in listed
    assert "负责人不太配合" not in api(alice).get(reverse("api:visit-list")).content.decode()


@pytest.mark.parametrize("who", ["bob", "diana", "erin"])
def test_the_bureau_and_the_experts_read_the_internal_remark(api, persona, visit, erin_assigned, who):
    assert api(persona(who)).get(visit_url(visit)).json()["internal_remark"] == "负责人不太配合"


# --- visits: logging and editing -------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 201), ("bianca", 201), ("admin_user", 201), ("erin", 201), ("charlie", 400), ("diana", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_log_a_visit_on_alices_case(api, persona, case, erin_assigned, who, code):
    response = api(persona(who)).post(reverse("api:visit-list"), visit_payload(case), format="json")
    assert response.status_code == code, response.content
    if code == 400:  # another city's case is not one charlie can name
        assert set(response.json()) == {"case"}
    assert Visit.objects.exists() is (code == 201)
    if code == 201:
        assert response["Location"] == reverse("api:visit-detail", args=[Visit.objects.get().pk])


def test_an_expert_no_longer_assigned_cannot_log_a_visit(api, bob, erin, case, erin_assigned, erins_record):
    services.case_release_expert(user=bob, case=case, expert=erins_record)
    response = api(erin).post(reverse("api:visit-list"), visit_payload(case), format="json")
    assert response.status_code == 400  # the case is no longer one she can name
    assert set(response.json()) == {"case"}
    assert not Visit.objects.exists()


def test_a_visit_is_logged_with_photos_and_files_served_to_those_who_see_it(api, bob, alice, case, media):
    payload = visit_payload(case, attachments=[upload("压力表.jpg"), upload("记录表.pdf")])
    response = api(bob).post(reverse("api:visit-list"), payload, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["hours"], body["mode"], body["mode_label"], body["version"]) == ("2.5", "on_site", "On site", 1)
    assert [(a["name"], a["is_photo"]) for a in body["attachments"]] == [("压力表.jpg", True), ("记录表.pdf", False)]
    photo = api(alice).get(body["attachments"][0]["url"])
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content) == sample_file_content("压力表.jpg")
    assert 'filename*=utf-8' in photo["Content-Disposition"]


@pytest.fixture
def attachment(bob, case, media):
    visit_ = services.visit_log(user=bob, case=case, attachments=[upload("记录表.pdf")], **visit_fields())
    return visit_.attachments.get()


@pytest.mark.parametrize(
    ("who", "code"),
    [("alice", 200), ("olivia", HIDDEN), ("bob", 200), ("charlie", HIDDEN), ("diana", 200), ("erin", HIDDEN),
     ("anonymous", ANONYMOUS)],
)
def test_downloading_a_photo_of_a_visit_to_alices_firm(api, persona, attachment, olivia, erin, who, code):
    url = reverse("api:visit-attachment", kwargs={"pk": attachment.visit_id, "attachment_id": attachment.pk})
    assert api(persona(who)).get(url).status_code == code


def test_an_attachment_of_another_visit_is_not_served_under_this_one(api, bob, attachment, visit):
    url = reverse("api:visit-attachment", kwargs={"pk": visit.pk, "attachment_id": attachment.pk})
    assert api(bob).get(url).status_code == 404


def test_an_attachment_missing_from_storage_answers_404(api, bob, attachment):
    attachment.file.delete(save=False)
    url = reverse("api:visit-attachment", kwargs={"pk": attachment.visit_id, "attachment_id": attachment.pk})
    assert api(bob).get(url).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"visited_on": str(TODAY() + datetime.timedelta(days=1))}, {"visited_on"}),
        ({"next_follow_up_on": str(TODAY() - datetime.timedelta(days=5))}, {"next_follow_up_on"}),
        ({"hours": "0"}, {"hours"}),
        ({"hours": "25"}, {"hours"}),
        ({"hours": "2.25"}, {"hours"}),
        ({"mode": "by_pigeon"}, {"mode"}),
        ({"people_present": ""}, {"people_present"}),
        ({"visited_on": "yesterday"}, {"visited_on"}),
        ({"case": 99999}, {"case"}),
    ],
)
def test_a_bad_visit_is_refused_per_field_and_saves_nothing(api, bob, case, overrides, fields):
    response = api(bob).post(reverse("api:visit-list"), visit_payload(case, **overrides), format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields
    assert not Visit.objects.exists()


def test_logging_a_visit_with_an_empty_body_lists_the_required_fields(api, bob):
    response = api(bob).post(reverse("api:visit-list"), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"case", "visited_on", "hours", "people_present"}


def test_a_visit_before_the_campaign_started_is_refused(api, bob, case):
    too_early = str(case.campaign.starts_on - datetime.timedelta(days=1))
    response = api(bob).post(reverse("api:visit-list"), visit_payload(case, visited_on=too_early), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"visited_on"}


def test_a_visit_cannot_be_logged_on_a_closed_case(api, bob, closed_case):
    response = api(bob).post(reverse("api:visit-list"), visit_payload(closed_case), format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Visits cannot be logged on a closed case."]}


def test_an_attachment_of_a_forbidden_type_is_refused_and_nothing_saved(api, bob, case, media):
    payload = visit_payload(case, attachments=[upload("宏.exe")])
    response = api(bob).post(reverse("api:visit-list"), payload, format="multipart")
    assert response.status_code == 400
    assert set(response.json()) == {"attachments"}
    assert not Visit.objects.exists() and not VisitAttachment.objects.exists()


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", HIDDEN), ("diana", FORBIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_edit_a_visit_to_alices_firm(api, persona, visit, who, code):
    response = api(persona(who)).patch(visit_url(visit), {"version": 1, "hours": "3.0"}, format="json")
    assert response.status_code == code
    visit.refresh_from_db()
    assert (visit.hours == Decimal("3.0")) is (code == 200)


def test_an_expert_edits_the_visits_they_logged_only(api, bob, erin, case, erin_assigned, visit):
    own = services.visit_log(user=erin, case=case, **visit_fields())
    assert api(erin).patch(visit_url(own), {"version": 1, "hours": "4"}, format="json").status_code == 200
    assert api(erin).patch(visit_url(visit), {"version": 1, "hours": "4"}, format="json").status_code == FORBIDDEN


def test_an_edit_adds_files_and_moves_the_follow_up_of_the_case(api, bob, case, visit, media):
    follow_up = TODAY() + datetime.timedelta(days=20)
    response = api(bob).patch(visit_url(visit), {"version": 1, "next_follow_up_on": str(follow_up),
                                                 "attachments": [upload("整改报告.docx")]}, format="multipart")
    assert response.status_code == 200, response.content
    assert (response.json()["version"], len(response.json()["attachments"])) == (2, 1)
    assert fresh(case).next_follow_up_on == follow_up


def test_two_edits_of_a_visit_from_one_version_save_the_first_and_answer_the_second_409(api, bob, bianca, visit):
    assert api(bob).patch(visit_url(visit), {"version": 1, "hours": "3.0"}, format="json").status_code == 200
    second = api(bianca).patch(visit_url(visit), {"version": 1, "hours": "5.0"}, format="json")
    assert second.status_code == 409
    assert second.json()["detail"].startswith("Someone else saved this visit after you opened it.")
    visit.refresh_from_db()
    assert (visit.hours, visit.version) == (Decimal("3.0"), 2)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [({"hours": "3"}, {"version"}), ({"version": 1, "hours": "0.2"}, {"hours"}),
     ({"version": 1, "visited_on": str(TODAY() + datetime.timedelta(days=2))}, {"visited_on"}),
     ({"version": 1, "mode": "lost"}, {"mode"})],
)
def test_a_bad_visit_edit_is_refused_per_field(api, bob, visit, payload, fields):
    response = api(bob).patch(visit_url(visit), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields
    visit.refresh_from_db()
    assert visit.version == 1


# --- the shared FilterSets -------------------------------------------------------------------


def test_the_case_list_filters_with_the_case_filterset(api, bob, case, campaign):
    other = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(region=region("130104")),
                               title="桥西帮扶")
    services.case_transition(user=bob, case=other, to_status=Status.DIAGNOSING)
    assert ids(api(bob).get(reverse("api:case-list"), {"status": "diagnosing"})) == {other.pk}
    assert ids(api(bob).get(reverse("api:case-list"), {"region": "130102"})) == {case.pk}
    assert ids(api(bob).get(reverse("api:case-list"), {"q": "桥西"})) == {other.pk}


def test_the_case_list_filters_by_assigned_expert(api, bob, case, erin_assigned, erins_record):
    assert ids(api(bob).get(reverse("api:case-list"), {"expert": erins_record.pk})) == {case.pk}


def test_the_visit_list_filters_with_the_visit_filterset(api, bob, case, visit):
    remote = services.visit_log(user=bob, case=case, **visit_fields(mode="remote"))
    assert ids(api(bob).get(reverse("api:visit-list"), {"mode": "remote"})) == {remote.pk}
    assert ids(api(bob).get(reverse("api:visit-list"), {"case": case.pk})) == {visit.pk, remote.pk}


def test_the_visit_search_never_matches_the_internal_remark(api, alice, visit):
    assert ids(api(alice).get(reverse("api:visit-list"), {"q": "不太配合"})) == set()


@pytest.mark.parametrize(
    ("list_name", "params"),
    [("api:case-list", {"status": "lost"}), ("api:case-list", {"campaign": "abc"}),
     ("api:case-list", {"expert": "99999999999999999999"}), ("api:visit-list", {"mode": "lost"}),
     ("api:visit-list", {"visited_after": "yesterday"}),
     ("api:visit-list", {"case": "abc"})],
)
def test_an_invalid_filter_value_answers_400(api, bob, list_name, params):
    response = api(bob).get(reverse(list_name), params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


# --- query counts ------------------------------------------------------------------------------


@pytest.fixture
def busy_city(bob, campaign, erins_record):
    """25 cases in bob's city, each with an expert assigned and a visit with a photo."""
    experts = [erins_record, ExpertFactory(capacity=50)]
    for n in range(25):
        firm = EnterpriseFactory(region=region("130104" if n % 2 else "130102"))
        case_ = services.case_open(user=bob, campaign=campaign, enterprise=firm, title=f"帮扶{n:02d}")
        services.case_assign_expert(user=bob, case=case_, expert=experts[n % 2], override_reason="测试")
        visit_ = Visit.objects.create(case=case_, logged_by=bob, **visit_fields())
        VisitAttachment.objects.create(visit=visit_, file=f"visits/{visit_.pk}/a.jpg", original_name="a.jpg", size=1,
                                       is_photo=True, uploaded_by=bob)


@pytest.mark.parametrize("page_size", [2, 20])
@pytest.mark.parametrize(
    ("list_name", "queries"),
    [
        # 1 COUNT for the paginator; 1 page of cases joined to enterprise, its region -> city ->
        # province, campaign and lead; 1 prefetch of the active assignments joined to their expert.
        ("api:case-list", 3),
        # 1 COUNT; 1 page of visits joined to case, enterprise and logger; 1 prefetch of attachments.
        ("api:visit-list", 3),
    ],
)
def test_list_endpoints_run_a_constant_number_of_queries(api, bob, busy_city, django_assert_num_queries, list_name,
                                                         queries, page_size):
    client = api(bob)
    with django_assert_num_queries(queries):
        response = client.get(reverse(list_name), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# --- the schema ----------------------------------------------------------------------------------


def test_the_schema_validates_without_a_warning(tmp_path):
    # --fail-on-warn: an endpoint whose shape drf-spectacular has to guess fails here, not in a client.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    for path in ["/api/cases/{id}/transition/", "/api/visits/{id}/attachments/{attachment_id}/",
                 "/api/needs/{id}/suggestions/", "/api/experts/", "/api/campaigns/"]:
        assert path in schema


def test_a_note_the_portal_wrote_reads_in_the_readers_language(api, api_for, bob, case):
    busy = ExpertFactory(name="满员专家", capacity=1)
    other = services.case_open(user=bob, campaign=case.campaign, enterprise=EnterpriseFactory(), title="另一件")
    services.case_assign_expert(user=bob, case=other, expert=busy)
    services.case_assign_expert(user=bob, case=case, expert=busy, override_reason="唯一熟悉该型号的专家")
    entries = api(bob).get(case_url(case, "audit")).json()
    assert "Assigned past capacity" in [entry["note"] for entry in entries]
    chinese = api_for(bob).get(case_url(case, "audit")).json()  # no language picked: Chinese
    assert "超额指派" in [entry["note"] for entry in chinese]
