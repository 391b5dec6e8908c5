"""A real Celery worker and the dashboard, timed from a logged visit to the county's figure."""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase
from campaigns.kpis.benchmark.data import CITY, Status
from campaigns.kpis.models import KpiSnapshot
from portal import outbox
from portal.celery import app as celery_app


def database_url() -> str:
    """The URL of the database this process uses, for the worker it starts."""
    config = connection.settings_dict
    user = quote(config["USER"] or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"


def percentile(values: list[float], which: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(which / 100 * len(ordered) + 0.5) - 1))]


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


class WorkerMeasures:
    """Starts a worker on a queue of its own, logs a visit, waits for the county's snapshot; times the dashboard."""

    def check_broker(self) -> str:
        """The Redis broker the worker and this process share; refuses to go on without one."""
        broker = settings.CELERY_BROKER_URL
        if not broker or not broker.startswith(("redis://", "rediss://")):
            raise CommandError("benchmark_kpis times a real Celery worker and needs a Redis broker: "
                               "set CELERY_BROKER_URL=redis://host:6379/db")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("CELERY_TASK_ALWAYS_EAGER is on, so a refresh would run in this process rather "
                               "than in the worker; unset it")
        try:
            with celery_app.connection_for_write() as broker_connection:
                broker_connection.ensure_connection(max_retries=1)
        except Exception as error:  # kombu raises several kinds; any of them means no broker
            raise CommandError(f"The broker at {broker} does not answer: {error}") from None
        return broker

    def start_worker(self, queue: str, hostname: str, log: Path) -> subprocess.Popen:
        environment = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": self.broker,
                       "PYTHONUNBUFFERED": "1"}
        environment.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        # The worker runs with the production settings; the test settings would make it compute eagerly.
        if environment["DJANGO_SETTINGS_MODULE"].endswith("settings_test"):
            environment["DJANGO_SETTINGS_MODULE"] = "portal.settings"
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "--concurrency", "1",
                   "--loglevel", "warning", "-Q", queue, "--hostname", hostname, "--without-gossip",
                   "--without-mingle"]
        with open(log, "wb") as handle:
            return subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=handle,
                                    stderr=subprocess.STDOUT)

    def stop_worker(self, worker: subprocess.Popen) -> None:
        if worker.poll() is None:
            worker.terminate()  # a warm shutdown: the worker finishes what it runs
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)

    def wait_for_ping(self, worker: subprocess.Popen, hostname: str, log: Path) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < 90:
            if worker.poll() is not None:
                raise CommandError(f"The worker exited with {worker.returncode}:\n{log.read_text(errors='replace')}")
            if celery_app.control.ping(destination=[hostname], timeout=0.5):
                return time.perf_counter() - started
        raise CommandError(f"The worker did not answer a ping within 90 s:\n{log.read_text(errors='replace')}")

    def timed_cases(self, count: int) -> list[AssistanceCase]:
        """Open cases of county firms (Shijiazhuang's first), to log the timed visits on."""
        open_cases = (AssistanceCase.objects.filter(campaign=self.campaign).exclude(status=Status.CLOSED)
                      .exclude(enterprise__region__code__endswith="00")
                      .select_related("enterprise", "lead", "campaign").order_by("pk"))
        cases = list(open_cases.filter(enterprise__region__code__startswith=CITY[:4])[:count])
        return cases or list(open_cases[:count])

    def log_visit(self, case: AssistanceCase) -> None:
        with transaction.atomic():
            services.visit_log(user=case.lead, case=case, visited_on=timezone.localdate(), mode="on_site",
                               hours=Decimal("2.0"), people_present="专家、监管人员",
                               problems_found="benchmark_kpis: 计时走访")

    def county_visits(self, code: str) -> int:
        row = KpiSnapshot.objects.filter(campaign=self.campaign, region_id=code, period="", breakdown="",
                                         key="").values_list("figures", flat=True).first()
        return (row or {}).get("visits", 0)

    def measure_updates(self) -> None:
        """(d) Updates in this process: a visit logged, then the outbox drained, 200 times; each
        drain's own time, and what 200 of them leave in the tables and on the dashboard."""
        runs = self.options["updates"]
        self.heading(f"(d) {runs} updates: a visit, then the outbox drained (the update's own time)")
        fresh_size, fresh_dashboard = self.table_size(), self.dashboard_times()
        cases = self.timed_cases(runs) or []
        if not cases:
            self.say(self.style.WARNING("  no open case in a county: skipped"))
            return
        times, queries = [], None
        for number in range(runs):
            self.log_visit(cases[number % len(cases)])
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                outbox.drain_all()
                times.append(time.perf_counter() - started)
            queries = queries or len(captured.captured_queries)
        after_size, after_dashboard = self.table_size(), self.dashboard_times()
        p50, p95 = percentile(times, 50), percentile(times, 95)
        self.say(f"  update's own time p50 {seconds(p50)}, p95 {seconds(p95)}, max {seconds(max(times))}; "
                 f"{queries} queries for one")
        self.results.append(("(d) one update (a visit's figures), own time", f"p50 {seconds(p50)}",
                             str(queries), f"{runs} updates", f"p95 {seconds(p95)}, max {seconds(max(times))}"))
        for label, before, after in (("snapshot and cell tables", fresh_size, after_size),):
            ratio = after / before if before else float("inf")
            self.say(f"  {label}: {before / 2**20:.1f} MB fresh, {after / 2**20:.1f} MB after {runs} updates "
                     f"({ratio:.2f}×)")
            self.results.append((f"(e) {label} after {runs} updates", f"{after / 2**20:.1f} MB", "—",
                                 f"fresh {before / 2**20:.1f} MB", f"{ratio:.2f}× fresh"))
        for who in fresh_dashboard:
            before, after = fresh_dashboard[who], after_dashboard[who]
            self.say(f"  dashboard as {who}: p50 {seconds(before)} fresh, {seconds(after)} after "
                     f"({after / before:.2f}×)")
            self.results.append((f"(e) dashboard p50 as {who} after {runs} updates", seconds(after), "—",
                                 f"fresh {seconds(before)}", f"{after / before:.2f}× fresh"))

    def table_size(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('campaigns_kpisnapshot') "
                           "+ pg_total_relation_size('campaigns_kpicell')")
            return cursor.fetchone()[0]

    def dashboard_times(self) -> dict[str, float]:
        url = self.dashboard_url()
        found = {}
        for who in ("province", "city"):
            client = Client()
            client.force_login(self.users[who])
            client.get(url)
            times = []
            for _ in range(20):
                started = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - started)
            found[who] = statistics.median(times)
        return found

    def measure_worker(self) -> None:
        """(c) A real worker (its outbox listener): a visit committed, until the county's dashboard shows it."""
        count = self.options["visits_timed"]
        self.heading(f"(c) A real worker: {count} visits, each until the county's dashboard shows it")
        cases = self.timed_cases(count)
        if not cases:
            self.say(self.style.WARNING("  no open case in a county: skipped"))
            self.results.append(("(c) worker: visit → dashboard", "—", "—", "—", "skipped: no open case"))
            return
        token = uuid.uuid4().hex[:12]
        queue, hostname = f"benchmark-kpis-{token}", f"benchmark-kpis-{token}@{socket.gethostname()}"
        log = Path(tempfile.gettempdir()) / f"{queue}.log"
        limit = self.options["worker_timeout"]
        worker = self.start_worker(queue, hostname, log)
        latencies, counted = [], []
        try:
            ready = self.wait_for_ping(worker, hostname, log)
            self.say(f"  worker {hostname} answered a ping after {ready:.1f} s")
            client = Client()
            client.force_login(self.users["province"])
            url = self.dashboard_url()
            for number in range(count):
                case = cases[number % len(cases)]
                county = case.enterprise.region_id
                before = self.county_visits(county)
                self.log_visit(case)
                committed = time.perf_counter()
                while self.county_visits(county) != before + 1:
                    if worker.poll() is not None:
                        raise CommandError(f"The worker exited with {worker.returncode}:\n"
                                           f"{log.read_text(errors='replace')}")
                    if time.perf_counter() - committed > limit:
                        raise CommandError(f"The snapshot did not count the visit within {limit} s:\n"
                                           f"{log.read_text(errors='replace')}")
                    time.sleep(0.01)
                counted.append(time.perf_counter() - committed)
                response = client.get(url, {"region": county})
                latencies.append(time.perf_counter() - committed)
                if response.status_code != 200:
                    raise CommandError(f"The county's dashboard answered {response.status_code}")
        finally:
            self.stop_worker(worker)
            self.delete_queue(queue)
            if worker.returncode not in (0, None) and log.exists():
                self.say(log.read_text(errors="replace")[-3000:])
            log.unlink(missing_ok=True)
        p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
        self.say(f"  visit → dashboard: p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(latencies):.2f} s "
                 f"(until the snapshot counted it: p50 {percentile(counted, 50):.2f} s)")
        self.results.append((f"(c) worker: visit → county dashboard, {count} visits", f"p50 {p50:.2f} s", "—",
                             f"p95 {p95:.2f} s", f"max {max(latencies):.2f} s; snapshot alone p50 "
                             f"{percentile(counted, 50):.2f} s"))

    def delete_queue(self, queue: str) -> None:
        """Remove this run's queue and its binding from the broker."""
        try:
            with celery_app.connection_for_write() as broker_connection:
                # kombu deletes only the bindings its channel has declared: declare, then delete.
                bound = celery_app.amqp.queues[queue](broker_connection.default_channel)
                bound.declare()
                bound.delete()
        except Exception as error:  # best effort: an empty queue left behind harms nobody
            self.say(self.style.WARNING(f"  could not delete the queue {queue}: {error}"))

    def dashboard_url(self) -> str | None:
        for kwargs in ({"pk": self.campaign.pk}, {"campaign_pk": self.campaign.pk}, {"campaign_id": self.campaign.pk}):
            try:
                return reverse("dashboards:campaign", kwargs=kwargs)
            except NoReverseMatch:
                continue
        return None

    def measure_dashboard(self) -> None:
        self.heading("(d) The campaign dashboard")
        url = self.dashboard_url()
        if url is None:
            self.say(self.style.WARNING("  dashboards:campaign does not exist yet: skipped"))
            self.results.append(("(d) dashboard `dashboards:campaign`", "—", "—", "—", "not built yet"))
            return
        for who in ("province", "city"):
            user = self.users[who]
            client = Client()
            client.force_login(user)
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                status = client.get(url).status_code
            # Read now: the next request empties the connection's query log the capture points into.
            queries = len(captured.captured_queries)
            times = []
            for _ in range(max(self.runs, 3)):
                started = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - started)
            cell = seconds(statistics.median(times)) if status == 200 else f"HTTP {status}"
            self.say(f"  as {user.role} {user.region_id}: {cell}, {queries} queries")
            self.results.append((f"(d) dashboard `dashboards:campaign` as {user.role} {user.region_id}", cell,
                                 str(queries), "snapshots only", "queries must not grow with the data"))
