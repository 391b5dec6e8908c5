"""`manage.py benchmark_kpis`: PostgreSQL and a Redis broker only; a tiny run checks the engine
against the one-statement floor, times a real worker, and leaves nothing behind.

Timings are never asserted: they depend on the machine.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from campaigns.cases.models import AssistanceCase, Visit
from campaigns.kpis.models import KpiCell, KpiSnapshot
from campaigns.models import Campaign
from campaigns.training.models import TrainingSession
from enterprises.models import Certification, Enterprise, NeedRequest, NeedsSurvey
from portal import refdata
from portal.models import AuditEntry, Industry, Region, ServiceArea, Specialty, User
from portal.security.models import SecurityEvent

pytestmark = pytest.mark.django_db

COUNTED_MODELS = (Enterprise, Campaign, AssistanceCase, Visit, NeedRequest, NeedsSurvey, Certification,
                  TrainingSession, KpiSnapshot, KpiCell)


def test_it_refuses_to_run_on_anything_but_postgresql(monkeypatch):
    # Whatever database the suite runs on, the command must refuse any other vendor.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark_kpis", "--firms", "10", stdout=StringIO())
    assert not Campaign.objects.exists()


def test_it_refuses_to_run_without_a_redis_broker(monkeypatch, settings):
    # The vendor passes; the missing broker stops it before any data is built.
    monkeypatch.setattr(connection, "vendor", "postgresql")
    settings.CELERY_BROKER_URL = None
    with pytest.raises(CommandError, match="Redis broker"):
        call_command("benchmark_kpis", "--firms", "10", stdout=StringIO())
    assert not Campaign.objects.exists()


@pytest.mark.needs_postgres
@pytest.mark.needs_redis
@pytest.mark.django_db(transaction=True)
def test_a_tiny_run_agrees_with_the_floor_times_a_worker_and_removes_what_it_added(
    needs_postgres, needs_redis, settings, monkeypatch
):
    # A transactional test empties every table when it ends, reference data included.
    if not Region.objects.exists():
        refdata.load_all(Region, Industry, ServiceArea, Specialty)
    # This process leaves the outbox to the worker's listener (the test settings drain in-process).
    settings.CELERY_BROKER_URL = needs_redis
    settings.CELERY_TASK_ALWAYS_EAGER = False
    before = {model: model.objects.count() for model in COUNTED_MODELS}
    users, audit_entries = User.objects.count(), AuditEntry.objects.count()

    output = StringIO()
    try:
        call_command("benchmark_kpis", "--firms", "200", "--cases", "200", "--visits", "1000", "--needs", "400",
                     "--sessions", "40", "--runs", "1", "--updates", "5", "--visits-timed", "3", "--explain",
                     stdout=output)
    except CommandError as error:  # the report says which figures disagree
        pytest.fail(f"{error}\n{output.getvalue()}")
    text = output.getvalue()

    assert "| measurement | time | queries | rows | notes |" in text
    assert "(a) engine: first full count" in text and "(a) engine: full count (the schedule's)" in text
    assert "| (b) floor check: engine snapshots = floor | — | — |" in text and "passed: 0 mismatches" in text
    assert "(c) worker: visit → county dashboard, 3 visits | p50" in text
    assert "(d) one update (a visit's figures), own time" in text and "(e) dashboard p50 as province" in text
    assert "EXPLAIN (ANALYZE, BUFFERS) of the engine's slowest query" in text
    assert {model: model.objects.count() for model in COUNTED_MODELS} == before
    # The audit trail and the security events are append-only: the timed visits' entries stay, and
    # so do the account that logged them and those that signed in, deactivated; every other
    # benchmark account is gone.
    assert AuditEntry.objects.count() > audit_entries
    left = User.objects.filter(username__startswith="benchmark_kpis_")
    assert User.objects.count() == users + left.count()
    assert left.filter(pk__in=AuditEntry.objects.values("actor")).count() == 1
    assert left.exists() and not left.filter(is_active=True).exists()
    kept = set(AuditEntry.objects.values_list("actor", flat=True)) | set(
        SecurityEvent.objects.values_list("user", flat=True))
    assert set(left.values_list("pk", flat=True)) <= kept
