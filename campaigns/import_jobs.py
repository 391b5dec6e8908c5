"""Imports of a campaign's records run as background jobs: its cases with visits, its survey answers.

The rules are the page imports' own (campaigns/cases/importing.py, campaigns/importing.py): every
row is checked, one bad row and nothing is written, and a clean file is written in one transaction.
What a job adds is where the work happens and what it leaves behind:

1. `records_import_job_create` checks the file's shape while the uploader waits (type, size,
   header row, at least one row, the row limit; portal.imports.jobs.inspect_upload), stores it
   as a RecordsImportJob and wakes the worker once the row is committed.
2. `records_import_process` (the task) checks every row and, when none is bad, writes them all;
   the job row says where it is (checking, importing) and ends done with the counts, invalid
   with the report by line and column, or failed with the reason.

A worker that dies mid-way leaves its job checking or importing: the sweeper runs it again after
IMPORT_STALE_SECONDS without progress. A run that died inside the write wrote nothing (one
transaction); one that died after it wrote everything, and the second run adds nothing, since
importing the same file again adds nothing. Two runs at once are one too many but harmless for the
same reason, and only the first to finish records its counts.
"""

import logging
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns import importing as survey_importing
from campaigns.cases import importing as case_importing
from campaigns.models import Campaign, RecordsImportJob
from campaigns.services import check_open_for_entry
from portal.access import EDITORS, has_role
from portal.background import enqueue_after_commit
from portal.imports import jobs as shared_jobs
from portal.imports.reading import FileProblem
from portal.imports.report import file_error
from portal.models import User

logger = logging.getLogger(__name__)
Kind, Status = RecordsImportJob.Kind, RecordsImportJob.Status
MODULES = {Kind.CASES: case_importing, Kind.SURVEYS: survey_importing}
TASK = "campaigns.tasks.records_import_run"
# A page upload with more rows than this runs as a job, the page following its progress; a smaller
# one is checked and written while the uploader waits, as before.
BACKGROUND_ROWS = 500
MAX_STORED_PROBLEMS = 1_000


def import_jobs_visible_to(user: User, campaign: Campaign) -> QuerySet[RecordsImportJob]:
    """The campaign's imports a user follows: administrators every one, a regulator those uploaded
    from their own office (the same jurisdiction); nobody else any."""
    jobs = RecordsImportJob.objects.filter(campaign=campaign).select_related("uploaded_by", "lead")
    if not has_role(user, EDITORS):
        return jobs.none()
    if user.is_administrator:
        return jobs
    return jobs.filter(region_id=user.region_id)


def problem_message(job: RecordsImportJob, problem: dict) -> str:
    return MODULES[job.kind].problem_message(problem)


def problem_rows(job: RecordsImportJob) -> list[dict]:
    """The stored problems as (line, column, message) in the reader's language."""
    return [{"line": problem.get("line"), "column": problem.get("column", ""),
             "message": problem_message(job, problem)} for problem in job.errors or []]


def row_count(upload: UploadedFile, kind: str) -> int | None:
    """The rows of an upload (CSV: counted; XLSX: as the workbook records them), None for a file of
    the wrong shape: the page's own import then says what is wrong with it."""
    module = MODULES[kind]
    try:
        _fmt, estimated, _ignored = shared_jobs.inspect_upload(upload, columns=module.COLUMNS,
                                                               max_rows=module.MAX_ROWS)
    except FileProblem:
        return None
    return estimated


def records_import_job_create(*, user: User, campaign: Campaign, kind: str, upload: UploadedFile,
                              lead: User | None = None) -> RecordsImportJob:
    """Store a list of the campaign's records to check and import in the background.

    The same people as the page import: regulators and administrators, into a campaign open for
    entry; an administrator names the lead regulator of imported cases. A file of the wrong shape
    is refused at once, on "file".
    """
    if not (user.is_administrator or user.is_regulator):
        raise PermissionDenied
    if kind not in MODULES:
        raise ValidationError({"kind": _("Import cases with visits or survey answers.")})
    check_open_for_entry(campaign)
    if kind == Kind.CASES:
        lead = lead or (user if user.is_regulator else None)
        if lead is None or not lead.is_regulator:
            raise ValidationError({"lead": _("Choose the lead regulator of the imported cases.")})
    else:
        lead = None
    module = MODULES[kind]
    try:
        _fmt, estimated, _ignored = shared_jobs.inspect_upload(upload, columns=module.COLUMNS,
                                                               max_rows=module.MAX_ROWS)
    except FileProblem as problem:
        raise file_error(problem, module.MESSAGES) from problem
    with transaction.atomic():
        job = RecordsImportJob(campaign=campaign, kind=kind, uploaded_by=user, lead=lead,
                               region=None if user.is_administrator else user.region, file=upload,
                               original_name=PurePath(upload.name or "").name[:255], total_rows=estimated or 0)
        job.full_clean(exclude=["file"])
        job.save()
        enqueue_after_commit(TASK, job.pk)
    return job


def records_import_process(*, job_id: int) -> None:
    """What the task does: check every row of the job's file, then write them all, or record why not."""
    job = (RecordsImportJob.objects.select_related("campaign__region", "uploaded_by", "lead")
           .filter(pk=job_id, status__in=RecordsImportJob.RUNNING_STATUSES).first())
    if job is None or job.uploaded_by is None:
        return
    running = RecordsImportJob.objects.filter(pk=job_id, status__in=RecordsImportJob.RUNNING_STATUSES)
    running.update(runs=job.runs + 1, updated_at=timezone.now())

    def reading(rows: int) -> None:
        running.update(processed_rows=rows, updated_at=timezone.now())

    def checked(rows: int) -> None:
        running.update(status=Status.IMPORTING, total_rows=rows, processed_rows=rows, updated_at=timezone.now())

    module = MODULES[job.kind]
    extra = {"lead": job.lead} if job.kind == Kind.CASES else {}
    importer = module.case_import if job.kind == Kind.CASES else module.survey_import
    try:
        with job.file.open("rb") as stored:
            report = importer(user=job.uploaded_by, campaign=job.campaign, upload=stored, checked=checked,
                              reading=reading, **extra)
    except (ValidationError, PermissionDenied) as error:
        messages = error.message_dict if hasattr(error, "error_dict") else {"file": list(getattr(
            error, "messages", [str(error)]))}
        running.update(status=Status.FAILED, failure=messages, finished_at=timezone.now(), updated_at=timezone.now())
        return
    except (OperationalError, InterfaceError):
        raise  # a lost connection: the task tries again
    except Exception:
        # A fault of ours: marked failed rather than run again and again by the sweeper. The
        # writing is one transaction, so nothing of the file was recorded.
        logger.exception("Campaign import %s failed", job_id)
        running.update(status=Status.FAILED, failure={"file": [_("The import stopped on an unexpected error; "
                                                                 "nothing was recorded. Try again later.")]},
                       finished_at=timezone.now(), updated_at=timezone.now())
        return
    if report.problems:
        running.update(status=Status.INVALID, total_rows=report.total_rows, processed_rows=report.total_rows,
                       error_count=len(report.problems), errors=report.problems[:MAX_STORED_PROBLEMS],
                       finished_at=timezone.now(), updated_at=timezone.now())
        return
    counts = ({"cases_created": report.cases_created, "cases_kept": report.cases_kept,
               "visits_created": report.visits_created} if job.kind == Kind.CASES
              else {"created": report.created, "updated": report.updated})
    running.update(status=Status.DONE, total_rows=report.total_rows, processed_rows=report.total_rows,
                   counts=counts, finished_at=timezone.now(), updated_at=timezone.now())


def stale_jobs() -> list[int]:
    """Jobs checking or importing without progress for settings.IMPORT_STALE_SECONDS: their worker
    died, or the message was lost with a restarted broker."""
    since = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    return list(RecordsImportJob.objects.filter(status__in=RecordsImportJob.RUNNING_STATUSES, updated_at__lt=since)
                .values_list("pk", flat=True))
