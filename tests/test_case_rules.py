"""Each refusal of the case services with its exact field and message (read in English), and what an
accepted opening, assignment, release and closing write: the rules of campaigns/cases/services.py
one by one, so a rule that stops applying, or says the wrong thing, fails here."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent
from enterprises.models import NeedRequest
from portal.models import AuditEntry, ServiceArea
from tests.factories import (
    CampaignFactory,
    CaseFactory,
    EnterpriseFactory,
    ExpertFactory,
    NeedFactory,
    RegulatorFactory,
    region,
)

pytestmark = pytest.mark.django_db
Status = AssistanceCase.Status
NeedStatus = NeedRequest.Status


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def campaign(db):
    return CampaignFactory()


def case_audit_entries(case, action: str):
    return AuditEntry.objects.filter(content_type__model="assistancecase", object_id=str(case.pk), action=action)


def case_audit(case, action: str) -> AuditEntry:
    return AuditEntry.objects.get(content_type__model="assistancecase", object_id=str(case.pk), action=action)


def refusal(call) -> dict:
    with pytest.raises(ValidationError) as error:
        call()
    return error.value.message_dict if hasattr(error.value, "error_dict") else {"": error.value.messages}


# --- opening ----------------------------------------------------------------------------------------


def test_opening_needs_a_firm_or_its_needs(bob, campaign):
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, title="x")) == {
        "enterprise": ["Choose the enterprise, or the needs the case answers."]}


def test_opening_refuses_each_wrong_need_with_its_reason(bob, campaign, firm):
    other = NeedFactory(enterprise=EnterpriseFactory(), title="别家的需求")
    settled = NeedFactory(enterprise=firm, title="已办结", status=NeedStatus.FULFILLED)
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, enterprise=firm, needs=[other, settled],
                                              title="x")) == {
        "needs": ["Every need must be a need of the same enterprise.", "These needs are already settled: 已办结."]}
    taken = NeedFactory(enterprise=firm, title="已在处理")
    CaseFactory(campaign=CampaignFactory(), enterprise=firm).needs.add(taken)
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, needs=[taken], title="x")) == {
        "needs": ["These needs are already answered by an open case: 已在处理."]}


def test_opening_refuses_a_campaign_that_does_not_cover_or_is_not_running(bob, firm):
    tangshan = CampaignFactory(region=region("130200"))
    assert refusal(lambda: services.case_open(user=bob, campaign=tangshan, enterprise=firm, title="x")) == {
        "campaign": ["This campaign does not cover the enterprise's region."]}
    start, end = datetime.date(2020, 1, 1), datetime.date(2020, 12, 31)
    ended = CampaignFactory(starts_on=start, ends_on=end)
    assert refusal(lambda: services.case_open(user=bob, campaign=ended, enterprise=firm, title="x")) == {
        "campaign": ["This campaign runs from 2020-01-01 to 2020-12-31; cases open only while it runs."]}


def test_opening_refuses_needs_outside_the_campaigns_service_areas(bob, firm):
    campaign = CampaignFactory()
    campaign.service_areas.set([ServiceArea.objects.get(code=8)])
    need = NeedFactory(enterprise=firm, title="计量")  # service area 2
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, needs=[need], title="x")) == {
        "needs": ["These needs lie outside the campaign's service areas: 计量."]}
    inside = NeedFactory(enterprise=firm, title="培训", service_area=ServiceArea.objects.get(code=8))
    assert services.case_open(user=bob, campaign=campaign, needs=[inside], title="x").needs.get() == inside


def test_opening_a_second_open_case_names_the_firm(bob, campaign, firm):
    services.case_open(user=bob, campaign=campaign, enterprise=firm, title="x")
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, enterprise=firm, title="y")) == {
        "enterprise": ["This enterprise already has an open case in this campaign."]}


def test_the_lead_is_an_active_regulator_of_the_firms_region(admin_user, bob, charlie, campaign, firm):
    assert refusal(lambda: services.case_open(user=admin_user, campaign=campaign, enterprise=firm, title="x")) == {
        "lead": ["Choose the lead regulator."]}
    message = ["The lead must be an active regulator whose jurisdiction covers the enterprise."]
    for lead in (charlie, RegulatorFactory(is_active=False), admin_user):
        assert refusal(lambda lead=lead: services.case_open(user=admin_user, campaign=campaign, enterprise=firm,
                                                            title="x", lead=lead)) == {"lead": message}
    case = services.case_open(user=admin_user, campaign=campaign, enterprise=firm, title="x", lead=bob)
    assert (case.lead, case.opened_by) == (bob, admin_user)


def test_only_regulators_of_the_region_and_administrators_open_cases(charlie, diana, alice, campaign, firm):
    for user in (charlie, diana, alice):
        with pytest.raises(PermissionDenied):
            services.case_open(user=user, campaign=campaign, enterprise=firm, title="x")
    assert not AssistanceCase.objects.exists()


def test_an_opened_case_keeps_trimmed_texts_accepts_its_needs_and_records_the_opening(bob, campaign, firm):
    need = NeedFactory(enterprise=firm, title="校准")
    case = services.case_open(user=bob, campaign=campaign, needs=[need], title="  计量帮扶 ", diagnosis=" 诊断 ",
                              plan=" 方案 ")
    case.refresh_from_db()
    assert (case.title, case.diagnosis, case.plan, case.status, case.lead) == ("计量帮扶", "诊断", "方案", "open", bob)
    need.refresh_from_db()
    assert need.status == NeedStatus.TRIAGED
    assert need.events.order_by("pk").last().note == f"Answered by case #{case.pk}"
    event = CaseEvent.objects.get(case=case)
    assert (event.from_status, event.to_status, event.actor) == ("", "open", bob)
    assert AuditEntry.objects.filter(content_type__model="assistancecase", object_id=str(case.pk), action="create",
                                     region_code="130102").exists()


# --- opening ---------------------------------------------------------------------------------------


def test_opening_names_each_need_it_refuses_and_why(bob, alice, firm, campaign):
    first, second = NeedFactory(enterprise=firm, title="甲"), NeedFactory(enterprise=firm, title="乙")
    NeedRequest.objects.filter(pk__in=[first.pk, second.pk]).update(status=NeedStatus.FULFILLED)
    first.refresh_from_db()
    second.refresh_from_db()
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, needs=[first, second], title="帮扶")) == {
        "needs": ["These needs are already settled: 甲、乙."]}
    third, fourth = NeedFactory(enterprise=firm, title="丙"), NeedFactory(enterprise=firm, title="丁")
    services.case_open(user=bob, campaign=CampaignFactory(), needs=[third, fourth], title="另一活动的帮扶")
    assert refusal(lambda: services.case_open(user=bob, campaign=campaign, needs=[third, fourth], title="帮扶")) == {
        "needs": ["These needs are already answered by an open case: 丁、丙."]}  # newest first
    scoped = CampaignFactory()
    scoped.service_areas.set([ServiceArea.objects.get(code=1)])
    fifth, sixth = NeedFactory(enterprise=firm, title="戊"), NeedFactory(enterprise=firm, title="己")
    assert refusal(lambda: services.case_open(user=bob, campaign=scoped, needs=[fifth, sixth], title="帮扶")) == {
        "needs": ["These needs lie outside the campaign's service areas: 戊、己."]}
    assert not AssistanceCase.objects.filter(campaign__in=[campaign, scoped]).exists()


def test_opening_tells_the_firms_contacts_about_this_case(bob, alice, firm, campaign):
    from portal.notifications.models import Notification

    case = services.case_open(user=bob, campaign=campaign, enterprise=firm, title="帮扶")
    told = Notification.objects.get(recipient=alice, kind="case_opened")
    assert (told.object_type, told.object_id, told.link) == (
        "assistancecase", str(case.pk), reverse("cases:detail", args=[case.pk]))


# --- assigning and releasing experts -----------------------------------------------------------------


@pytest.fixture
def case(bob, campaign, firm):
    return services.case_open(user=bob, campaign=campaign, needs=[NeedFactory(enterprise=firm)], title="帮扶")


def test_assigning_refuses_with_the_reason(bob, case):
    tangshan = ExpertFactory(name="唐山专家", region=region("130200"), regions_served=[region("130200")])
    assert refusal(lambda: services.case_assign_expert(user=bob, case=case, expert=tangshan)) == {
        "expert": ["This expert is not in a pool you can use."]}
    resting = ExpertFactory(name="休假专家", is_active=False)
    assert refusal(lambda: services.case_assign_expert(user=bob, case=case, expert=resting)) == {
        "expert": ["休假专家 is not active in the pool."]}
    expert = ExpertFactory(name="李明", capacity=1)
    services.case_assign_expert(user=bob, case=case, expert=expert)
    assert refusal(lambda: services.case_assign_expert(user=bob, case=case, expert=expert)) == {
        "expert": ["李明 is already assigned to this case."]}


def test_assigning_at_capacity_needs_a_reason_and_keeps_it(bob, case, campaign):
    expert = ExpertFactory(name="李明", capacity=1)
    other = CaseFactory(campaign=CampaignFactory(), enterprise=EnterpriseFactory(), lead=bob)
    services.case_assign_expert(user=bob, case=other, expert=expert)
    assert refusal(lambda: services.case_assign_expert(user=bob, case=case, expert=expert)) == {
        "override_reason": ["李明 already carries 1 open cases (capacity 1). Give a reason to assign past capacity."]}
    assert refusal(lambda: services.case_assign_expert(user=bob, case=case, expert=expert, override_reason="  ")) == {
        "override_reason": ["李明 already carries 1 open cases (capacity 1). Give a reason to assign past capacity."]}
    assignment = services.case_assign_expert(user=bob, case=case, expert=expert, override_reason=" 唯一的计量专家 ")
    assert (assignment.over_capacity, assignment.override_reason, assignment.assigned_by) == (True, "唯一的计量专家",
                                                                                             bob)
    entry = case_audit(case, "assign")
    assert entry.changes == {"expert": [None, f"李明 ({expert.code})"], "override_reason": [None, "唯一的计量专家"]}
    assert entry.note == "Assigned past capacity"


def test_assigning_below_capacity_keeps_no_reason_and_matches_the_needs(bob, case):
    expert = ExpertFactory(name="李明", capacity=2)
    assignment = services.case_assign_expert(user=bob, case=case, expert=expert, override_reason="不需要")
    assert (assignment.over_capacity, assignment.override_reason, assignment.active) == (False, "", True)
    need = case.needs.get()
    assert need.status == NeedStatus.MATCHED
    assert need.events.order_by("pk").last().actor == bob  # matched in the assigning user's name
    entry = case_audit(case, "assign")
    assert (entry.actor, entry.changes, entry.note) == (bob, {"expert": [None, f"李明 ({expert.code})"]}, "")


def test_a_released_assignment_no_longer_counts_against_the_experts_capacity(bob, case):
    expert = ExpertFactory(name="李明", capacity=1)
    earlier = CaseFactory(campaign=CampaignFactory(), enterprise=EnterpriseFactory(), lead=bob)
    services.case_assign_expert(user=bob, case=earlier, expert=expert)
    services.case_release_expert(user=bob, case=earlier, expert=expert, note="已完成诊断")
    assignment = services.case_assign_expert(user=bob, case=case, expert=expert)  # no reason needed
    assert (assignment.over_capacity, assignment.override_reason) == (False, "")


def test_the_assigned_expert_is_told_with_a_link_to_the_case(bob, erin, case):
    from portal.notifications.models import Notification

    services.case_assign_expert(user=bob, case=case, expert=ExpertFactory(name="王海燕", user=erin))
    told = Notification.objects.get(recipient=erin)
    assert (told.object_type, told.object_id, told.link) == (
        "assistancecase", str(case.pk), reverse("cases:detail", args=[case.pk]))


def test_experts_are_not_assigned_to_a_closed_case_and_closing_frees_them(bob, case):
    expert = ExpertFactory()
    services.case_assign_expert(user=bob, case=case, expert=expert)
    services.case_close(user=bob, case=case, resolution="unresolved", note="企业停产")
    assert not CaseAssignment.objects.filter(active=True).exists()
    assert refusal(lambda: services.case_assign_expert(user=bob, case=case, expert=ExpertFactory())) == {
        "": ["Experts cannot be assigned to a closed case."]}


def test_releasing_an_expert(bob, charlie, case):
    expert = ExpertFactory(name="李明")
    assert refusal(lambda: services.case_release_expert(user=bob, case=case, expert=expert)) == {
        "expert": ["李明 is not assigned to this case."]}
    services.case_assign_expert(user=bob, case=case, expert=expert)
    with pytest.raises(PermissionDenied):
        services.case_release_expert(user=charlie, case=case, expert=expert)
    released = services.case_release_expert(user=bob, case=case, expert=expert, note=" 企业要求更换 ")
    assert (released.active, released.released_by) == (False, bob) and released.released_at
    entry = case_audit(case, "release")
    assert (entry.changes, entry.note) == ({"expert": [f"李明 ({expert.code})", None]}, "企业要求更换")


def test_releasing_one_expert_leaves_the_others_and_records_who_released_whom(bob, erin, case):
    from portal.notifications.models import Notification

    kept, leaving = ExpertFactory(name="王强"), ExpertFactory(name="李明", user=erin)
    services.case_assign_expert(user=bob, case=case, expert=kept)
    services.case_assign_expert(user=bob, case=case, expert=leaving)
    services.case_release_expert(user=bob, case=case, expert=leaving)
    assert set(CaseAssignment.objects.filter(active=True).values_list("expert__name", flat=True)) == {"王强"}
    entry = case_audit(case, "release")
    assert (entry.actor, entry.changes, entry.note) == (bob, {"expert": [f"李明 ({leaving.code})", None]}, "")
    for kind in ("expert_assigned", "expert_released"):
        told = Notification.objects.get(recipient=erin, kind=kind)
        assert (told.object_type, told.object_id) == ("assistancecase", str(case.pk))
    # A released expert may be assigned again.
    services.case_assign_expert(user=bob, case=case, expert=leaving)
    assert CaseAssignment.objects.filter(active=True).count() == 2


# --- moving on and closing ---------------------------------------------------------------------------


def test_a_transition_refusal_names_the_statuses(bob, case):
    assert refusal(lambda: services.case_transition(user=bob, case=case, to_status=Status.IN_PROGRESS)) == {
        "": ["A case that is Open cannot become In progress."]}
    assert refusal(lambda: services.case_transition(user=bob, case=case, to_status=Status.CLOSED)) == {
        "": ["Close a case with its resolution and outcomes (the Close case form)."]}


def test_a_transition_records_who_moved_it_with_the_note(bob, case):
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING, note=" 开始诊断 ")
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.from_status, event.to_status, event.actor, event.note) == ("open", "diagnosing", bob, "开始诊断")
    entry = AuditEntry.objects.filter(content_type__model="assistancecase", object_id=str(case.pk),
                                      action="transition").get()
    assert entry.changes == {"status": ["open", "diagnosing"]} and entry.note == "开始诊断"


def test_a_transition_without_a_note_records_none(bob, case):
    services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
    assert CaseEvent.objects.filter(case=case).latest("pk").note == ""
    assert AuditEntry.objects.get(content_type__model="assistancecase", object_id=str(case.pk),
                                  action="transition").note == ""


def test_closing_refuses_with_the_reason(bob, case):
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="resolved", colour="red")) == {
        "": ["Unknown outcome: colour"]}
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="resolved", size=1, colour="red")) == {
        "": ["Unknown outcome: colour, size"]}
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="maybe")) == {
        "resolution": ["Choose resolved or unresolved."]}
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="resolved")) == {
        "": ["A case that is Open cannot be closed as resolved: the plan must be in progress first."]}
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="unresolved", note="  ")) == {
        "note": ["Say why the case closes unresolved."]}
    stranger = NeedFactory(enterprise=case.enterprise)
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="unresolved", note="停产",
                                               fulfilled_needs=[stranger])) == {
        "fulfilled_needs": ["Only needs answered by this case can be settled here."]}
    case.refresh_from_db()
    assert case.status == Status.OPEN
    services.case_close(user=bob, case=case, resolution="unresolved", note="停产")
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="unresolved", note="停产")) == {
        "": ["This case is already closed."]}


def test_closing_settles_each_need_and_keeps_the_outcomes(bob, firm, campaign):
    met, unmet, submitted = (NeedFactory(enterprise=firm, title=t) for t in ("甲", "乙", "丙"))
    case = services.case_open(user=bob, campaign=campaign, needs=[met, unmet], title="帮扶")
    case.needs.add(submitted)
    NeedRequest.objects.filter(pk=submitted.pk).update(status=NeedStatus.SUBMITTED)
    for step in (Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS):
        if step == Status.PLAN_AGREED:
            services.case_update(user=bob, case=case, version=None, diagnosis="诊断", plan="方案")
        services.case_transition(user=bob, case=case, to_status=step)
    services.case_close(user=bob, case=case, resolution="resolved", fulfilled_needs=[met, submitted], note=" 完成 ",
                        outcome_notes=" 建立计量室 ", money_saved=450000, money_saved_period="per_year",
                        lab_set_up=True, certificate_obtained=True, standard_drafted=True,
                        excellence_model_adopted=True)
    case.refresh_from_db()
    assert (case.status, case.resolution, case.outcome_notes, case.lab_set_up) == (
        "closed", "resolved", "建立计量室", True)
    assert (case.certificate_obtained, case.standard_drafted, case.excellence_model_adopted, case.money_saved,
            case.money_saved_period) == (True, True, True, 450000, "per_year")
    assert NeedRequest.objects.get(pk=met.pk).events.order_by("pk").last().actor == bob
    assert case_audit_entries(case, "transition").latest("pk").actor == bob
    assert case.closed_at and case.next_follow_up_on is None
    statuses = {need.title: (need.status, need.decline_reason) for need in NeedRequest.objects.filter(
        pk__in=[met.pk, unmet.pk, submitted.pk])}
    assert statuses == {"甲": ("fulfilled", ""), "丙": ("fulfilled", ""),
                        "乙": ("declined", f"Case #{case.pk} closed without meeting this need: 完成")}
    assert NeedRequest.objects.get(pk=met.pk).events.order_by("pk").last().note == f"Met by case #{case.pk}"
    event = CaseEvent.objects.filter(case=case).latest("pk")
    assert (event.from_status, event.to_status, event.note) == ("in_progress", "closed", "完成")


def test_closing_settles_every_open_need_after_a_settled_one_in_the_users_name_and_tells_the_firm(
        bob, alice, firm, campaign):
    from enterprises.models import NeedEvent
    from portal.notifications.models import Notification

    # Made in this order, a case lists them newest first: the settled one, then the two open ones.
    open_, submitted, settled = (NeedFactory(enterprise=firm, title=t) for t in ("未满足", "新提交", "已办结"))
    case = services.case_open(user=bob, campaign=campaign, needs=[settled, open_], title="帮扶")
    case.needs.add(submitted)
    NeedRequest.objects.filter(pk=settled.pk).update(status=NeedStatus.FULFILLED)  # settled before the close
    NeedRequest.objects.filter(pk=submitted.pk).update(status=NeedStatus.SUBMITTED)
    services.case_update(user=bob, case=case, version=None, diagnosis="诊断", plan="方案")
    version = AssistanceCase.objects.get(pk=case.pk).version
    assert version > 1
    before = NeedEvent.objects.order_by("pk").last().pk
    services.case_close(user=bob, case=case, resolution="unresolved", note=" 企业停产 ", fulfilled_needs=[submitted])
    case.refresh_from_db()
    assert case.version == version + 1
    # The settled need comes first and is left alone; the ones after it are still settled.
    statuses = dict(NeedRequest.objects.filter(cases=case).values_list("title", "status"))
    assert statuses == {"已办结": "fulfilled", "新提交": "fulfilled", "未满足": "declined"}
    steps = list(NeedEvent.objects.filter(pk__gt=before).order_by("pk")
                 .values_list("need__title", "to_status", "actor"))
    assert steps == [("新提交", "triaged", bob.pk), ("新提交", "fulfilled", bob.pk), ("未满足", "declined", bob.pk)]
    assert case_audit_entries(case, "transition").latest("pk").note == "企业停产"
    told = Notification.objects.get(recipient=alice, kind="case_closed")
    assert (told.object_type, told.object_id) == ("assistancecase", str(case.pk))
    assert told.link == reverse("cases:rate", args=[case.pk])


def test_a_case_entered_after_the_fact_closes_on_a_day_between_its_opening_and_today(bob, firm, campaign):
    today = timezone.localdate()
    case = services.case_open(user=bob, campaign=campaign, needs=[NeedFactory(enterprise=firm)], title="补录",
                              opened_on=today - datetime.timedelta(days=20))
    assert refusal(lambda: services.case_close(user=bob, case=case, resolution="unresolved", note="停产",
                                               closed_on=today - datetime.timedelta(days=21))) == {
        "closed_on": ["A case closes between the day it opened and today."]}
    services.case_close(user=bob, case=case, resolution="unresolved", note="停产",
                        closed_on=today - datetime.timedelta(days=10))
    case.refresh_from_db()
    assert timezone.localdate(case.closed_at) == today - datetime.timedelta(days=10)


@pytest.mark.parametrize("days_ago", [20, 0])  # the day it opened, today: both ends are allowed
def test_a_case_entered_after_the_fact_may_close_on_the_day_it_opened_or_today(bob, firm, campaign, days_ago):
    today = timezone.localdate()
    case = services.case_open(user=bob, campaign=campaign, needs=[NeedFactory(enterprise=firm)], title="补录",
                              opened_on=today - datetime.timedelta(days=20))
    services.case_close(user=bob, case=case, resolution="unresolved", note="停产",
                        closed_on=today - datetime.timedelta(days=days_ago))
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    assert timezone.localdate(case.closed_at) == today - datetime.timedelta(days=days_ago)


def test_closing_unresolved_without_a_note_of_its_own_says_so(bob, case):
    services.case_close(user=bob, case=case, resolution="unresolved", note="企业停产")
    need = case.needs.get()
    assert need.decline_reason == f"Case #{case.pk} closed without meeting this need: 企业停产"


def test_a_stale_version_is_refused_by_every_step(bob, case):
    services.case_update(user=bob, case=case, version=1, diagnosis="诊断")
    for call in (lambda: services.case_transition(user=bob, case=case, to_status="diagnosing", version=1),
                 lambda: services.case_close(user=bob, case=case, resolution="unresolved", note="x", version=1)):
        with pytest.raises(ValidationError) as error:
            call()
        assert error.value.code == "conflict"
        assert error.value.messages == ["Someone else saved this case after you opened it. Your changes were not "
                                        "saved: reload the page to see theirs, then make your changes again."]
    services.case_transition(user=bob, case=case, to_status="diagnosing", version=2)
    assert AssistanceCase.objects.get(pk=case.pk).status == "diagnosing"


def test_the_period_end_is_checked_again_under_the_lock(bob, firm, monkeypatch):
    campaign = CampaignFactory()
    from campaigns.cases import services as module

    def shortened(c):
        c.ends_on = timezone.localdate() - datetime.timedelta(days=1)
        return c

    monkeypatch.setattr(module, "locked_campaign", shortened)
    assert "campaign" in refusal(lambda: services.case_open(user=bob, campaign=campaign, enterprise=firm, title="x"))
    assert not AssistanceCase.objects.exists()


def test_the_needs_history_shows_the_portals_note_in_the_readers_language(client_for, api_for, bob, campaign, firm):
    """The note is stored once, in English; the page and the API give it in Chinese to a Chinese reader."""
    need = NeedFactory(enterprise=firm, title="校准")
    case = services.case_open(user=bob, campaign=campaign, needs=[need], title="计量帮扶")
    page = client_for(bob).get(reverse("needs:detail", args=[need.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans")
    with translation.override("zh-hans"):
        chinese = translation.gettext("Answered by case #%(number)d") % {"number": case.pk}
    assert chinese != f"Answered by case #{case.pk}"
    assert chinese in page.content.decode() and f"Answered by case #{case.pk}" not in page.content.decode()
    events = api_for(bob).get(reverse("api:need-detail", args=[need.pk])).json()["events"]  # Chinese by default
    assert events[-1]["note"] == chinese
