"""Celery tasks of the registry: thin wrappers taking ids and calling a service."""

from celery import shared_task
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
    max_retries=3,
    # 200,000 rows take a few minutes at most; both limits stay below the broker's visibility
    # timeout (settings.CELERY_BROKER_TRANSPORT_OPTIONS), so a running import is never redelivered.
    soft_time_limit=1500,
    time_limit=1800,
)
def import_job_run(self, job_id: int) -> None:
    """Check an uploaded enterprise list and import it when no row is bad. Safe to run twice."""
    importing.import_job_process(job_id=job_id)
