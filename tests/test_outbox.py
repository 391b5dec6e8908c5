"""The transactional outbox (portal/outbox.py): entries commit or roll back with the write, drains
hand them to their topic's handler oldest first and delete them only once handled."""

import threading
import time

import pytest
from django.db import transaction

from portal import outbox
from portal.models import OutboxEntry

TOPIC = "test-topic"


@pytest.fixture
def handled(monkeypatch):
    """A handler for TEST topic recording the payloads of each slice it is handed."""
    slices = []
    monkeypatch.setitem(outbox.handlers, TOPIC, lambda entries: slices.append([e.payload["n"] for e in entries]))
    return slices


def add(count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        OutboxEntry.objects.create(topic=TOPIC, payload={"n": n})


def test_record_keeps_the_topic_and_payload_and_drains_once_the_write_commits(
        db, handled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        entry = outbox.record(TOPIC, n=7)
    assert (entry.topic, entry.payload) == (TOPIC, {"n": 7})
    assert handled == [] and OutboxEntry.objects.filter(topic=TOPIC).count() == 1
    assert len(callbacks) == 1
    callbacks[0]()
    assert handled == [[7]]
    assert not OutboxEntry.objects.filter(topic=TOPIC).exists()


def test_a_rolled_back_write_leaves_no_entry(db, handled):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.record(TOPIC, n=1)
        raise RuntimeError("the write fails")
    assert not OutboxEntry.objects.filter(topic=TOPIC).exists()


def test_many_records_in_one_transaction_wake_the_drain_once(db, handled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        for n in range(3):
            outbox.record(TOPIC, n=n)
    assert len(callbacks) == 1
    assert handled == [[0, 1, 2]]


def test_without_eager_tasks_record_leaves_the_entry_for_the_workers(db, handled, settings,
                                                                   django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outbox.record(TOPIC, n=1)
    assert callbacks == [] and handled == []
    assert OutboxEntry.objects.filter(topic=TOPIC).count() == 1


def test_drain_hands_the_oldest_slice_and_deletes_only_those(db, handled):
    add(5)
    assert outbox.drain(TOPIC, limit=2) == 2
    assert handled == [[0, 1]]
    assert sorted(OutboxEntry.objects.filter(topic=TOPIC).values_list("payload__n", flat=True)) == [2, 3, 4]
    assert outbox.drain(TOPIC, limit=10) == 3
    assert outbox.drain(TOPIC) == 0
    assert handled == [[0, 1], [2, 3, 4]]


def test_drain_leaves_other_topics_alone(db, handled):
    add(1)
    OutboxEntry.objects.create(topic="other-topic", payload={"n": 99})
    assert outbox.drain(TOPIC) == 1
    assert OutboxEntry.objects.filter(topic="other-topic").count() == 1


def test_a_handler_that_fails_leaves_every_entry_of_its_slice(db, monkeypatch):
    def failing(entries):
        raise ValueError("handler bug")

    monkeypatch.setitem(outbox.handlers, TOPIC, failing)
    add(3)
    with pytest.raises(ValueError):
        outbox.drain(TOPIC)
    assert OutboxEntry.objects.filter(topic=TOPIC).count() == 3


def test_drain_all_goes_round_until_a_topic_is_empty(db, handled):
    OutboxEntry.objects.bulk_create(OutboxEntry(topic=TOPIC, payload={"n": n}) for n in range(outbox.DRAIN_SLICE + 1))
    assert outbox.drain_all() == outbox.DRAIN_SLICE + 1
    assert [len(slice_) for slice_ in handled] == [outbox.DRAIN_SLICE, 1]
    assert handled[1] == [outbox.DRAIN_SLICE]


def test_drain_all_stops_at_its_deadline(db, handled):
    add(2)
    assert outbox.drain_all(seconds=0) == 0
    assert handled == [] and OutboxEntry.objects.filter(topic=TOPIC).count() == 2


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_on_the_embedded_default_a_background_thread_drains_after_the_commit(reference_data, handled, settings):
    settings.OUTBOX_DRAIN_INLINE = False
    with transaction.atomic():
        outbox.record(TOPIC, n=1)
        outbox.record(TOPIC, n=2)
    assert wait_until(lambda: not OutboxEntry.objects.filter(topic=TOPIC).exists())
    assert wait_until(lambda: not outbox._running.locked())
    assert [n for slice_ in handled for n in slice_] == [1, 2]


def test_a_failing_background_drain_releases_its_turn(reference_data, settings, monkeypatch):
    from django.db import DatabaseError

    def failing(entries):
        raise DatabaseError("the database went away")

    monkeypatch.setitem(outbox.handlers, TOPIC, failing)
    settings.OUTBOX_DRAIN_INLINE = False
    with transaction.atomic():
        outbox.record(TOPIC, n=1)
    assert wait_until(lambda: not outbox._running.locked())
    assert OutboxEntry.objects.filter(topic=TOPIC).count() == 1  # left for the next drain


def test_a_worker_listener_drains_what_arrives_and_stops_when_told(reference_data, handled):
    stop = threading.Event()
    listener = threading.Thread(target=outbox.listen, args=(stop,), kwargs={"idle_seconds": 0.05})
    add(2)
    listener.start()
    try:
        assert wait_until(lambda: not OutboxEntry.objects.filter(topic=TOPIC).exists())
        add(1, start=2)
        assert wait_until(lambda: not OutboxEntry.objects.filter(topic=TOPIC).exists())
    finally:
        stop.set()
        listener.join(timeout=10)
    assert not listener.is_alive()
    assert [n for slice_ in handled for n in slice_] == [0, 1, 2]


def test_a_handler_bug_does_not_stop_the_listener(reference_data, monkeypatch):
    calls = []

    def flaky(entries):
        calls.append(len(entries))
        if len(calls) == 1:
            raise ValueError("handler bug")

    monkeypatch.setitem(outbox.handlers, TOPIC, flaky)
    stop = threading.Event()
    listener = threading.Thread(target=outbox.listen, args=(stop,), kwargs={"idle_seconds": 0.05})
    add(1)
    listener.start()
    try:
        assert wait_until(lambda: not OutboxEntry.objects.filter(topic=TOPIC).exists())
    finally:
        stop.set()
        listener.join(timeout=10)
    assert calls[0] == 1 and len(calls) >= 2


def test_handles_registers_the_handler_of_its_topic(monkeypatch):
    monkeypatch.setattr(outbox, "handlers", {})

    def handler(entries):
        pass

    assert outbox.handles("another-topic")(handler) is handler
    assert outbox.handlers == {"another-topic": handler}
