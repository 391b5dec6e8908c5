"""Security events in the audit trail: recorded with time, account and address; append-only (the
model, and on PostgreSQL a trigger that also refuses TRUNCATE); an administrators' page with filters."""

import datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEntry
from portal.security.events import event_record
from portal.security.models import SecurityEvent

Kind = SecurityEvent.Kind


def test_an_event_keeps_time_account_and_address(client, bob):
    client.post(reverse("login"), {"username": "bob", "password": "pw"}, REMOTE_ADDR="10.8.8.8",
                HTTP_USER_AGENT="Mozilla/5.0 test")
    event = SecurityEvent.objects.get(kind=Kind.SIGN_IN)
    assert (event.user, event.username, event.ip_address, event.user_agent) == (bob, "bob", "10.8.8.8",
                                                                                 "Mozilla/5.0 test")
    assert timezone.now() - event.at < datetime.timedelta(minutes=1)


def test_a_failure_for_an_unknown_account_keeps_the_name_typed(client, db):
    client.post(reverse("login"), {"username": "ghost", "password": "x"})
    event = SecurityEvent.objects.get(kind=Kind.SIGN_IN_FAILED)
    assert (event.user, event.username) == (None, "ghost")


def test_events_cannot_be_changed_or_deleted_through_the_model(bob):
    event = event_record(kind=Kind.SIGN_IN, user=bob)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        SecurityEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        SecurityEvent.objects.update(detail="x")


@pytest.mark.parametrize("table", ["portal_auditentry", "security_securityevent"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET object_id = object_id", "DELETE FROM {table}",
                                       "TRUNCATE {table}"])
def test_the_database_refuses_update_delete_and_truncate(needs_postgres, bob, table, statement):
    from portal.audit import record

    event_record(kind=Kind.SIGN_IN, user=bob)
    record(actor=bob, obj=bob, action=AuditEntry.Action.UPDATE, region_code="130100")
    sql = statement.format(table=table)
    if table == "security_securityevent":
        sql = sql.replace("object_id = object_id", "detail = detail")
    with connection.cursor() as cursor:
        # The rows above leave deferred foreign-key checks pending, which PostgreSQL would give as the
        # reason to refuse a TRUNCATE; run them now so the trigger is what answers.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert SecurityEvent.objects.count() >= 1 and AuditEntry.objects.count() == 1


@pytest.fixture
def events(bob, alice):
    event_record(kind=Kind.SIGN_IN, user=bob)
    event_record(kind=Kind.SIGN_IN_FAILED, username="bob")
    event_record(kind=Kind.LOCKED_OUT, user=alice)
    event_record(kind=Kind.SIGN_OUT, user=alice)
    return SecurityEvent.objects.all()


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("bob", 403), ("diana", 403), ("alice", 403),
                                              ("erin", 403)])
def test_only_administrators_read_security_events(client_for, request, events, who, status):
    assert client_for(request.getfixturevalue(who)).get(reverse("security:events")).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(db, client_for):
    response = client_for(None).get(reverse("security:events"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def kinds_listed(client, **params) -> list[str]:
    response = client.get(reverse("security:events"), params)
    assert response.status_code == 200
    return [event.kind for event in response.context["events"]]


def test_the_filters_keep_the_rows_they_name(client_for, admin_user, events):
    client = client_for(admin_user)
    assert set(kinds_listed(client, kind=Kind.LOCKED_OUT)) == {Kind.LOCKED_OUT}
    assert set(kinds_listed(client, q="alice")) == {Kind.LOCKED_OUT, Kind.SIGN_OUT}
    today = timezone.localdate()
    assert Kind.SIGN_IN in kinds_listed(client, since=today.isoformat(), until=today.isoformat())
    assert kinds_listed(client, until=(today - datetime.timedelta(days=1)).isoformat()) == []


def test_an_invalid_filter_value_is_a_message_not_an_error(client_for, admin_user, events):
    response = client_for(admin_user).get(reverse("security:events"), {"since": "2026-13-45", "kind": "nope"})
    assert response.status_code == 200
    assert response.context["filterset"].errors


@pytest.mark.parametrize("per_page", [25, 100])
def test_the_event_page_costs_the_same_queries_at_any_page_size(client_for, admin_user, per_page,
                                                              django_assert_num_queries):
    for n in range(30):
        event_record(kind=Kind.SIGN_IN_FAILED, username=f"u{n}")
    client = client_for(admin_user)
    # session, user, COUNT of the events, the page of events with account and actor joined.
    with django_assert_num_queries(4):
        assert client.get(reverse("security:events"), {"per_page": per_page}).status_code == 200
