"""The rules of assistance cases, enforced by campaigns/cases/services.py whatever page or endpoint calls them."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, Visit
from enterprises.models import NeedRequest
from enterprises.services import need_submit
from portal.models import AuditEntry, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory

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


def test_only_the_step_into_progress_starts_the_matched_needs_and_it_is_done_in_the_users_name(bob, case, need):
    from enterprises.models import NeedEvent

    services.case_assign_expert(user=bob, case=case, expert=ExpertFactory())
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
    current = AssistanceCase.objects.get(pk=case.pk)
    services.case_update(user=bob, case=current, version=current.version, diagnosis="计量器具未按期检定",
                         plan="建立企业计量室")
    services.case_transition(user=bob, case=case, to_status=Status.PLAN_AGREED)
    need.refresh_from_db()
    assert need.status == NeedRequest.Status.MATCHED  # diagnosing and agreeing a plan leave it matched
    services.case_transition(user=bob, case=case, to_status=Status.IN_PROGRESS, note="开始整改")
    need.refresh_from_db()
    assert need.status == NeedRequest.Status.IN_PROGRESS
    event = NeedEvent.objects.get(need=need, to_status=NeedRequest.Status.IN_PROGRESS)
    assert (event.from_status, event.actor) == (NeedRequest.Status.MATCHED, bob)
    need_entry = AuditEntry.objects.get(object_id=str(need.pk), content_type__model="needrequest",
                                        action=AuditEntry.Action.TRANSITION, changes__status__1="in_progress")
    case_entry = AuditEntry.objects.get(object_id=str(case.pk), content_type__model="assistancecase",
                                        action=AuditEntry.Action.TRANSITION, changes__status__1="in_progress")
    assert need_entry.actor == bob and case_entry.actor == bob and case_entry.note == "开始整改"


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


@pytest.fixture
def expert(erin):
    return ExpertFactory(user=erin)


def test_supervisors_and_other_cities_cannot_touch_a_case(case, charlie, diana, alice):
    for user in (charlie, diana, alice):
        with pytest.raises(PermissionDenied):
            services.case_transition(user=user, case=case, to_status=Status.DIAGNOSING)
        with pytest.raises(PermissionDenied):
            services.visit_log(user=user, case=case, **visit_fields())
        with pytest.raises(PermissionDenied):
            services.case_update(user=user, case=case, version=1, diagnosis="x")
    case.refresh_from_db()
    assert case.status == Status.OPEN and case.diagnosis == "" and not case.visits.exists()


def test_an_assigned_expert_logs_visits_and_writes_the_diagnosis_but_not_the_outcomes(bob, erin, case, expert):
    with pytest.raises(PermissionDenied):
        services.visit_log(user=erin, case=case, **visit_fields())
    services.case_assign_expert(user=bob, case=case, expert=expert)
    visit = services.visit_log(user=erin, case=case, **visit_fields(internal_remark="企业负责人配合度一般"))
    services.case_update(user=erin, case=case, version=1, diagnosis="检定证书过期")
    with pytest.raises(PermissionDenied):
        services.case_update(user=erin, case=case, version=2, lab_set_up=True)
    with pytest.raises(PermissionDenied):
        services.case_transition(user=erin, case=case, to_status=Status.DIAGNOSING)
    services.visit_update(user=erin, visit=visit, version=1, hours=3)
    services.case_release_expert(user=bob, case=case, expert=expert)
    with pytest.raises(PermissionDenied):
        services.visit_log(user=erin, case=case, **visit_fields())
    from campaigns.cases.selectors import cases_visible_to

    assert not cases_visible_to(erin).exists()


def test_assigning_past_capacity_needs_a_reason_which_is_kept(bob, case):
    busy = ExpertFactory(capacity=1)
    other_case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=case.enterprise, title="另一个")
    services.case_assign_expert(user=bob, case=other_case, expert=busy)
    with pytest.raises(ValidationError) as error:
        services.case_assign_expert(user=bob, case=case, expert=busy)
    assert "override_reason" in error.value.message_dict
    assert not case.assignments.exists()
    assignment = services.case_assign_expert(user=bob, case=case, expert=busy, override_reason="唯一的计量专家")
    assert assignment.over_capacity and assignment.override_reason == "唯一的计量专家"
    entry = AuditEntry.objects.filter(action="assign", object_id=str(case.pk), content_type__model="assistancecase")
    assert entry.get().changes["override_reason"] == [None, "唯一的计量专家"]


def test_an_expert_cannot_be_assigned_twice_or_when_inactive(bob, case):
    expert = ExpertFactory()
    services.case_assign_expert(user=bob, case=case, expert=expert)
    with pytest.raises(ValidationError):
        services.case_assign_expert(user=bob, case=case, expert=expert)
    with pytest.raises(ValidationError):
        services.case_assign_expert(user=bob, case=case, expert=ExpertFactory(is_active=False))
    assert case.assignments.count() == 1


def test_a_case_closes_resolved_only_once_in_progress_and_unresolved_only_with_a_reason(bob, case, need):
    with pytest.raises(ValidationError) as error:
        services.case_close(user=bob, case=case, resolution="resolved", fulfilled_needs=[need])
    assert error.value.code == "illegal_transition"
    with pytest.raises(ValidationError) as error:
        services.case_close(user=bob, case=case, resolution="unresolved")
    assert "note" in error.value.message_dict
    case.refresh_from_db()
    assert case.status == Status.OPEN
    services.case_close(user=bob, case=case, resolution="unresolved", note="企业停产")
    need.refresh_from_db()
    assert need.status == NeedRequest.Status.DECLINED and "企业停产" in need.decline_reason


@pytest.mark.parametrize(("diagnosis", "plan"), [("", ""), ("计量器具未按期检定", ""), ("", "建立企业计量室"),
                                                ("计量器具未按期检定", "  ")])
def test_plan_agreed_needs_both_a_diagnosis_and_a_plan(bob, case, diagnosis, plan):
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
    services.case_update(user=bob, case=case, version=None, diagnosis=diagnosis, plan=plan)
    with pytest.raises(ValidationError) as error, translation.override("en"):
        services.case_transition(user=bob, case=case, to_status=Status.PLAN_AGREED)
    assert "diagnosis and the plan" in error.value.messages[0]
    case.refresh_from_db()
    assert case.status == Status.DIAGNOSING


def test_plan_agreed_with_a_diagnosis_and_a_plan_is_accepted(bob, case):
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
    services.case_update(user=bob, case=case, version=None, diagnosis="计量器具未按期检定", plan="建立企业计量室")
    services.case_transition(user=bob, case=case, to_status=Status.PLAN_AGREED)
    case.refresh_from_db()
    assert case.status == Status.PLAN_AGREED


# --- every pair of the lifecycle -------------------------------------------------------------------

LIFECYCLE = [Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS, Status.CLOSED]
LEGAL_STEPS = {(Status.OPEN, Status.DIAGNOSING), (Status.DIAGNOSING, Status.PLAN_AGREED),
               (Status.PLAN_AGREED, Status.IN_PROGRESS)}


def case_at(status: str, *, user, case) -> AssistanceCase:
    """`case` taken by the legal steps to `status` (closed: unresolved, from open)."""
    if status == Status.CLOSED:
        services.case_close(user=user, case=case, resolution="unresolved", note="企业停产")
        return AssistanceCase.objects.get(pk=case.pk)
    services.case_update(user=user, case=case, version=None, diagnosis="计量器具未按期检定", plan="建立企业计量室")
    for step in LIFECYCLE[1:LIFECYCLE.index(status) + 1]:
        services.case_transition(user=user, case=case, to_status=step)
    return AssistanceCase.objects.get(pk=case.pk)


@pytest.mark.parametrize("target", LIFECYCLE)
@pytest.mark.parametrize("current", LIFECYCLE)
def test_every_step_of_the_lifecycle_table(bob, case, current, target):
    case = case_at(current, user=bob, case=case)
    before = (case.status, case.version, CaseEvent.objects.filter(case=case).count())
    if (current, target) in LEGAL_STEPS:
        services.case_transition(user=bob, case=case, to_status=target)
        case.refresh_from_db()
        assert case.status == target and case.version == before[1] + 1
        assert CaseEvent.objects.filter(case=case).latest("pk").from_status == current
        return
    with pytest.raises(ValidationError) as error:
        services.case_transition(user=bob, case=case, to_status=target)
    if target != Status.CLOSED:  # closing has its own form, and says so
        assert error.value.code == "illegal_transition"
    case.refresh_from_db()
    assert (case.status, case.version, CaseEvent.objects.filter(case=case).count()) == before


@pytest.mark.parametrize("resolution", ["resolved", "unresolved"])
@pytest.mark.parametrize("current", LIFECYCLE)
def test_closing_from_every_status(bob, case, current, resolution):
    case = case_at(current, user=bob, case=case)
    allowed = current != Status.CLOSED and (resolution == "unresolved" or current == Status.IN_PROGRESS)
    if allowed:
        services.case_close(user=bob, case=case, resolution=resolution, note="企业停产")
        case.refresh_from_db()
        assert (case.status, case.resolution) == (Status.CLOSED, resolution)
        return
    before = (case.status, case.resolution, case.version)
    with pytest.raises(ValidationError) as error:
        services.case_close(user=bob, case=case, resolution=resolution, note="企业停产")
    assert error.value.code == "illegal_transition"
    case.refresh_from_db()
    assert (case.status, case.resolution, case.version) == before


def test_a_need_of_another_firm_or_already_in_an_open_case_is_refused(bob, campaign, case, need):
    from enterprises.models import NeedRequest as Need

    other = EnterpriseFactory()
    foreign = Need.objects.create(enterprise=other, service_area_id=2, title="x", description="x",
                                  submitted_by=bob)
    with pytest.raises(ValidationError) as error:
        services.case_open(user=bob, campaign=CampaignFactory(), needs=[need, foreign], title="混合")
    assert "needs" in error.value.message_dict


def test_a_campaign_outside_the_region_or_not_running_is_refused(bob, need):
    from portal.models import Region

    anhui = CampaignFactory(region=Region.objects.get(code="340000"))
    ended = CampaignFactory(ends_on=timezone.localdate() - datetime.timedelta(days=1),
                            starts_on=timezone.localdate() - datetime.timedelta(days=30))
    for campaign in (anhui, ended):
        with pytest.raises(ValidationError) as error:
            services.case_open(user=bob, campaign=campaign, needs=[need], title="x")
        assert "campaign" in error.value.message_dict
    assert not AssistanceCase.objects.exists()


def test_visit_edits_keep_every_earlier_value_in_the_trail(bob, bianca, case):
    visit = services.visit_log(user=bob, case=case, **visit_fields(problems_found="计量器具未检定"))
    services.visit_update(user=bianca, visit=visit, version=1, problems_found="三台压力表未检定")
    with pytest.raises(ValidationError) as error:
        services.visit_update(user=bob, visit=visit, version=1, hours=4)
    assert error.value.code == "conflict"
    entries = AuditEntry.objects.filter(content_type__model="visit", object_id=str(visit.pk)).order_by("id")
    assert [e.action for e in entries] == ["create", "update"]
    assert entries[1].changes == {"problems_found": ["计量器具未检定", "三台压力表未检定"]}
    visit.refresh_from_db()
    assert visit.hours == 2 and visit.version == 2


def test_visit_dates_are_checked(bob, case):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        services.visit_log(user=bob, case=case, **visit_fields(visited_on=today + datetime.timedelta(days=1)))
    assert "visited_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.visit_log(user=bob, case=case, **visit_fields(next_follow_up_on=today))
    assert "next_follow_up_on" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.visit_log(user=bob, case=case, **visit_fields(hours=30))
    assert "hours" in error.value.message_dict
    assert not Visit.objects.exists()


def test_visit_attachments_are_limited_by_type_size_and_count(bob, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    photo = SimpleUploadedFile("现场.jpg", b"\xff\xd8\xff" + b"0" * 100, content_type="image/jpeg")
    script = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    huge = SimpleUploadedFile("report.pdf", b"0" * (services.ATTACHMENT_MAX_BYTES + 1))
    for bad in (script, huge):
        with pytest.raises(ValidationError) as error:
            services.visit_log(user=bob, case=case, attachments=[bad], **visit_fields())
        assert "attachments" in error.value.message_dict
    many = [SimpleUploadedFile(f"{n}.png", b"x") for n in range(services.ATTACHMENT_MAX_COUNT + 1)]
    with pytest.raises(ValidationError):
        services.visit_log(user=bob, case=case, attachments=many, **visit_fields())
    assert not Visit.objects.exists()
    visit = services.visit_log(user=bob, case=case, attachments=[photo], **visit_fields())
    stored = visit.attachments.get()
    assert stored.is_photo and stored.original_name == "现场.jpg" and "现场" not in stored.file.name


def test_only_the_firms_contact_rates_and_only_once_closed(bob, alice, case):
    with pytest.raises(ValidationError):
        services.case_rate(user=alice, case=case, score=5)
    services.case_close(user=bob, case=case, resolution="unresolved", note="企业搬迁")
    case.refresh_from_db()
    with pytest.raises(PermissionDenied):
        services.case_rate(user=bob, case=case, score=5)
    with pytest.raises(ValidationError) as error:
        services.case_rate(user=alice, case=case, score=6)
    assert "score" in error.value.message_dict
    services.case_rate(user=alice, case=case, score=3, comment="一般")
    assert case.rating.score == 3


def test_follow_ups_and_stale_cases_show_for_the_jurisdiction(bob, charlie, case):
    from campaigns.cases.selectors import overdue_follow_ups, stale_cases

    today = timezone.localdate()
    services.visit_log(user=bob, case=case, **visit_fields(
        visited_on=today - datetime.timedelta(days=40), next_follow_up_on=today - datetime.timedelta(days=10)))
    assert list(overdue_follow_ups(bob)) == [case]
    assert list(stale_cases(bob)) == [case]
    assert not overdue_follow_ups(charlie).exists() and not stale_cases(charlie).exists()
    services.visit_log(user=bob, case=case, **visit_fields(visited_on=today - datetime.timedelta(days=1)))
    assert not overdue_follow_ups(bob).exists() and not stale_cases(bob).exists()


def test_what_each_role_sees_of_cases_and_visits(alice, bob, charlie, diana, erin, case, expert):
    from campaigns.cases.selectors import cases_visible_to, visits_visible_to

    services.visit_log(user=bob, case=case, **visit_fields(internal_remark="内部意见"))
    assert list(cases_visible_to(bob)) == [case] == list(cases_visible_to(diana)) == list(cases_visible_to(alice))
    assert not cases_visible_to(charlie).exists() and not cases_visible_to(erin).exists()
    services.case_assign_expert(user=bob, case=case, expert=expert)
    assert list(cases_visible_to(erin)) == [case] and visits_visible_to(erin).count() == 1
    assert visits_visible_to(alice).count() == 1 and not visits_visible_to(charlie).exists()
