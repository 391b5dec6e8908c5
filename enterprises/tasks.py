"""Celery tasks of the registry: thin wrappers taking ids and calling a service."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from enterprises import importing


@shared_task(
    name="enterprises.tasks.import_job_run",
    bind=True,
    ignore_result=True,
    # A lost database connection is worth another try: the import resumes after the last
    # committed batch. Anything else marks the job failed inside the service.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=60,
    max_retries=3,
    # The hard limit is settings.TASK_TIME_LIMIT_MAX, below the broker's visibility timeout, so a
    # running import is not redelivered while it runs. A million rows take longer: at the soft
    # limit the run stops (its open batch rolls back) and hands the job to a new run, which
    # resumes after the last committed batch.
    soft_time_limit=540,
    time_limit=600,
)
def import_job_run(self, job_id: int) -> None:
    """Check an uploaded enterprise list and import it when no row is bad. Safe to run twice."""
    try:
        importing.import_job_process(job_id=job_id)
    except SoftTimeLimitExceeded:
        import_job_run.delay(job_id)


@shared_task(name="enterprises.tasks.import_jobs_sweep", ignore_result=True, soft_time_limit=60, time_limit=90)
def import_jobs_sweep() -> int:
    """The schedule's pass: an import still checking or importing that has made no progress for
    IMPORT_STALE_SECONDS lost its worker (or its message): run it again; it resumes from its row."""
    stale = importing.stale_jobs()
    for job_id in stale:
        import_job_run.delay(job_id)
    return len(stale)
