"""The audit trail: every change leaves an entry with old and new values, readable by the
jurisdiction's staff, and nobody can change or delete an entry."""

import pytest
from django.db import connection, transaction
from django.db.utils import InternalError
from django.urls import reverse
from django.utils import translation

from enterprises import services as registry
from enterprises.models import NeedRequest
from portal.audit import audit_entries_for, audit_entries_visible_to, change_rows
from portal.models import AuditEntry, Region, ServiceArea
from tests.factories import EnterpriseFactory, ExpertFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


def test_an_enterprise_edit_records_old_and_new_values(bob, firm):
    registry.enterprise_update(user=bob, enterprise=firm, name="石家庄恒泰食品股份有限公司", is_key=True)
    entry = audit_entries_for(bob, firm).get()
    assert entry.actor == bob and entry.action == AuditEntry.Action.UPDATE
    assert entry.changes == {"name": ["石家庄恒泰食品有限公司", "石家庄恒泰食品股份有限公司"], "is_key": [False, True]}
    with translation.override("en"):
        rows = {row["field"]: (row["old"], row["new"]) for row in change_rows(entry)}
    assert rows == {"name": ("石家庄恒泰食品有限公司", "石家庄恒泰食品股份有限公司"), "key enterprise": ("No", "Yes")}


def test_saving_an_unchanged_enterprise_records_nothing(bob, firm):
    registry.enterprise_update(user=bob, enterprise=firm, name=firm.name)
    assert not audit_entries_for(bob, firm).exists()


def test_registering_an_enterprise_and_a_need_transition_are_recorded(bob, alice, firm):
    need = registry.need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=1),
                                title="质量诊断", description="希望专家来厂诊断。")
    registry.need_decline(user=bob, need=need, reason="不在本次活动范围")
    actions = list(audit_entries_for(bob, need).order_by("at", "id").values_list("action", "actor__username"))
    assert actions == [("create", "alice"), ("transition", "bob")]
    transition = audit_entries_for(bob, need).get(action="transition")
    assert transition.changes["status"] == [NeedRequest.Status.SUBMITTED, NeedRequest.Status.DECLINED]
    assert transition.note == "不在本次活动范围"


def test_moving_a_firm_to_another_region_stays_readable_from_both(admin_user, bob, charlie, firm):
    registry.enterprise_update(user=admin_user, enterprise=firm, region=Region.objects.get(code="130203"))
    assert audit_entries_for(bob, firm).exists()
    assert audit_entries_for(charlie, firm).exists()


def test_only_the_jurisdictions_staff_read_the_trail(alice, bob, bianca, charlie, diana, erin, firm):
    registry.enterprise_update(user=bob, enterprise=firm, is_key=True)
    assert audit_entries_for(bianca, firm).count() == 1
    assert audit_entries_for(diana, firm).count() == 1
    assert audit_entries_for(charlie, firm).count() == 0
    assert audit_entries_for(alice, firm).count() == 0
    assert audit_entries_for(erin, firm).count() == 0


def test_expert_records_are_audited_in_their_pool(bob, charlie):
    from experts.services import expert_update

    expert = ExpertFactory()
    expert_update(user=bob, expert=expert, capacity=5)
    entry = audit_entries_visible_to(bob).get(action="update")
    assert entry.changes == {"capacity": [3, 5]}
    assert not audit_entries_visible_to(charlie).filter(pk=entry.pk).exists()


def test_the_application_cannot_change_or_delete_an_entry(bob, firm):
    registry.enterprise_update(user=bob, enterprise=firm, is_key=True)
    entry = AuditEntry.objects.get()
    entry.note = "rewritten"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(note="rewritten")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get().note == ""


def test_a_deleted_account_cannot_erase_its_audit_history(bob, firm):
    from django.db.models import ProtectedError

    registry.enterprise_update(user=bob, enterprise=firm, is_key=True)
    with pytest.raises(ProtectedError):
        bob.delete()


def test_postgresql_refuses_update_and_delete_from_any_client(needs_postgres, bob, firm):
    registry.enterprise_update(user=bob, enterprise=firm, is_key=True)
    for statement in ("UPDATE portal_auditentry SET note = 'x'", "DELETE FROM portal_auditentry"):
        with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEntry.objects.get().note == ""


def test_entries_are_scoped_by_the_objects_region_not_the_actors(admin_user, charlie):
    tangshan_firm = EnterpriseFactory(region=Region.objects.get(code="130203"))
    registry.enterprise_update(user=admin_user, enterprise=tangshan_firm, is_key=True)
    assert audit_entries_for(charlie, tangshan_firm).count() == 1


def test_a_change_made_in_django_admin_is_audited_too(client_for, admin_user, bob):
    expert = ExpertFactory(capacity=3)
    client = client_for(admin_user)
    page = client.get(reverse("admin:experts_expert_change", args=[expert.pk]))
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["capacity"] = 6
    response = client.post(reverse("admin:experts_expert_change", args=[expert.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = audit_entries_visible_to(bob).get(action="update")
    assert entry.actor == admin_user and entry.changes == {"capacity": [3, 6]}


@pytest.mark.parametrize("page", ["enterprises:detail", "needs:detail"])
def test_the_trail_shows_on_the_objects_page_to_staff_only(client_for, alice, bob, diana, firm, page):
    need = registry.need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=1),
                                title="质量诊断", description="希望专家来厂诊断。")
    registry.enterprise_update(user=bob, enterprise=firm, contact_phone="031188886666")
    registry.need_accept(user=bob, need=need)
    pk = firm.pk if page == "enterprises:detail" else need.pk
    for reader in (bob, diana):
        html = client_for(reader).get(reverse(page, args=[pk])).content.decode()
        assert 'data-testid="audit-trail"' in html
        assert ("031188886666" if page == "enterprises:detail" else "王建国") in html
    assert 'data-testid="audit-trail"' not in client_for(alice).get(reverse(page, args=[pk])).content.decode()


def test_an_assignment_recorded_on_its_case_reads_with_proper_labels(bob, firm):
    from campaigns.cases.services import case_assign_expert, case_open
    from tests.factories import CampaignFactory

    case = case_open(user=bob, campaign=CampaignFactory(), enterprise=firm, title="计量帮扶")
    case_assign_expert(user=bob, case=case, expert=ExpertFactory(name="刘建华", code="130100-0001"))
    entry = audit_entries_for(bob, case).get(action="assign")
    with translation.override("zh-hans"):
        assert change_rows(entry) == [{"field": "专家", "old": "—", "new": "刘建华 (130100-0001)"}]


def test_a_note_the_portal_wrote_reads_in_the_readers_language():
    from django.utils import translation

    from portal.audit import note_text, portal_note

    stored = portal_note("Answered by case #%(number)d", number=12)
    assert stored == "Answered by case #12"
    with translation.override("zh-hans"):
        assert "#12" in note_text(stored) and note_text(stored) != stored
        chinese = note_text(portal_note("Assigned past capacity"))
    assert chinese != "Assigned past capacity"
    with translation.override("en"):
        # An entry written earlier in Chinese reads in English too; a typed note stays as typed.
        assert note_text(chinese) == "Assigned past capacity"
        assert note_text("企业停产待检") == "企业停产待检"
