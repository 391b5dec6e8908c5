"""A real Celery worker, fed through Redis, runs the heartbeat task against the test database."""

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.models import WorkerHeartbeat

REPO_ROOT = Path(__file__).resolve().parent.parent
SETTINGS_PREFIXES = ("DJANGO_", "DATABASE_", "CELERY_")
TIMEOUT = 60


def test_database_url() -> str:
    """The URL of the database this test process uses (the test database, not the real one)."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        # portal/settings_test.py keeps the SQLite test database in a file so a worker can open it.
        assert config["NAME"] and ":memory:" not in str(config["NAME"]) and "mode=memory" not in str(config["NAME"])
        return f"sqlite:///{Path(config['NAME']).resolve()}"
    user = quote(config["USER"] or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


def start_worker(broker_url: str, queue: str, log: Path, *, batch_size: int | None = None,
                 stale_seconds: int | None = None) -> subprocess.Popen:
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith((*SETTINGS_PREFIXES, "PORTAL_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=broker_url,
        CELERY_RESULT_BACKEND=broker_url,
        PYTHONUNBUFFERED="1",
        DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT),  # where the test stores uploads
    )
    if batch_size is not None:
        environment["PORTAL_IMPORT_BATCH_SIZE"] = str(batch_size)
    if stale_seconds is not None:
        environment["PORTAL_IMPORT_STALE_SECONDS"] = str(stale_seconds)
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--concurrency=1",
        "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
        "--hostname", f"{queue}@%h",
    ]
    with open(log, "wb") as handle:
        return subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT)


def stop_worker(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)


@pytest.mark.django_db(transaction=True)
def test_a_worker_records_its_heartbeat_in_the_database(needs_redis, tmp_path):
    broker_url = needs_redis
    queue = f"portal-test-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    assert not WorkerHeartbeat.objects.exists()
    sent_at = timezone.now()

    worker = start_worker(broker_url, queue, log)
    client = Celery("portal-test-client", broker=broker_url, backend=broker_url)
    try:
        result = client.send_task("portal.tasks.heartbeat", queue=queue)
        deadline = time.monotonic() + TIMEOUT
        while not result.ready():
            if worker.poll() is not None:
                pytest.fail(f"the worker exited with {worker.returncode} before running the task")
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not run the task within {TIMEOUT} s")
            time.sleep(0.2)
        returned = result.get(timeout=5)
        result.forget()
    finally:
        stop_worker(worker)
        client.close()
        # pytest shows captured output only when the test fails: that is when the log is wanted.
        print(f"--- worker log ({' '.join(worker.args)}) ---\n{log.read_text(errors='replace')}")

    heartbeat = WorkerHeartbeat.objects.get(name="worker")
    assert heartbeat.hostname == socket.gethostname()
    assert sent_at - timedelta(seconds=1) <= heartbeat.seen_at <= timezone.now()
    assert returned == heartbeat.seen_at.isoformat()
    assert f"Task portal.tasks.heartbeat[{result.id}] succeeded" in log.read_text(errors="replace")
