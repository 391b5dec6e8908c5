"""/api/training-sessions/: staff read the sessions of their jurisdiction with firm-times and
person-times; regulators and administrators record one with its attendance, all of it or nothing.

Personas (tests/conftest.py): bob and bianca regulate Shijiazhuang (130100), charlie Tangshan
(130200); diana supervises Hebei read-only; alice is an SME user, erin an expert. Anonymous
callers get 403: session authentication sends no WWW-Authenticate challenge.
"""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from campaigns.training import services
from campaigns.training.models import TrainingAttendance, TrainingSession
from portal.models import AuditEntry, Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db

Mode = TrainingSession.Mode
TODAY = timezone.localdate
FORBIDDEN = 403
ANONYMOUS = 403


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="河北省质量提升行动")


@pytest.fixture
def firms(db):
    return [EnterpriseFactory(name=f"石家庄接口企业{n}有限公司") for n in range(3)]


@pytest.fixture
def tangshan_firm(db):
    return EnterpriseFactory(name="唐山钢构有限公司", region=Region.objects.get(code="130203"))


def record(user, campaign, attendances=(), *, days_ago=2, region="130102", **fields):
    values = {"topic": "ISO 9001 内审员培训", "organiser": "石家庄市市场监督管理局",
              "held_on": TODAY() - datetime.timedelta(days=days_ago), "region": Region.objects.get(code=region)}
    values.update(fields)
    return services.training_record(user=user, campaign=campaign, attendances=list(attendances), **values)


@pytest.fixture
def session(bob, campaign, firms):
    return record(bob, campaign, [(firms[0], 2, "张三、李四"), (firms[1], 3, "")])


def payload(campaign, attendances, **overrides) -> dict:
    data = {"campaign": campaign.pk, "region": "130102", "topic": "计量器具管理培训",
            "held_on": (TODAY() - datetime.timedelta(days=1)).isoformat(), "place": "石家庄市计量院",
            "mode": Mode.ONLINE, "organiser": "石家庄市市场监督管理局", "service_area": 2,
            "attendances": attendances}
    data.update(overrides)
    return data


# --- who may do what ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "code"), [("bob", 200), ("bianca", 200), ("diana", 200), ("admin_user", 200),
                                           ("alice", FORBIDDEN), ("erin", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_staff_list_and_read_sessions_others_are_refused(api, persona, session, who, code):
    client = api(persona(who))
    response = client.get(reverse("api:training-session-list"))
    assert response.status_code == code
    assert client.get(reverse("api:training-session-detail", args=[session.pk])).status_code == code
    if code == 200:
        assert [row["id"] for row in response.json()["results"]] == [session.pk]


def test_a_regulator_of_another_city_neither_lists_nor_reads_the_session(api, charlie, session):
    client = api(charlie)
    assert client.get(reverse("api:training-session-list")).json()["results"] == []
    assert client.get(reverse("api:training-session-detail", args=[session.pk])).status_code == 404
    assert client.get(reverse("api:training-session-audit", args=[session.pk])).status_code == 404


@pytest.mark.parametrize(("who", "code"), [("diana", FORBIDDEN), ("alice", FORBIDDEN), ("erin", FORBIDDEN),
                                           ("anonymous", ANONYMOUS)])
def test_only_regulators_and_administrators_record(api, persona, campaign, firms, who, code):
    response = api(persona(who)).post(reverse("api:training-session-list"),
                                      payload(campaign, [{"enterprise": firms[0].pk}]), format="json")
    assert response.status_code == code
    assert not TrainingSession.objects.exists()


def test_sessions_are_neither_changed_nor_deleted_through_the_api(api, bob, session):
    client = api(bob)
    url = reverse("api:training-session-detail", args=[session.pk])
    assert client.patch(url, {"topic": "改"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert TrainingSession.objects.get().topic == "ISO 9001 内审员培训"


# --- reading -------------------------------------------------------------------------------------------


def test_a_session_reads_with_its_totals_and_attendance(api, bob, session, firms):
    body = api(bob).get(reverse("api:training-session-detail", args=[session.pk])).json()
    assert (body["firm_times"], body["person_times"], body["region"], body["mode"]) == (2, 5, "130102", "in_person")
    assert [(row["enterprise"], row["uscc"], row["persons"], row["names"]) for row in body["attendances"]] == [
        (firms[0].pk, firms[0].uscc, 2, "张三、李四"), (firms[1].pk, firms[1].uscc, 3, "")]
    listed = api(bob).get(reverse("api:training-session-list")).json()["results"][0]
    assert (listed["firm_times"], listed["person_times"]) == (2, 5) and "attendances" not in listed


def test_the_audit_trail_of_a_session_is_read_by_staff(api, bob, diana, session):
    for user in (bob, diana):
        entries = api(user).get(reverse("api:training-session-audit", args=[session.pk])).json()
        assert [entry["action"] for entry in entries] == ["create"]


@pytest.fixture
def sessions(bob, campaign, firms):
    """Four sessions that each filter tells apart (the same FilterSet as the page)."""
    other = CampaignFactory(name="计量惠企行动")
    return {
        "iso": record(bob, campaign, [(firms[0], 2, "")], topic="ISO 9001 内审员培训", days_ago=40,
                      service_area=ServiceArea.objects.get(code=8)),
        "metrology": record(bob, other, [(firms[1], 4, "")], topic="计量器具管理", organiser="石家庄市计量测试所",
                            mode=Mode.ONLINE, region="130104", days_ago=20),
        "brand": record(bob, campaign, [(firms[0], 1, ""), (firms[2], 1, "")], topic="品牌建设", place="鹿泉区园区",
                        mode=Mode.ON_SITE, region="130110", days_ago=10),
        "clinic": record(bob, other, [], topic="质量流动诊所", mode=Mode.MOBILE_CLINIC, region="130100", days_ago=1),
    }


@pytest.mark.parametrize(("query", "kept"), [
    ({"q": "ISO"}, {"iso"}),
    ({"q": "计量测试所"}, {"metrology"}),
    ({"q": "鹿泉区园区"}, {"brand"}),
    ({"campaign": "campaign"}, {"iso", "brand"}),
    ({"region": "130104"}, {"metrology"}),
    ({"region": "130200"}, set()),
    ({"mode": [Mode.ONLINE, Mode.MOBILE_CLINIC]}, {"metrology", "clinic"}),
    ({"service_area": "8"}, {"iso"}),
    ({"held_after": "days_ago:15"}, {"brand", "clinic"}),
    ({"held_before": "days_ago:15"}, {"iso", "metrology"}),
    ({"enterprise": "firm0"}, {"iso", "brand"}),
], ids=["q-topic", "q-organiser", "q-place", "campaign", "region", "region-elsewhere", "mode", "service_area",
        "held_after", "held_before", "enterprise"])
def test_each_filter_keeps_its_rows(api, bob, campaign, firms, sessions, query, kept):
    params = {}
    for key, value in query.items():
        if value == "campaign":
            value = campaign.pk
        elif value == "firm0":
            value = firms[0].pk
        elif isinstance(value, str) and value.startswith("days_ago:"):
            value = (TODAY() - datetime.timedelta(days=int(value.split(":")[1]))).isoformat()
        params[key] = value
    response = api(bob).get(reverse("api:training-session-list"), params)
    assert {row["id"] for row in response.json()["results"]} == {sessions[name].pk for name in kept}


@pytest.mark.parametrize("query", [{"campaign": "x"}, {"enterprise": str(2**70)}, {"held_after": "soon"},
                                   {"mode": "by_pigeon"}, {"service_area": "99"}])
def test_a_bad_filter_value_answers_400(api, bob, session, query):
    assert api(bob).get(reverse("api:training-session-list"), query).status_code == 400


@pytest.mark.parametrize("page_size", [10, 50])
def test_the_list_runs_a_constant_number_of_queries(api, bob, campaign, firms, django_assert_num_queries, page_size):
    for n in range(55):
        record(bob, campaign, [(firms[n % 3], n % 4 + 1, ""), (firms[(n + 1) % 3], 1, "")], topic=f"培训{n}",
               days_ago=n % 30 + 1)
    client = api(bob)
    # 1 COUNT; 1 page of sessions joined to campaign, region, service area and recorder, with firm-times and
    # person-times as subqueries (the user is authenticated in memory; the jurisdiction is on the user).
    with django_assert_num_queries(2):
        response = client.get(reverse("api:training-session-list"), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


# --- recording -----------------------------------------------------------------------------------------


def test_a_session_is_recorded_with_firms_named_by_id_or_credit_code(api, bob, campaign, firms):
    attendances = [{"enterprise": firms[0].pk, "persons": 2, "names": "张三、李四"},
                   {"enterprise": f" {firms[1].uscc.lower()} "},
                   {"enterprise": str(firms[2].pk), "persons": 4}]
    response = api(bob).post(reverse("api:training-session-list"), payload(campaign, attendances), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    session = TrainingSession.objects.get()
    assert (body["id"], body["firm_times"], body["person_times"], body["mode"]) == (session.pk, 3, 7, "online")
    assert set(TrainingAttendance.objects.values_list("enterprise_id", "persons", "names")) == {
        (firms[0].pk, 2, "张三、李四"), (firms[1].pk, 1, ""), (firms[2].pk, 4, "")}
    assert AuditEntry.objects.filter(content_type__model="trainingsession", actor=bob).count() == 1


def test_bad_attendance_rows_answer_400_row_by_row_and_nothing_is_recorded(api, bob, campaign, firms,
                                                                          tangshan_firm):
    attendances = [
        {"enterprise": firms[0].pk},
        {"enterprise": firms[0].uscc},  # the same firm again
        {"enterprise": tangshan_firm.pk},  # outside the jurisdiction: as if it did not exist
        {"enterprise": EnterpriseFactory.build().uscc},  # not in the registry
        {"enterprise": firms[1].pk, "persons": 0},
        {"enterprise": True},
        {"persons": 2},
    ]
    response = api(bob).post(reverse("api:training-session-list"), payload(campaign, attendances), format="json")
    assert response.status_code == 400
    # The rows' own field errors first, keyed by their index; the registry is asked once every row reads well.
    assert response.json()["attendances"] == {
        "4": {"persons": ["Ensure this value is greater than or equal to 1."]},
        "5": {"enterprise": ["Give the enterprise's id or its credit code."]},
        "6": {"enterprise": ["This field is required."]},
    }
    assert not TrainingSession.objects.exists()

    response = api(bob).post(reverse("api:training-session-list"), payload(campaign, attendances[:4]), format="json")
    assert response.status_code == 400
    outside = ["No enterprise of your jurisdiction has this id or credit code."]
    assert response.json()["attendances"] == {
        "1": {"enterprise": ["This enterprise is already on the list, at index 0."]}, "2": {"enterprise": outside},
        "3": {"enterprise": outside}}
    assert not TrainingSession.objects.exists() and not AuditEntry.objects.exists()


@pytest.mark.parametrize(("overrides", "field"), [
    ({"held_on": "tomorrow"}, "held_on"),
    ({"held_on": "before the campaign"}, "held_on"),
    ({"region": "130203"}, "region"),
    ({"region": "999999"}, "region"),
    ({"campaign": 10**9}, "campaign"),
    ({"topic": ""}, "topic"),
    ({"mode": "by_pigeon"}, "mode"),
    ({"service_area": 99}, "service_area"),
    ({"attendances": "张三"}, "attendances"),
])
def test_bad_session_fields_answer_400_on_the_field_and_nothing_is_recorded(api, bob, campaign, firms, overrides,
                                                                           field):
    if overrides.get("held_on") == "tomorrow":
        overrides["held_on"] = (TODAY() + datetime.timedelta(days=1)).isoformat()
    elif overrides.get("held_on") == "before the campaign":
        overrides["held_on"] = (campaign.starts_on - datetime.timedelta(days=1)).isoformat()
    data = payload(campaign, [{"enterprise": firms[0].pk}])
    data.update(overrides)
    response = api(bob).post(reverse("api:training-session-list"), data, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not TrainingSession.objects.exists()


def test_a_regulator_of_another_city_cannot_record_a_session_there(api, charlie, campaign, firms):
    response = api(charlie).post(reverse("api:training-session-list"),
                                 payload(campaign, [{"enterprise": firms[0].pk}]), format="json")
    assert response.status_code == 400 and set(response.json()) == {"region", "attendances"}
    assert not TrainingSession.objects.exists()


def test_a_form_encoded_body_is_refused_for_its_nested_list(api, bob, campaign):
    response = api(bob).post(reverse("api:training-session-list"), {"campaign": campaign.pk, "topic": "x"})
    assert response.status_code == 415


def test_the_schema_describes_training_sessions_without_a_warning(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/training-sessions/:" in schema and "/api/training-sessions/{id}/audit/:" in schema
    assert "TrainingRecordRequest" in schema and "TrainingModeEnum" in schema
