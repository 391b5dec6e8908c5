"""The app's Celery tasks, where the worker's autodiscovery looks for them: the KPI engine's
live in campaigns/kpis/tasks.py; the daily and weekly reminders are here."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from campaigns.kpis.tasks import kpi_compute, kpi_refresh_all  # noqa: F401


@shared_task(name="campaigns.tasks.reminders_send", ignore_result=True, soft_time_limit=240, time_limit=270)
def reminders_send() -> dict[str, int]:
    """Today's reminders to lead regulators and firms; a rerun on the same day writes nothing new."""
    from campaigns.cases.reminders import reminders_send as send

    return send()


@shared_task(name="campaigns.tasks.kpi_pace_check", ignore_result=True)
def kpi_pace_check() -> int:
    """This week's notices of targets behind their pro-rata pace; a rerun in the week adds nothing."""
    from campaigns.kpis.pace import kpi_pace_check as check

    return check()


@shared_task(
    name="campaigns.tasks.records_import_run",
    ignore_result=True,
    # A lost database connection is worth another try: a run that died wrote nothing, or everything
    # (one transaction), and importing again adds nothing.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=60,
    max_retries=3,
    soft_time_limit=540,
    time_limit=600,
)
def records_import_run(job_id: int) -> None:
    """Check a campaign's uploaded case or survey list and import it when no row is bad. Safe to run twice."""
    from campaigns.import_jobs import records_import_process

    records_import_process(job_id=job_id)


@shared_task(name="campaigns.tasks.records_imports_sweep", ignore_result=True, soft_time_limit=60, time_limit=90)
def records_imports_sweep() -> int:
    """The schedule's pass: a campaign import still checking or importing without progress for
    IMPORT_STALE_SECONDS lost its worker (or its message): run it again."""
    from campaigns.import_jobs import stale_jobs

    stale = stale_jobs()
    for job_id in stale:
        records_import_run.delay(job_id)
    return len(stale)
