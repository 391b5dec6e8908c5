"""What the benchmark commands share: their output, the EXPLAIN of a query they measured,
writing synthetic rows fast with PostgreSQL's COPY, and serving the portal with gunicorn to
measure it under concurrent clients."""

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from portal.copying import copy_lines, copy_text

# Rows sent per COPY, and primary keys reserved per query.
CHUNK = 10_000
SCAN_PATTERN = re.compile(r"(Parallel Seq Scan|Seq Scan|Index Scan|Index Only Scan|Bitmap Index Scan|Bitmap Heap Scan)"
                          r"(?: Backward)?(?: using (\S+))? on (\S+)")


class BenchmarkCommand(BaseCommand):
    """A management command that builds data, measures and prints Markdown."""

    def say(self, text: str = "") -> None:
        self.stdout.write(text)

    def heading(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"\n{text}"))

    def describe_machine(self) -> None:
        """What the figures were measured on: the cores and their load, PostgreSQL and its settings."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('server_version'), current_setting('shared_buffers'), "
                           "current_setting('max_wal_size'), current_setting('checkpoint_timeout'), "
                           "current_setting('work_mem'), current_setting('maintenance_work_mem')")
            version, buffers, wal, checkpoints, work, maintenance = cursor.fetchone()
        load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
        self.say(f"Machine: {os.cpu_count()} cores, load average {load} (1 / 5 / 15 min). PostgreSQL {version}: "
                 f"shared_buffers {buffers}, max_wal_size {wal}, checkpoint_timeout {checkpoints}, "
                 f"work_mem {work}, maintenance_work_mem {maintenance}.")

    @contextmanager
    def timed(self, label: str):
        started = time.perf_counter()
        yield
        self.say(f"  {label}: {time.perf_counter() - started:.1f} s")

    def explain(self, sql: str) -> None:
        """Print EXPLAIN (ANALYZE, BUFFERS) of `sql` and the scans its plan uses."""
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        self.say("```")
        self.say(plan)
        self.say("```")
        scans = sorted({f"{kind} on {table}" + (f" using {index}" if index else "")
                        for kind, index, table in SCAN_PATTERN.findall(plan)})
        self.say("Scans: " + "; ".join(scans))


def remove_accounts(prefix: str) -> None:
    """Delete a benchmark's accounts. The audit trail and the security events are append-only and
    keep their accounts, so accounts that acted (an import, a logged visit) or signed in are
    deactivated instead."""
    from django.db.models import Q

    from portal.models import AuditEntry, User
    from portal.security.models import SecurityEvent

    accounts = User.objects.filter(username__startswith=prefix)
    audited = accounts.filter(Q(pk__in=AuditEntry.objects.values("actor"))
                              | Q(pk__in=SecurityEvent.objects.values("user"))
                              | Q(pk__in=SecurityEvent.objects.values("actor")))
    audited.update(is_active=False)
    accounts.exclude(pk__in=audited.values("pk")).delete()


class Copier:
    """Rows for one table, sent with COPY every CHUNK rows: far quicker than INSERTs for a million.

    Columns the caller leaves out take the field's default (auto_now fields: the build's time),
    so every NOT NULL column gets a value without listing it at each call.
    """

    def __init__(self, model, *, now: datetime, with_pk: bool = False):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.defaults = {
            f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            for f in self.fields
        }
        quote_name = connection.ops.quote_name
        columns = ", ".join(quote_name(f.column) for f in self.fields)
        self.sql = f"COPY {quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        self.lines: list[str] = []
        self.count = 0

    def add(self, **values) -> None:
        if not self.count and not self.lines and set(values) - set(self.defaults):
            raise CommandError(f"{self.model.__name__} has no {sorted(set(values) - set(self.defaults))}")
        defaults = self.defaults
        self.lines.append("\t".join(copy_text(values.get(name, default)) for name, default in defaults.items()))
        if len(self.lines) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        copy_lines(self.sql, "\n".join(self.lines) + "\n")
        self.count += len(self.lines)
        self.lines = []


class Ids:
    """Primary keys taken from the table's own sequence ahead of COPY, 10,000 at a time, so rows
    can point at rows not yet written (foreign keys are checked when the build commits)."""

    def __init__(self, model):
        self.table = model._meta.db_table
        self.reserved: list[int] = []

    def next(self) -> int:
        if not self.reserved:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               [self.table, CHUNK])
                self.reserved = [row[0] for row in cursor.fetchall()][::-1]
        return self.reserved.pop()


# --- Serving the portal for real and loading it with concurrent clients ----------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@dataclass
class Load:
    """What `clients` concurrent clients saw requesting one URL `requests` times."""

    p50: float
    p95: float
    per_second: float
    statuses: dict[int, int]


class ServedPortal:
    """gunicorn serving the portal from the configured database with production settings (DEBUG
    off, static files collected), for measurements as people would see them. A context manager:
    the server is stopped (its own process only) on the way out."""

    def __init__(self, workdir: Path, *, workers: int = 2):
        self.workdir = workdir
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.secret = secrets.token_urlsafe(50)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ, "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": self.secret,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_STATIC_ROOT": str(self.workdir / "static"), "DJANGO_LOG_LEVEL": "WARNING",
            # The benchmark's clients are a handful of accounts making thousands of requests.
            "PORTAL_API_RATE_USER": "10000000/minute",
        }

    def __enter__(self) -> "ServedPortal":
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], env=self.environment(), check=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(self.workers), "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=self.environment())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/api/me/", {})
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise CommandError("gunicorn did not answer within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None

    def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        connection_ = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection_.request("GET", path, headers=headers)
            response = connection_.getresponse()
            return response.status, response.read()
        finally:
            connection_.close()

    def load(self, path: str, headers: dict[str, str], *, clients: int = 4, requests: int = 40) -> Load:
        """`requests` GETs of `path` shared among `clients` threads, each waiting for its answer."""
        times: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def client(count: int) -> None:
            for _ in range(count):
                started = time.perf_counter()
                status, _body = self.get(path, headers)
                took = (time.perf_counter() - started) * 1000
                with lock:
                    times.append(took)
                    statuses[status] = statuses.get(status, 0) + 1

        self.get(path, headers)  # warm-up: the worker's first request of this URL
        shares = [requests // clients + (1 if n < requests % clients else 0) for n in range(clients)]
        threads = [threading.Thread(target=client, args=(share,)) for share in shares]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        return Load(p50=percentile(times, 0.5), p95=percentile(times, 0.95), per_second=requests / wall,
                    statuses=statuses)


def session_cookie(user, server: ServedPortal) -> dict[str, str]:
    """A Cookie header for a session of `user` (as after signing in) that `server` accepts: the
    session is signed with the server's secret key."""
    from django.test import Client, override_settings

    with override_settings(SECRET_KEY=server.secret):
        client = Client()
        client.force_login(user)
    return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"}


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")
