"""Who is told of what (portal/notifications): each event reaches the people it concerns, in their
language, and nobody else: not a regulator of another city, not a colleague, never with the internal
remark of a visit."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.cases import services as cases
from enterprises import services as registry
from enterprises.models import EnterpriseClaim, NeedRequest
from portal.models import ServiceArea, User
from portal.notifications.models import Delivery, Notification, NotificationPreference
from portal.notifications.services import notify, preference_set
from tests.factories import CampaignFactory, ExpertFactory, UserFactory


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def need(alice, firm):
    return registry.need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                                title="压力表校准", description="十台压力表需要校准。")


@pytest.fixture
def case(bob, need):
    return cases.case_open(user=bob, campaign=CampaignFactory(), needs=[need], title="计量帮扶")


@pytest.fixture
def expert(erin):
    return ExpertFactory(user=erin)


@pytest.fixture
def everyone(alice, bob, bianca, charlie, diana, erin, admin_user):
    return [alice, bob, bianca, charlie, diana, erin, admin_user]


def told(user, kind=None):
    notes = Notification.objects.filter(recipient=user)
    return list(notes.filter(kind=kind) if kind else notes)


def kinds_of(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_submitting_a_need_tells_nobody(alice, need, everyone):
    assert Notification.objects.count() == 0


def test_a_declined_need_tells_its_firm_the_reason_and_nobody_else(alice, bob, need, everyone):
    registry.need_decline(user=bob, need=need, reason="不属于本次活动服务范围")
    [note] = told(alice)
    assert note.kind == "need_declined" and "压力表校准" in note.title
    assert "不属于本次活动服务范围" in note.body
    assert note.link == f"/needs/{need.pk}/" and note.object_type == "needrequest" and note.read_at is None
    assert [user.username for user in everyone if told(user)] == ["alice"]


def test_an_accepted_need_tells_the_firm(alice, bob, need):
    registry.need_accept(user=bob, need=need)
    assert kinds_of(alice) == ["need_accepted"]


def test_a_refused_step_tells_nobody(alice, bob, charlie, need):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        registry.need_decline(user=charlie, need=need, reason="x")
    with pytest.raises(ValidationError):
        registry.need_transition(user=bob, need=need, to_status=NeedRequest.Status.IN_PROGRESS)
    assert Notification.objects.count() == 0


def test_opening_a_case_tells_the_firm_of_the_case_and_its_accepted_need(alice, bob, case, everyone):
    assert kinds_of(alice) == ["case_opened", "need_accepted"]
    assert told(alice, "case_opened")[0].link == f"/cases/{case.pk}/"
    assert [user.username for user in everyone if told(user)] == ["alice"]


def test_assigning_and_releasing_an_expert_tells_the_expert_and_the_firm_of_the_match(alice, bob, erin, case,
                                                                                       expert, everyone):
    cases.case_assign_expert(user=bob, case=case, expert=expert)
    assert kinds_of(erin) == ["expert_assigned"]
    assert "need_matched" in kinds_of(alice)
    cases.case_release_expert(user=bob, case=case, expert=expert)
    [released] = told(erin, "expert_released")
    assert released.link == ""  # a released expert no longer sees the case
    assert {user.username for user in everyone if told(user)} == {"alice", "erin"}


def test_an_expert_without_a_login_is_told_nothing(bob, case):
    cases.case_assign_expert(user=bob, case=case, expert=ExpertFactory(user=None))
    assert not Notification.objects.filter(kind="expert_assigned").exists()


def test_a_visit_notice_never_carries_the_internal_remark(alice, bob, case, everyone):
    visit = cases.visit_log(user=bob, case=case, visited_on=timezone.localdate(), mode="on_site", hours=2,
                            people_present="王建国", problems_found="计量器具超期",
                            internal_remark="企业负责人态度消极，内部掌握")
    [note] = told(alice, "visit_logged")
    assert "内部掌握" not in note.title + note.body and "态度消极" not in note.title + note.body
    assert note.link == f"/visits/{visit.pk}/"
    assert {user.username for user in everyone if told(user)} == {"alice"}


def test_closing_a_case_asks_the_firm_to_rate_it(alice, bob, case, everyone):
    cases.case_close(user=bob, case=case, resolution="unresolved", note="企业暂停生产")
    [note] = told(alice, "case_closed")
    assert note.link == f"/cases/{case.pk}/rate/"
    assert "need_declined" in kinds_of(alice)
    assert {user.username for user in everyone if told(user)} == {"alice"}


def test_a_claim_decision_tells_the_claimant(bob, firm):
    confirmed, rejected = UserFactory(role=User.Role.SME), UserFactory(role=User.Role.SME)
    claim_one = registry.enterprise_claim(user=confirmed, uscc=firm.uscc)
    claim_two = registry.enterprise_claim(user=rejected, uscc=firm.uscc)
    registry.claim_decide(user=bob, claim=claim_one, confirm=True)
    registry.claim_decide(user=bob, claim=claim_two, confirm=False, note="非本企业员工")
    assert kinds_of(confirmed) == ["claim_confirmed"] and told(confirmed)[0].link == f"/enterprises/{firm.pk}/"
    [note] = told(rejected)
    assert note.kind == "claim_rejected" and "非本企业员工" in note.body and note.link == ""
    assert EnterpriseClaim.objects.filter(status="rejected").count() == 1


def test_a_notification_is_written_in_the_recipients_language(alice, bob, need):
    alice.language = "en"
    alice.save()
    registry.need_decline(user=bob, need=need, reason="duplicate")
    [note] = told(alice)
    assert note.title == "Your need was declined: 压力表校准"
    assert note.body.endswith("Reason: duplicate")


def test_the_default_language_is_chinese(alice, bob, need):
    registry.need_decline(user=bob, need=need, reason="重复")
    assert told(alice)[0].title == "您的需求未被受理：压力表校准"


def test_an_inactive_account_is_told_nothing(alice, bob, need):
    alice.is_active = False
    alice.save()
    registry.need_decline(user=bob, need=need, reason="重复")
    assert Notification.objects.count() == 0


def test_a_rolled_back_event_leaves_no_notification(alice, bob, need):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        registry.need_decline(user=bob, need=need, reason="重复")
        raise RuntimeError
    assert Notification.objects.count() == 0 and Delivery.objects.count() == 0


# --- Preferences decide the deliveries --------------------------------------------------------------


@pytest.fixture
def mailbox_alice(alice):
    alice.email = "alice@example.com"
    alice.save()
    return alice


def test_an_email_delivery_waits_for_each_notification_by_default(mailbox_alice, bob, need):
    registry.need_decline(user=bob, need=need, reason="重复")
    [delivery] = Delivery.objects.all()
    assert (delivery.channel, delivery.state, delivery.digest) == ("email", "pending", False)


def test_a_kind_switched_off_gets_no_delivery_but_stays_in_the_inbox(mailbox_alice, bob, need):
    preference_set(user=mailbox_alice, kind="need_declined", email=NotificationPreference.Email.OFF)
    registry.need_decline(user=bob, need=need, reason="重复")
    assert told(mailbox_alice) and not Delivery.objects.exists()


def test_a_kind_chosen_for_the_digest_waits_for_the_digest(mailbox_alice, bob, need):
    preference_set(user=mailbox_alice, kind="need_declined", email=NotificationPreference.Email.DIGEST)
    registry.need_decline(user=bob, need=need, reason="重复")
    assert Delivery.objects.get().digest is True


def test_an_account_without_an_address_gets_no_email_delivery(alice, bob, need):
    registry.need_decline(user=bob, need=need, reason="重复")
    assert told(alice) and not Delivery.objects.exists()


def test_an_unknown_preference_is_refused_with_a_message(alice):
    with pytest.raises(ValidationError) as error:
        preference_set(user=alice, kind="need_declined", email="sms")
    assert "email" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        preference_set(user=alice, kind="nothing", email="off")
    assert "kind" in error.value.message_dict


def test_a_keyed_notice_is_written_once_per_recipient(alice, bob):
    first = notify([alice, bob], "kpi_behind", key="kpi_behind:1:130100:2026-W49",
                   params={"campaign": "c", "region": "r", "targets": "t"})
    again = notify([alice, bob], "kpi_behind", key="kpi_behind:1:130100:2026-W49",
                   params={"campaign": "c", "region": "r", "targets": "t"})
    assert len(first) == 2 and again == []


# --- Imports tell their uploader ------------------------------------------------------------------


def import_job(user, rows):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from enterprises import importing
    from tests.test_enterprise_import_export import csv_bytes

    return importing.import_job_create(user=user, upload=SimpleUploadedFile("rows.csv", csv_bytes(rows)),
                                       enqueue=False)


def test_a_finished_import_tells_its_uploader_only_once(bob, bianca, charlie):
    from enterprises import importing
    from tests.test_enterprise_import_export import firm_row

    job = import_job(bob, [firm_row(), firm_row()])
    importing.import_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done"
    [note] = told(bob)
    assert note.kind == "import_finished" and "rows.csv" in note.title and "2" in note.body
    assert note.link == f"/enterprises/import/{job.pk}/"
    assert not told(bianca) and not told(charlie)
    importing.import_job_process(job_id=job.pk)  # a second run of the task tells nobody again
    assert len(told(bob)) == 1


def test_an_import_with_bad_rows_asks_its_uploader_to_decide(bob):
    from enterprises import importing
    from tests.test_enterprise_import_export import firm_row

    job = import_job(bob, [firm_row(), firm_row(industry="ZZ")])
    importing.import_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "invalid"
    assert kinds_of(bob) == ["import_invalid"]


def test_a_failed_import_tells_its_uploader(bob):
    from enterprises import importing
    from portal.imports import jobs
    from tests.test_enterprise_import_export import firm_row

    job = import_job(bob, [firm_row()])
    jobs.job_fail(importing.REGISTRY, job.pk, {"code": "internal", "params": {"done": 0}})
    jobs.job_fail(importing.REGISTRY, job.pk, {"code": "internal", "params": {"done": 0}})
    job.refresh_from_db()
    assert job.status == "failed"
    assert kinds_of(bob) == ["import_failed"]
