"""Email delivery (portal/notifications/delivery.py): at most one email per notification and
channel, whether the task runs twice or its worker dies; retries on transient SMTP errors; the
daily digest; the unsubscribe link every email carries."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from enterprises import services as registry
from portal.models import ServiceArea
from portal.notifications import delivery
from portal.notifications.channels import EmailChannel, PermanentError, TransientError, classify_smtp_error
from portal.notifications.models import Delivery, Notification, NotificationPreference
from portal.notifications.services import notify, preference_set, unsubscribe_token

State = Delivery.State


@pytest.fixture
def alice_mail(alice):
    alice.email = "alice@example.com"
    alice.save()
    return alice


@pytest.fixture
def need(alice_mail):
    return registry.need_submit(user=alice_mail, enterprise=alice_mail.enterprises.get(),
                                service_area=ServiceArea.objects.get(code=2), title="压力表校准",
                                description="十台压力表需要校准。")


@pytest.fixture
def declined(bob, need):
    registry.need_decline(user=bob, need=need, reason="不属于服务范围")
    return Notification.objects.get(kind="need_declined")


def test_the_task_sends_one_email_and_a_second_run_sends_nothing(declined):
    assert delivery.deliver_due() == 1
    assert delivery.deliver_due() == 0
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["alice@example.com"] and email.subject == declined.title
    assert "不属于服务范围" in email.body
    row = Delivery.objects.get()
    assert row.state == State.SENT and row.attempts == 1 and row.sent_at is not None and row.claim == ""


def test_the_email_links_to_the_notification_and_carries_an_unsubscribe_link(declined, settings):
    settings.PORTAL_BASE_URL = "https://zlbf.example.gov.cn"
    delivery.deliver_due()
    email = mail.outbox[0]
    assert f"https://zlbf.example.gov.cn/notifications/{declined.pk}/open/" in email.body
    unsubscribe = reverse("notifications:unsubscribe", args=[unsubscribe_token(declined.recipient, "need_declined")])
    assert f"https://zlbf.example.gov.cn{unsubscribe}" in email.body
    assert email.extra_headers["List-Unsubscribe"] == f"<https://zlbf.example.gov.cn{unsubscribe}>"


def test_draining_the_outbox_wakes_the_delivery_task(bob, need, django_capture_on_commit_callbacks):
    from portal import outbox
    from portal.models import OutboxEntry

    registry.need_decline(user=bob, need=need, reason="重复")
    assert OutboxEntry.objects.filter(topic="notifications").exists() and mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        outbox.drain_all()  # what a worker's listener does at the commit
    assert len(mail.outbox) == 1 and Delivery.objects.get().state == State.SENT


def test_a_claimed_row_is_not_sent_by_a_second_run_at_the_same_time(declined):
    token, claimed = delivery.claim(delivery.Q(digest=False), limit=10)
    assert len(claimed) == 1
    assert delivery.deliver_due() == 0  # the other run finds nothing to claim
    assert mail.outbox == []


def test_a_worker_that_died_while_sending_is_not_sent_again(declined):
    delivery.claim(delivery.Q(digest=False), limit=10)  # ... and the worker is killed here
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert delivery.deliver_due() == 0
    row = Delivery.objects.get()
    assert row.state == State.FAILED and "stopped while sending" in row.last_error
    assert mail.outbox == []


def test_a_worker_that_died_before_claiming_leaves_the_row_for_the_retry(declined):
    # Killed before the claim committed: nothing changed, the retry sends it once.
    assert Delivery.objects.get().state == State.PENDING
    assert delivery.deliver_due() == 1 and delivery.deliver_due() == 0
    assert len(mail.outbox) == 1


class FlakyChannel(EmailChannel):
    failures: list[Exception] = []

    def send(self, message):
        if FlakyChannel.failures:
            raise FlakyChannel.failures.pop(0)
        super().send(message)


@pytest.fixture
def flaky(settings):
    from portal.notifications.channels import _load

    settings.NOTIFICATION_CHANNELS = ["tests.test_notifications_delivery.FlakyChannel"]
    _load.cache_clear()
    yield FlakyChannel
    FlakyChannel.failures = []
    _load.cache_clear()


def test_a_transient_failure_is_retried_later_with_backoff_and_sent_once(flaky, declined):
    flaky.failures = [TransientError("421 try later")]
    assert delivery.deliver_due() == 0
    row = Delivery.objects.get()
    assert row.state == State.PENDING and row.attempts == 1 and "421" in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)
    assert delivery.deliver_due() == 0  # not due yet
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert delivery.deliver_due() == 1
    row.refresh_from_db()
    assert row.state == State.SENT and row.attempts == 2 and len(mail.outbox) == 1


def test_transient_failures_give_up_after_the_last_attempt(flaky, declined):
    flaky.failures = [TransientError("server away")] * delivery.MAX_ATTEMPTS
    for _attempt in range(delivery.MAX_ATTEMPTS):
        Delivery.objects.filter(state=State.PENDING).update(next_attempt_at=timezone.now())
        delivery.deliver_due()
    row = Delivery.objects.get()
    assert row.state == State.FAILED and row.attempts == delivery.MAX_ATTEMPTS and mail.outbox == []


def test_a_permanent_failure_is_failed_with_its_reason_and_not_retried(flaky, declined):
    flaky.failures = [PermanentError("550 mailbox unavailable")]
    delivery.deliver_due()
    row = Delivery.objects.get()
    assert row.state == State.FAILED and row.last_error == "550 mailbox unavailable"
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert delivery.deliver_due() == 0 and mail.outbox == []


@pytest.mark.parametrize(("error", "transient"), [
    (smtplib.SMTPServerDisconnected("gone"), True),
    (ConnectionRefusedError("refused"), True),
    (TimeoutError("timed out"), True),
    (smtplib.SMTPDataError(451, b"try again"), True),
    (smtplib.SMTPSenderRefused(550, b"no", "portal@localhost"), False),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"busy")}), True),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"unknown")}), False),
    (smtplib.SMTPAuthenticationError(535, b"bad login"), False),
])
def test_smtp_errors_are_told_apart(error, transient):
    assert isinstance(classify_smtp_error(error), TransientError if transient else PermanentError)


# --- The daily digest --------------------------------------------------------------------------------


def test_the_digest_lists_everything_waiting_in_one_email_and_a_rerun_sends_nothing(alice_mail, bob, need):
    preference_set(user=alice_mail, kind="need_declined", email=NotificationPreference.Email.DIGEST)
    preference_set(user=alice_mail, kind="claim_confirmed", email=NotificationPreference.Email.DIGEST)
    registry.need_decline(user=bob, need=need, reason="重复")
    notify([alice_mail], "claim_confirmed", params={"enterprise": "石家庄恒泰食品有限公司"})
    assert delivery.deliver_due() == 0  # digest rows are not sent one by one
    assert delivery.digests_send() == 1
    assert delivery.digests_send() == 0
    [email] = mail.outbox
    assert email.to == ["alice@example.com"]
    titles = list(Notification.objects.order_by("created_at", "pk").values_list("title", flat=True))
    assert all(title in email.body for title in titles) and len(titles) == 2
    assert email.body.index(titles[0]) < email.body.index(titles[1])
    assert email.body.count("/notifications/unsubscribe/") == 2
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.SENT}


def test_the_digest_leaves_out_other_people_and_instant_kinds(alice_mail, bob, need):
    bob.email = "bob@example.com"
    bob.save()
    preference_set(user=alice_mail, kind="claim_confirmed", email=NotificationPreference.Email.DIGEST)
    notify([alice_mail], "claim_confirmed", params={"enterprise": "恒泰"})
    notify([bob], "import_finished", params={"file": "a.csv", "created": 1, "updated": 0, "errors": 0})
    registry.need_decline(user=bob, need=need, reason="重复")  # instant for alice
    delivery.digests_send()
    [email] = mail.outbox
    assert email.to == ["alice@example.com"] and "恒泰" in email.body and "压力表校准" not in email.body


# --- Unsubscribing ----------------------------------------------------------------------------------


def test_the_unsubscribe_link_works_without_signing_in_after_a_confirmation(client, declined):
    url = reverse("notifications:unsubscribe", args=[unsubscribe_token(declined.recipient, "need_declined")])
    page = client.get(url)
    assert page.status_code == 200 and b"confirm-unsubscribe" in page.content
    assert not NotificationPreference.objects.exists()  # GET changes nothing
    done = client.post(url)
    assert done.status_code == 200 and b"unsubscribed" in done.content
    assert NotificationPreference.objects.get(user=declined.recipient, kind="need_declined").email == "off"


def test_a_forged_unsubscribe_token_is_refused(client, alice):
    token = unsubscribe_token(alice, "need_declined")[:-2] + "xx"
    response = client.post(reverse("notifications:unsubscribe", args=[token]))
    assert response.status_code == 404 and not NotificationPreference.objects.exists()


def test_administrators_read_the_deliveries_in_django_admin_without_changing_them(client_for, admin_user, bob,
                                                                                   declined):
    Delivery.objects.update(state=State.FAILED, last_error="550 mailbox unavailable")
    client = client_for(admin_user)
    page = client.get(reverse("admin:portal_delivery_changelist"), {"state": "failed"})
    assert page.status_code == 200 and "550 mailbox unavailable" in page.content.decode()
    assert client.get(reverse("admin:portal_delivery_add")).status_code == 403
    assert client_for(bob).get(reverse("admin:portal_delivery_changelist")).status_code == 302


class SlowChannel(EmailChannel):
    """Takes its time, so two workers overlap while sending."""

    def send(self, message):
        import time

        time.sleep(0.05)
        super().send(message)


def test_two_workers_sending_at_once_send_each_email_exactly_once(needs_postgres, transactional_db, settings,
                                                                  monkeypatch):
    import threading

    from django.db import connection as default_connection

    from portal import outbox, refdata
    from portal.models import Industry, Region, Specialty, User
    from portal.notifications.channels import _load
    from tests.factories import UserFactory

    if not Region.objects.exists():
        refdata.load_all(Region, Industry, ServiceArea, Specialty)
    settings.NOTIFICATION_CHANNELS = ["tests.test_notifications_delivery.SlowChannel"]
    _load.cache_clear()
    # The commits must not wake a delivery of their own here: the three workers below do it all.
    monkeypatch.setitem(outbox.handlers, "notifications", lambda entries: None)
    people = [UserFactory(role=User.Role.SME, email=f"firm{n}@example.cn") for n in range(30)]
    for person in people:
        notify([person], "claim_confirmed", params={"enterprise": "恒泰"})
    counts = []

    def worker():
        try:
            counts.append(delivery.deliver_due(seconds=30))
        finally:
            default_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    _load.cache_clear()
    assert sum(counts) == 30 and len(counts) == 3
    assert sorted(email.to[0] for email in mail.outbox) == sorted(person.email for person in people)
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.SENT}
