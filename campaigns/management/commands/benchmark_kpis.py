"""Measure the KPI engine at scale on PostgreSQL: against a hand-written floor and through a real worker.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \
        python manage.py benchmark_kpis --explain --keep

It adds one synthetic Hebei province campaign to the configured database (defaults: 100,000 firms
across Hebei's cities and counties, 100,000 cases over most of them, 1,000,000 visits, 200,000
needs in and out of cases, 20,000 training sessions with their attendance, certificates, ratings
and follow-up surveys), written with COPY in chunks of 10,000 rows, then measures side by side:

a. the engine's full count: a first one from nothing stored (every row and cell written), then the
   one the schedule runs (median of --runs: everything recounted, compared, only changes written);
b. the floor: ONE hand-written `WITH ... SELECT` with GROUPING SETS over region prefixes, months and
   breakdown keys computing every figure the engine stores (to date, monthly and the industry, size
   and service-area breakdowns), timed the same way, then checked figure by figure against the
   engine's snapshots for every region, period and key. A mismatch fails the command;
d. --updates updates in this process (a visit logged, then the outbox drained): each update's own
   time, and the size of the snapshot and cell tables and the dashboard's p50 before and after;
c. a real Celery worker (`celery -A portal worker --pool solo`, on a queue of its own, its outbox
   listener woken by the commit): --visits-timed visits, each logged through `services.visit_log`
   in a transaction and timed until the county's dashboard page shows it (p50, p95);
e. the campaign dashboard (`dashboards:campaign`) as the province supervisor and a city
   regulator: time and queries.

The results are printed as a Markdown table; --explain adds EXPLAIN (ANALYZE, BUFFERS) of the
engine's slowest query. Synthetic rows are marked (users benchmark_kpis_*, the campaign's name,
the firms' address, certificate numbers BENCH-KPI-*) and deleted at the end unless --keep is
given; --reuse measures the data of an earlier --keep run, --clean only removes it. The audit
trail is append-only: the entries of the logged visits stay, and so does the (deactivated)
account that logged them.
"""

import random

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import translation

from campaigns.kpis.benchmark.data import CAMPAIGN_NAME, USER_PREFIX, SyntheticCampaign
from campaigns.kpis.benchmark.floor import FloorMeasures
from campaigns.kpis.benchmark.worker import WorkerMeasures
from campaigns.models import Campaign
from portal.benchmarking import BenchmarkCommand


class Command(SyntheticCampaign, FloorMeasures, WorkerMeasures, BenchmarkCommand):
    help = "Benchmark the KPI engine against a one-statement floor and a real worker (PostgreSQL and Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=100_000, help="synthetic enterprises (100000)")
        parser.add_argument("--cases", type=int, default=100_000, help="cases in the campaign (100000)")
        parser.add_argument("--visits", type=int, default=1_000_000, help="visits over the cases (1000000)")
        parser.add_argument("--needs", type=int, default=200_000, help="quality needs, in and out of cases (200000)")
        parser.add_argument("--sessions", type=int, default=20_000, help="training sessions (20000)")
        parser.add_argument("--runs", type=int, default=3, help="timed runs of the engine and the floor (3)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--worker-timeout", type=int, default=120,
                            help="seconds to wait for the worker's snapshot (120)")
        parser.add_argument("--visits-timed", type=int, default=20,
                            help="visits timed from commit to the dashboard through a real worker (20)")
        parser.add_argument("--updates", type=int, default=200,
                            help="updates in this process, timed, before the tables and dashboard are measured (200)")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest engine query")
        parser.add_argument("--keep", action="store_true", help="leave the synthetic data in the database")
        parser.add_argument("--reuse", action="store_true", help="measure the data a --keep run left")
        parser.add_argument("--clean", action="store_true", help="only remove the data a --keep run left")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"benchmark_kpis measures PostgreSQL and refuses to run on {connection.vendor}; "
                "set DATABASE_URL=postgres://..."
            )
        if options["clean"]:
            self.clean_up()
            return
        self.broker = self.check_broker()
        self.rng = random.Random(options["seed"])
        self.runs = max(options["runs"], 1)
        self.options = options
        self.results: list[tuple[str, str, str, str, str]] = []
        self.failures: list[str] = []
        # DEBUG off: no query log growing through the build. "testserver" for the Client.
        with (override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]),
              translation.override("en")):
            try:
                self.users = self.make_users()
                existing = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
                if existing is not None and options["reuse"]:
                    self.campaign = existing
                    self.say(f"Reusing the synthetic data of an earlier --keep run (campaign #{existing.pk}).")
                else:
                    if existing is not None:
                        self.clean_up()
                        self.users = self.make_users()
                    self.build()
                self.describe_data()
                self.measure_engine()
                self.measure_floor()
                self.check_floor()
                self.measure_updates()
                try:
                    self.measure_worker()
                except CommandError as error:  # the other measurements still make their table
                    self.say(self.style.ERROR(f"  {error}"))
                    self.failures.append("the worker's updates failed")
                    self.results.append(("(c) worker: visit → county dashboard", "—", "—", "—",
                                         f"FAILED: {str(error).splitlines()[0]}"))
                self.measure_dashboard()
                self.print_table()
                if options["explain"]:
                    self.explain_slowest()
            finally:
                if options["keep"] or options["reuse"]:
                    self.say(f"\nKept the synthetic data (users {USER_PREFIX}*, campaign {CAMPAIGN_NAME!r}); "
                             "--reuse measures it again, --clean removes it.")
                else:
                    self.clean_up()
        if self.failures:
            raise CommandError(" and ".join(self.failures).capitalize() + ": see above.")
