"""What the benchmark commands share: their output, the EXPLAIN of a query they measured, and
writing synthetic rows fast with PostgreSQL's COPY."""

import io
import re
import time
from contextlib import contextmanager
from datetime import date, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

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


COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


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
        data = "\n".join(self.lines) + "\n"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(self.sql, io.StringIO(data))
            else:  # psycopg 3
                with raw.copy(self.sql) as copy:
                    copy.write(data)
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
