"""The transactional outbox (portal/outbox.py): entries commit or roll back with the write, drains
hand them to their topic's handler oldest first and delete them only once handled."""

import contextlib
import logging
import socket
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


def test_on_postgresql_record_notifies_the_channel_with_its_topic(db, monkeypatch):
    executed = []

    class Cursor:
        def execute(self, sql, params):
            executed.append((sql, params))

    fake = type("Connection", (), {"vendor": "postgresql", "cursor": lambda self: contextlib.nullcontext(Cursor())})()
    monkeypatch.setattr(outbox, "connection", fake)
    outbox.record(TOPIC, n=1)
    assert executed == [("SELECT pg_notify(%s, %s)", ["portal_outbox", TOPIC])]


def test_within_drained_by_caller_a_commit_starts_no_drain_until_the_block_ends(
        db, handled, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, outbox.drained_by_caller():
        with outbox.drained_by_caller():
            outbox.record(TOPIC, n=1)
        outbox.record(TOPIC, n=2)  # still within the outer block
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        outbox.record(TOPIC, n=3)
    assert len(callbacks) == 1


def test_a_write_in_a_thread_that_never_held_the_drain_still_wakes_it(transactional_db):
    from django.db import connections

    registered = []

    def write():
        try:
            with pytest.raises(RuntimeError), transaction.atomic():
                outbox.drain_after_commit()
                registered.extend(func for _savepoints, func, _robust in transaction.get_connection().run_on_commit)
                raise RuntimeError("roll back")
        finally:
            connections.close_all()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=10)
    assert registered == [outbox._wake]


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


def test_drain_all_gives_up_once_its_sixty_seconds_are_over(db, handled, monkeypatch):
    add(2)
    readings = iter([1000.0])  # when it starts; every later reading is sixty seconds on
    monkeypatch.setattr(outbox.time, "monotonic", lambda: next(readings, 1060.0))
    assert outbox.drain_all() == 0
    assert handled == [] and OutboxEntry.objects.filter(topic=TOPIC).count() == 2


def test_on_postgresql_a_drain_skips_the_entries_another_worker_holds(transactional_db, needs_postgres, handled,
                                                                     held_elsewhere):
    add(2)
    with held_elsewhere(lambda: list(OutboxEntry.objects.select_for_update().filter(payload__n=0))):
        assert outbox.drain(TOPIC) == 1  # not kept waiting for the held entry
        assert handled == [[1]]
    assert list(OutboxEntry.objects.filter(topic=TOPIC).values_list("payload__n", flat=True)) == [0]


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_on_the_embedded_default_a_background_thread_drains_after_the_commit(reference_data, handled, settings,
                                                                            monkeypatch):
    settings.OUTBOX_DRAIN_INLINE = False
    threads = []
    monkeypatch.setitem(outbox.handlers, TOPIC, lambda entries: (
        threads.append((threading.current_thread().name, threading.current_thread().daemon)),
        handled.append([e.payload["n"] for e in entries])))
    with transaction.atomic():
        outbox.record(TOPIC, n=1)
        outbox.record(TOPIC, n=2)
    assert wait_until(lambda: not OutboxEntry.objects.filter(topic=TOPIC).exists())
    assert wait_until(lambda: not outbox._running.locked())
    assert [n for slice_ in handled for n in slice_] == [1, 2]
    # A thread of its own, which does not keep the web process from exiting.
    assert set(threads) == {("outbox-drain", True)}


def test_a_commit_while_the_drain_thread_runs_only_asks_it_to_go_round_again(db, settings, monkeypatch):
    settings.OUTBOX_DRAIN_INLINE = False
    started = []
    waking = threading.Thread(target=outbox._wake, daemon=True)
    monkeypatch.setattr(outbox.threading, "Thread", lambda **kwargs: started.append(kwargs))
    outbox._running.acquire()  # the drain thread is running
    try:
        outbox._again.clear()
        waking.start()
        waking.join(timeout=5)
        assert not waking.is_alive()  # the committing request is not kept waiting
        assert outbox._again.is_set() and started == []
    finally:
        outbox._running.release()
        waking.join(timeout=5)
        outbox._again.clear()


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


def test_a_failing_background_drain_is_logged_for_the_operators(reference_data, settings, monkeypatch, caplog):
    from django.db import DatabaseError

    def failing(entries):
        raise DatabaseError("the database went away")

    monkeypatch.setitem(outbox.handlers, TOPIC, failing)
    settings.OUTBOX_DRAIN_INLINE = False
    with caplog.at_level(logging.ERROR, logger="portal.outbox"), transaction.atomic():
        outbox.record(TOPIC, n=1)
    assert wait_until(lambda: not outbox._running.locked())
    assert [(r.getMessage(), r.exc_info[0]) for r in caplog.records if r.name == "portal.outbox"] == [
        ("Draining the outbox in the web process failed; the beat schedule retries", DatabaseError)]


# --- The worker's listener, with its connection and its wait replaced, one round at a time ----------


class Stop(threading.Event):
    """A listener's stop event whose pauses return at once, each recorded."""

    def __init__(self):
        super().__init__()
        self.pauses = []

    def wait(self, timeout=None):
        self.pauses.append(timeout)
        return self.is_set()


class ListeningConnection:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def worker(monkeypatch):
    """The listener's connections (`opened`, or `fail_first` OperationalErrors before one opens) and
    its waits for notices (`waits`); the stop is set once it has waited `rounds` times, or
    connected three times (a mutant looping forever ends all the same)."""
    from django.db import OperationalError

    state = type("Worker", (), {})()
    state.stop, state.opened, state.waits, state.rounds, state.fail_first, state.connects = Stop(), [], [], 1, 0, 0

    def listening_connection():
        state.connects += 1
        if state.connects >= 3:
            state.stop.set()
        if state.fail_first:
            state.fail_first -= 1
            raise OperationalError("gone")
        state.opened.append(ListeningConnection())
        return state.opened[-1]

    def wait_for_notice(listener, seconds):
        state.waits.append((listener, seconds))
        if len(state.waits) >= state.rounds:
            state.stop.set()
        return True

    monkeypatch.setattr(outbox, "_listening_connection", listening_connection)
    monkeypatch.setattr(outbox, "_wait_for_notice", wait_for_notice)
    return state


def test_the_listener_waits_on_its_own_connection_every_five_seconds_and_closes_it(transactional_db, handled,
                                                                                   worker):
    add(1)
    worker.rounds = 2
    outbox.listen(worker.stop)
    assert len(worker.opened) == 1 and worker.opened[0].closed
    assert worker.waits == [(worker.opened[0], 5.0)] * 2
    assert handled == [[0]] and worker.stop.pauses == []


def test_a_listener_that_lost_the_database_says_so_pauses_and_connects_again(transactional_db, handled, worker,
                                                                             caplog):
    worker.fail_first = 1
    add(1)
    with caplog.at_level(logging.WARNING, logger="portal.outbox"):
        outbox.listen(worker.stop, idle_seconds=0.5)
    assert [r.getMessage() for r in caplog.records if r.name == "portal.outbox"] == [
        "Outbox listener lost the database (gone); reconnecting"]
    assert worker.stop.pauses == [2.0]
    assert len(worker.opened) == 1 and worker.waits == [(worker.opened[0], 0.5)]
    assert handled == [[0]]


def test_a_handler_bug_is_logged_and_the_listener_waits_its_idle_period(transactional_db, worker, monkeypatch,
                                                                        caplog):
    def failing(entries):
        raise ValueError("handler bug")

    monkeypatch.setitem(outbox.handlers, TOPIC, failing)
    add(1)
    with caplog.at_level(logging.ERROR, logger="portal.outbox"):
        outbox.listen(worker.stop, idle_seconds=0.5)
    assert [(r.getMessage(), r.exc_info[0]) for r in caplog.records if r.name == "portal.outbox"] == [
        ("Outbox drain failed", ValueError)] * 3
    assert worker.stop.pauses == [0.5] * 3
    assert len(worker.opened) == 3 and all(listener.closed for listener in worker.opened)


# --- Waiting for a notice, and the connection that listens (PostgreSQL) ------------------------------


class NotifyingConnection:
    """A listening connection as psycopg gives it: selectable, `poll()` reads what arrived into
    `notifies`."""

    def __init__(self):
        self.ours, self.theirs = socket.socketpair()
        self.arriving, self.notifies, self.polls = [], [], 0

    def fileno(self):
        return self.ours.fileno()

    def notify(self, *channels):
        self.arriving.extend(channels)
        self.theirs.send(b"!")

    def poll(self):
        self.polls += 1
        self.ours.recv(64)
        self.notifies.extend(self.arriving)
        self.arriving.clear()

    def close(self):
        self.ours.close()
        self.theirs.close()


@pytest.fixture
def notifying():
    listener = NotifyingConnection()
    yield listener
    listener.close()


def test_wait_for_notice_returns_once_a_notice_arrives_and_consumes_every_pending_one(notifying):
    notifying.notify(outbox.CHANNEL, outbox.CHANNEL)
    assert outbox._wait_for_notice(notifying, 5.0) is True
    assert notifying.polls == 1 and notifying.notifies == []


def test_wait_for_notice_without_a_notice_gives_up_after_its_seconds(notifying):
    assert outbox._wait_for_notice(notifying, 0.01) is False
    assert notifying.polls == 0


def test_wait_for_notice_is_false_when_the_connection_woke_with_no_notice(notifying):
    notifying.notify()  # readable, but nothing on the channel (a keep-alive)
    assert outbox._wait_for_notice(notifying, 5.0) is False
    assert notifying.polls == 1


def test_wait_for_notice_without_a_listening_connection_sleeps_its_seconds(monkeypatch):
    slept = []
    monkeypatch.setattr(outbox.time, "sleep", slept.append)
    assert outbox._wait_for_notice(None, 0.25) is False
    assert slept == [0.25]


def test_off_postgresql_the_listener_polls_without_a_connection_of_its_own(monkeypatch):
    monkeypatch.setattr(outbox, "connection", type("Connection", (), {"vendor": "sqlite"})())
    assert outbox._listening_connection() is None


def test_on_postgresql_the_listener_opens_its_own_autocommit_connection_that_listens(monkeypatch):
    class Raw:
        autocommit, executed = False, []

        def cursor(self):
            return contextlib.nullcontext(self)

        def execute(self, sql):
            self.executed.append(sql)

    raw, params = Raw(), {"dbname": "portal"}
    opened = []
    fake = type("Connection", (), {"vendor": "postgresql", "get_connection_params": lambda self: params,
                                   "get_new_connection": lambda self, given: opened.append(given) or raw})()
    monkeypatch.setattr(outbox, "connection", fake)
    assert outbox._listening_connection() is raw
    assert opened == [params] and raw.autocommit is True
    assert raw.executed == ["LISTEN portal_outbox"]


def test_on_postgresql_a_committed_record_wakes_the_listening_connection(transactional_db, needs_postgres, handled):
    listener = outbox._listening_connection()
    try:
        with transaction.atomic():
            outbox.record(TOPIC, n=1)
        assert outbox._wait_for_notice(listener, 10.0) is True
        assert outbox._wait_for_notice(listener, 0.01) is False  # the notice was consumed
    finally:
        listener.close()
