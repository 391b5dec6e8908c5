"""The rules of assistance cases, enforced by campaigns/services.py whatever page or endpoint calls them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns import services
from campaigns.models import AssistanceCase, CaseAssignment, CaseEvent, Visit
from enterprises.models import NeedRequest
from enterprises.services import need_submit
from portal.models import AuditEntry, ServiceArea
from tests.factories import CampaignFactory, ExpertFactory

Status = AssistanceCase.Status


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def need(alice, firm):
    return need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="十台压力表需要校准。")


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.fixture
def case(bob, campaign, need):
    return services.case_open(user=bob, campaign=campaign, needs=[need], title="计量帮扶")


def visit_fields(**overrides):
    fields = {"visited_on": timezone.localdate(), "mode": "on_site", "hours": 2,
              "people_present": "王建国、企业质量主管"}
    fields.update(overrides)
    return fields


def test_opening_a_case_from_a_need_accepts_the_need_and_records_who(bob, case, need):
    need.refresh_from_db()
    assert case.enterprise == need.enterprise and case.lead == bob and case.status == Status.OPEN
    assert need.status == NeedRequest.Status.TRIAGED
    assert list(case.events.values_list("to_status", flat=True)) == ["open"]
    entry = AuditEntry.objects.get(content_type__model="assistancecase", object_id=str(case.pk), action="create")
    assert entry.actor == bob and entry.region_code == "130102" and entry.changes["title"] == [None, "计量帮扶"]


def test_a_regulator_of_another_city_cannot_open_a_case(charlie, campaign, need):
    with pytest.raises(PermissionDenied):
        services.case_open(user=charlie, campaign=campaign, needs=[need], title="x")


def test_a_second_open_case_for_the_firm_in_the_campaign_is_refused(bob, case, campaign, firm):
    with pytest.raises(ValidationError) as error:
        services.case_open(user=bob, campaign=campaign, enterprise=firm, title="又一个")
    assert "enterprise" in error.value.message_dict


def test_an_illegal_transition_changes_nothing(bob, case):
    with pytest.raises(ValidationError) as error:
        services.case_transition(user=bob, case=case, to_status=Status.IN_PROGRESS)
    assert error.value.code == "illegal_transition"
    case.refresh_from_db()
    assert case.status == Status.OPEN and case.version == 1
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_a_stale_version_is_refused_and_the_first_edit_survives(bob, bianca, case):
    services.case_update(user=bob, case=case, version=1, diagnosis="计量器具未按期检定")
    with pytest.raises(ValidationError) as error:
        services.case_update(user=bianca, case=case, version=1, plan="建立计量室")
    assert error.value.code == "conflict"
    case.refresh_from_db()
    assert case.diagnosis == "计量器具未按期检定" and case.plan == "" and case.version == 2


def test_the_whole_lifecycle_settles_the_needs_and_frees_the_experts(bob, alice, case, need):
    expert = ExpertFactory()
    services.case_assign_expert(user=bob, case=case, expert=expert)
    need.refresh_from_db()
    assert need.status == NeedRequest.Status.MATCHED
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
    services.case_update(user=bob, case=AssistanceCase.objects.get(pk=case.pk), version=2,
                         diagnosis="计量器具未按期检定", plan="建立企业计量室")
    services.case_transition(user=bob, case=case, to_status=Status.PLAN_AGREED)
    services.case_transition(user=bob, case=case, to_status=Status.IN_PROGRESS)
    visit = services.visit_log(user=bob, case=case, **visit_fields(
        visited_on=timezone.localdate() - datetime.timedelta(days=3),
        next_follow_up_on=timezone.localdate() + datetime.timedelta(days=10)))
    case.refresh_from_db()
    assert case.last_visit_on == visit.visited_on and case.next_follow_up_on == visit.next_follow_up_on
    services.case_close(user=bob, case=case, resolution="resolved", fulfilled_needs=[need], lab_set_up=True,
                        money_saved=450000)
    case.refresh_from_db()
    need.refresh_from_db()
    assert case.status == Status.CLOSED and case.closed_at and case.lab_set_up
    assert need.status == NeedRequest.Status.FULFILLED
    assert not CaseAssignment.objects.filter(active=True).exists()
    rating = services.case_rate(user=alice, case=case, score=5, comment="很有帮助")
    assert rating.score == 5
    with pytest.raises(ValidationError):
        services.case_rate(user=alice, case=case, score=4)
    with pytest.raises(ValidationError):
        services.visit_log(user=bob, case=case, **visit_fields())
    assert Visit.objects.count() == 1
