"""What the benchmark commands share: their output and the EXPLAIN of a query they measured."""

import re
import time
from contextlib import contextmanager

from django.core.management.base import BaseCommand
from django.db import connection

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
    """Delete a benchmark's accounts. The audit trail is append-only and keeps its actors, so
    accounts that acted (an import, a logged visit) are deactivated instead."""
    from portal.models import AuditEntry, User

    accounts = User.objects.filter(username__startswith=prefix)
    audited = accounts.filter(pk__in=AuditEntry.objects.values("actor"))
    audited.update(is_active=False)
    accounts.exclude(pk__in=audited.values("pk")).delete()
