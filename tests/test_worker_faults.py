"""Faults under real processes: a Redis of the test's own (restarted, stopped), real Celery workers
(killed) and the test database. Nothing a user committed may fail or be lost because of them."""

import shutil
import signal
import socket
import subprocess
import time
from datetime import date, timedelta

import pytest
from celery import Celery
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.cases import services
from campaigns.kpis import engine
from campaigns.kpis.models import KpiSnapshot
from enterprises import importing
from enterprises.models import Enterprise, ImportJob
from portal.celery import app as portal_app
from portal.models import AuditEntry, OutboxEntry
from tests.conftest import require_service
from tests.factories import CampaignFactory
from tests.test_worker import start_worker, stop_worker

TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PrivateRedis:
    """A redis-server of the test's own, so stopping it disturbs no one else."""

    def __init__(self, workdir):
        self.port = free_port()
        self.workdir = workdir
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_redis(tmp_path, monkeypatch):
    require_service("redis-server is not installed", shutil.which("redis-server") is not None)
    redis = PrivateRedis(tmp_path)
    redis.start()
    # Celery prefers CELERY_BROKER_URL from the environment to the broker an app is given, so the
    # test's clients would otherwise send to the shared Redis its workers do not listen to.
    monkeypatch.setenv("CELERY_BROKER_URL", redis.url)
    yield redis
    redis.stop()


def wait_for(condition, what: str, worker=None, log=None, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited ({worker.returncode}) while waiting for {what}:\n"
                        f"{log.read_text(errors='replace') if log else ''}")
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text(errors='replace') if log else ''}")


def test_every_task_ends_before_its_message_could_be_handed_to_another_worker():
    portal_app.loader.import_default_modules()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    ours = [task for name, task in portal_app.tasks.items() if not name.startswith("celery.")]
    assert len(ours) >= 5
    for task in ours:
        limit = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert limit <= settings.TASK_TIME_LIMIT_MAX < visibility, task.name
        assert (task.soft_time_limit or settings.CELERY_TASK_SOFT_TIME_LIMIT) < limit, task.name


@pytest.mark.django_db(transaction=True)
def test_a_worker_survives_a_redis_restart_while_it_holds_a_task(reference_data, private_redis, tmp_path):
    queue = "celery"  # the default queue: this Redis is the test's own, and the sweeper sends there
    log = tmp_path / "worker.log"
    worker = start_worker(private_redis.url, queue, log)
    client = Celery("faults-client", broker=private_redis.url)
    try:
        wait_for(lambda: "ready." in log.read_text(errors="replace"), "the worker to start", worker, log)
        # Held by the worker, unacknowledged, until its countdown ends.
        held = client.send_task("portal.tasks.heartbeat", queue=queue, countdown=60)
        wait_for(lambda: f"portal.tasks.heartbeat[{held.id}] received" in log.read_text(errors="replace"),
                 "the worker to hold the task", worker, log)
        private_redis.stop()
        time.sleep(3)
        private_redis.start()
        client.close()
        client = Celery("faults-client-2", broker=private_redis.url)
        after = client.send_task("portal.tasks.heartbeat", queue=queue)
        wait_for(lambda: f"portal.tasks.heartbeat[{after.id}] succeeded" in log.read_text(errors="replace"),
                 "a task sent after the restart to run", worker, log)
        assert worker.poll() is None, log.read_text(errors="replace")
        assert "Unrecoverable error" not in log.read_text(errors="replace")
    finally:
        stop_worker(worker)
        client.close()


@pytest.mark.django_db(transaction=True)
def test_a_write_commits_while_redis_is_down_and_its_figures_catch_up_once_a_worker_runs(
        reference_data, private_redis, tmp_path, bob, alice, settings):
    campaign = CampaignFactory()
    engine.compute_campaign(campaign.pk)
    case = services.case_open(user=bob, campaign=campaign, enterprise=alice.enterprises.get(), title="帮扶")
    from portal import outbox

    outbox.drain_all()
    # A real deployment: a broker, no in-process tasks. The broker is down.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = private_redis.url
    portal_app.conf.task_always_eager = False
    portal_app.conf.broker_url = private_redis.url
    private_redis.stop()
    client = APIClient()
    client.force_authenticate(bob)
    payload = {"case": case.pk, "visited_on": str(date.today() - timedelta(days=1)), "mode": "on_site",
               "hours": "2", "people_present": "王建国"}
    try:
        started = time.monotonic()
        response = client.post(reverse("api:visit-list"), payload, format="json")
        assert response.status_code == 201, response.content
        assert time.monotonic() - started < 5  # no waiting on the broker either
        assert OutboxEntry.objects.exists()
        county = case.enterprise.region_id

        def visits() -> int:
            return KpiSnapshot.objects.get(campaign=campaign, region_id=county, period="", breakdown="",
                                           key="").figures["visits"]

        assert visits() == 0
        private_redis.start()
        queue = "celery"  # the default queue: this Redis is the test's own, and the sweeper sends there
        log = tmp_path / "worker.log"
        worker = start_worker(private_redis.url, queue, log)
        try:
            wait_for(lambda: visits() == 1, "the worker to count the visit", worker, log)
            assert not OutboxEntry.objects.exists()
        finally:
            stop_worker(worker)
    finally:
        portal_app.conf.task_always_eager = True
        portal_app.conf.broker_url = None


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_is_picked_up_and_counts_each_firm_once(reference_data, private_redis,
                                                                                  tmp_path, bob):
    from enterprises.importing import COLUMNS
    from enterprises.uscc import generate_uscc

    rows = 12_000
    header = ",".join(column.header for column in COLUMNS[:5])
    lines = [header] + [f"{generate_uscc('130102')},测试企业{n}有限公司,130102,13,small" for n in range(rows)]
    path = tmp_path / "list.csv"
    path.write_text("\n".join(lines), encoding="utf-8")
    from django.core.files.uploadedfile import SimpleUploadedFile

    job = importing.import_job_create(user=bob, upload=SimpleUploadedFile("list.csv", path.read_bytes()),
                                      enqueue=False)
    queue = "celery"  # the default queue: this Redis is the test's own, and the sweeper sends there
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    client = Celery("faults-client", broker=private_redis.url)
    first = start_worker(private_redis.url, queue, first_log, batch_size=500)
    second = None
    try:
        client.send_task("enterprises.tasks.import_job_run", args=[job.pk], queue=queue)

        def importing_now() -> bool:
            job.refresh_from_db()
            return job.status == ImportJob.Status.IMPORTING and 0 < job.processed_rows < rows

        wait_for(importing_now, "the import to be half-way", first, first_log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        job.refresh_from_db()
        assert job.status == ImportJob.Status.IMPORTING and job.processed_rows < rows
        # Another worker; the sweeper finds the job without progress and runs it again.
        second = start_worker(private_redis.url, queue, second_log, stale_seconds=1)
        time.sleep(2)
        client.send_task("enterprises.tasks.import_jobs_sweep", queue=queue)

        def done() -> bool:
            job.refresh_from_db()
            return job.status == ImportJob.Status.DONE

        wait_for(done, "the import to finish", second, second_log, timeout=180)
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)
        client.close()
    assert (job.created_count, job.updated_count, job.processed_rows) == (rows, 0, rows)
    assert Enterprise.objects.filter(name__startswith="测试企业").count() == rows
    assert AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).count() == rows
