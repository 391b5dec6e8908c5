"""The transactional outbox: a write records what others must react to in its own transaction;
workers drain the entries afterwards.

`record(topic, **payload)` adds an entry in the caller's transaction. On PostgreSQL it also
NOTIFYs the channel, which the database delivers only when the transaction commits: a worker's
listener (`listen`, started with every Celery worker by portal/celery.py) wakes at once and
drains. No request talks to Redis or the broker to have its change handled, so a committed write
never fails because the broker is down. On the embedded default (no broker, tasks in-process)
the entries are drained after the commit in a background thread of the web process, a bounded
slice at a time; the beat schedule drains every minute as well, in case a wake-up was missed.

`drain(topic)` hands a slice of entries to the topic's handler and deletes them in one
transaction (rows locked with SKIP LOCKED, so several workers share the work): a worker, broker
or database that dies half-way leaves the entries for the next drain.
"""

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections, connection, transaction

from portal.models import OutboxEntry

logger = logging.getLogger(__name__)

CHANNEL = "portal_outbox"
# Entries handled per transaction: a slice bounds how long a drain holds its locks.
DRAIN_SLICE = 500

handlers: dict[str, Callable[[list[OutboxEntry]], None]] = {}


def handles(topic: str):
    """Register the handler of a topic (in the AppConfig.ready() of the app that reacts)."""

    def register(handler: Callable[[list[OutboxEntry]], None]):
        handlers[topic] = handler
        return handler

    return register


def record(topic: str, **payload) -> OutboxEntry:
    """Note, in the current transaction, a change the topic's handler must react to."""
    entry = OutboxEntry.objects.create(topic=topic, payload=payload)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, topic])
    if settings.CELERY_TASK_ALWAYS_EAGER:
        drain_after_commit()
    return entry


def drain(topic: str, *, limit: int = DRAIN_SLICE) -> int:
    """Handle and delete up to `limit` entries of `topic`, oldest first; returns how many."""
    handler = handlers[topic]
    with transaction.atomic():
        entries = list(OutboxEntry.objects.select_for_update(skip_locked=True).filter(topic=topic)
                       .order_by("id")[:limit])
        if not entries:
            return 0
        handler(entries)
        OutboxEntry.objects.filter(pk__in=[entry.pk for entry in entries]).delete()
    return len(entries)


def drain_all(*, seconds: float = 60.0) -> int:
    """Drain every topic until none has entries left, or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    done = 0
    for topic in list(handlers):
        while time.monotonic() < deadline:
            handled = drain(topic)
            done += handled
            if handled < DRAIN_SLICE:
                break
    return done


# --- Draining in the web process, on the embedded default -----------------------------------------

_running = threading.Lock()
_again = threading.Event()
_held = threading.local()


@contextlib.contextmanager
def drained_by_caller():
    """Within this block, commits start no background drain: the caller drains when it is done
    (a bulk write such as the demo seed, which would otherwise race its own drain thread)."""
    before = getattr(_held, "on", False)
    _held.on = True
    try:
        yield
    finally:
        _held.on = before


def drain_after_commit() -> None:
    """Once the current transaction commits, drain in this process: inline when the settings say
    so (the test suite), otherwise in one background thread at a time, so the response is not kept
    waiting; a commit that arrives while the thread runs makes it go round once more."""
    if getattr(_held, "on", False):
        return
    connection_ = transaction.get_connection()
    if any(func is _wake for _savepoints, func, _robust in connection_.run_on_commit):
        return
    transaction.on_commit(_wake)


def _wake() -> None:
    if getattr(settings, "OUTBOX_DRAIN_INLINE", False):
        drain_all()
        return
    _again.set()
    if _running.acquire(blocking=False):
        threading.Thread(target=_drain_in_background, name="outbox-drain", daemon=True).start()


def _drain_in_background() -> None:
    try:
        while _again.is_set():
            _again.clear()
            try:
                drain_all()
            except DatabaseError:
                logger.exception("Draining the outbox in the web process failed; the beat schedule retries")
                break
    finally:
        connection.close()
        _running.release()


# --- Listening in a worker -------------------------------------------------------------------------


def listen(stop: threading.Event, *, idle_seconds: float = 5.0) -> None:
    """Drain whenever a commit NOTIFYs the channel, and every `idle_seconds` anyway, until `stop`.

    Runs in a thread of each Celery worker. A lost database connection (a restart, a failover)
    is opened again after a short pause; entries written meanwhile wait in their table.
    """
    while not stop.is_set():
        listener = None
        try:
            close_old_connections()
            listener = _listening_connection()
            drain_all()
            while not stop.is_set():
                # A notice, or the periodic pass that catches one lost while reconnecting.
                _wait_for_notice(listener, idle_seconds)
                drain_all()
        except (OperationalError, InterfaceError, DatabaseError, OSError) as error:
            logger.warning("Outbox listener lost the database (%s); reconnecting", error)
            connection.close()
            stop.wait(2.0)
        except Exception:  # a handler's bug: logged, and the listener carries on
            logger.exception("Outbox drain failed")
            stop.wait(idle_seconds)
        finally:
            if listener is not None:
                try:
                    listener.close()
                except Exception:  # noqa: BLE001 - closing a broken connection
                    pass


def _listening_connection():
    """A connection of its own that LISTENs on PostgreSQL; None elsewhere (the loop then polls)."""
    if connection.vendor != "postgresql":
        return None
    raw = connection.get_new_connection(connection.get_connection_params())
    raw.autocommit = True
    with raw.cursor() as cursor:
        cursor.execute(f"LISTEN {CHANNEL}")
    return raw


def _wait_for_notice(listener, seconds: float) -> bool:
    """True once a notice arrived within `seconds` (all pending notices are consumed)."""
    if listener is None:
        time.sleep(seconds)
        return False
    ready, _, _ = select.select([listener], [], [], seconds)
    if not ready:
        return False
    listener.poll()
    notified = bool(listener.notifies)
    listener.notifies.clear()
    return notified
