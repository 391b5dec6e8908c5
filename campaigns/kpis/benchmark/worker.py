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
from django.core.cache import cache
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase
from campaigns.kpis import tasks
from campaigns.kpis.benchmark.data import CITY, Status
from campaigns.kpis.models import KpiSnapshot
from portal.celery import app as celery_app


def database_url() -> str:
    """The URL of the database this process uses, for the worker it starts."""
    config = connection.settings_dict
    user = quote(config["USER"] or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"


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

    def measure_worker(self) -> None:
        self.heading("(c) A real worker: a new visit until the county's snapshot counts it")
        # An open case of a county firm, in Shijiazhuang if there is one: the county row is the one timed.
        open_cases = (AssistanceCase.objects.filter(campaign=self.campaign).exclude(status=Status.CLOSED)
                      .exclude(enterprise__region__code__endswith="00")
                      .select_related("enterprise", "lead", "campaign").order_by("pk"))
        case = open_cases.filter(enterprise__region__code__startswith=CITY[:4]).first() or open_cases.first()
        if case is None:
            self.say(self.style.WARNING("  no open case in a county: skipped"))
            self.results.append(("(c) worker: visit → snapshot", "—", "—", "—", "skipped: no open case"))
            return
        county = case.enterprise.region_id
        snapshot = KpiSnapshot.objects.filter(campaign=self.campaign, region_id=county, period="",
                                              breakdown=KpiSnapshot.Breakdown.TOTAL, key="")
        before = (snapshot.values_list("figures", flat=True).first() or {}).get("visits", 0)
        token = uuid.uuid4().hex[:12]
        queue, hostname = f"benchmark-kpis-{token}", f"benchmark-kpis-{token}@{socket.gethostname()}"
        log = Path(tempfile.gettempdir()) / f"{queue}.log"
        limit = self.options["worker_timeout"]
        worker = self.start_worker(queue, hostname, log)
        try:
            ready = self.wait_for_ping(worker, hostname, log)
            self.say(f"  worker {hostname} answered a ping after {ready:.1f} s")
            debounce = tasks.DEBOUNCE_SECONDS
            cache.delete(f"kpi-refresh:{self.campaign.pk}")  # a request of an earlier run must not swallow this one
            # The task goes to this run's queue: no other worker on the broker can take it.
            with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
                with transaction.atomic():
                    services.visit_log(user=case.lead, case=case, visited_on=timezone.localdate(), mode="on_site",
                                       hours=Decimal("2.0"), people_present="专家、监管人员",
                                       problems_found="benchmark_kpis: 计时走访")
                committed_wall, committed = timezone.now(), time.perf_counter()
            self.say(f"  visit logged on case #{case.pk} (firm in {county}); its county had {before:,} visits")
            row = None
            while time.perf_counter() - committed < limit:
                if worker.poll() is not None:
                    raise CommandError(f"The worker exited with {worker.returncode}:\n"
                                       f"{log.read_text(errors='replace')}")
                row = snapshot.values_list("figures", "computed_at").first()
                if row and row[0].get("visits") == before + 1:
                    break
                time.sleep(0.1)
            else:
                raise CommandError(f"The snapshot did not count the visit within {limit} s:\n"
                                   f"{log.read_text(errors='replace')}")
            seen, seen_wall = time.perf_counter() - committed, timezone.now()
            computed_at = row[1]
            computing = (computed_at - committed_wall).total_seconds() - debounce
            writing = (seen_wall - computed_at).total_seconds()
            self.say(f"  seen after {seen:.2f} s: debounce {debounce} s, then {computing:.2f} s until the figures "
                     f"were computed (queue pick-up and the queries), {writing:.2f} s to write, commit and be seen")
            page = self.dashboard_url()
            note = f"debounce {debounce} s + compute {computing:.2f} s + write & commit {writing:.2f} s"
            if page is None:
                note += "; `dashboards:campaign` not built yet, so snapshot only"
            else:
                # The county's page of the dashboard, as the province supervisor drilling down to it.
                client = Client()
                client.force_login(self.users["province"])
                started = time.perf_counter()
                response = client.get(page, {"region": county})
                shown = time.perf_counter() - started
                text = response.content.decode(errors="replace")
                found = any(f"{before + 1:{style}}" in text for style in (",", ""))
                note += (f"; county dashboard GET {seconds(shown)} (HTTP {response.status_code}, "
                         f"{before + 1:,} {'shown' if found else 'not found in the page'})")
                seen += shown
            self.results.append(("(c) worker: `visit_log` → county snapshot (+ dashboard)", f"{seen:.2f} s", "—",
                                 f"visits {before:,} → {before + 1:,} in {county}", note))
        finally:
            self.stop_worker(worker)
            self.delete_queue(queue)
            if worker.returncode not in (0, None) and log.exists():
                self.say(log.read_text(errors="replace")[-3000:])
            log.unlink(missing_ok=True)

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
