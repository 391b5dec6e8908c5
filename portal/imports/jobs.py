"""The import job and its progress, for lists too large to check while the uploader waits.

The flow, in the order it runs (the registry's import, enterprises/importing.py, is the one kind
so far):

1. `inspect_upload` checks the file's shape while the uploader waits (type, size, encoding, header
   row, at least one row); the kind stores it as a job row and wakes the worker after commit.
2. `job_process` runs `job_validate`: it reads every row and records each problem with its file
   line number, column and a message code; nothing is written but the job. With no problem the job
   goes straight on to `job_import`; otherwise it waits as "invalid" until someone chooses
   `job_import_valid_rows` or `job_cancel`.
3. `job_import` reads the file again and writes the rows in batches, one transaction per batch,
   saving its progress with each batch under a lock on the job row. A second run resumes after the
   last committed batch, so running the task twice neither duplicates nor double-counts; the
   kind's `write` puts the batch's audit entries in the same transaction.
"""

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Model
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.imports.headers import Column, HeaderMap, map_header
from portal.imports.reading import CSV, MAX_BYTES, FileProblem, Table, chunked, open_table, upload_format
from portal.notifications import kinds as notices
from portal.notifications.services import notify

logger = logging.getLogger(__name__)

# Rows validated between two progress saves, and rows written per transaction.
BATCH_SIZE = 2_000
# How much of new index entries a GIN index collects during an import's batches before merging them.
GIN_PENDING_LIST = "64MB"
# The memory a merge of such a list sorts its entries in (PostgreSQL takes work_mem; with its
# default of 4 MB a 64 MB list was merged in sixteen passes over the index instead of one).
GIN_MERGE_MEMORY = "256MB"
# The report keeps the first problems; `error_count` still counts them all.
MAX_STORED_ERRORS = 1_000


class RowChecker(Protocol):
    def check_chunk(self, chunk: Sequence[tuple[int, Sequence[Any]]]) -> tuple[list, list[dict]]:
        """The good rows of a chunk and the problems of the others."""


class ImportKind(Protocol):
    """What one kind of import brings to the job runner: its job table, columns and rules."""

    jobs: type[Model]  # with the fields and statuses of enterprises.models.ImportJob
    columns: Sequence[Column]
    max_rows: int

    def checker(self, job: Model, header: HeaderMap) -> RowChecker:
        """The row rules for this job's file, reference data loaded once."""

    def write(self, job: Model, rows: list, checker: RowChecker) -> int:
        """Write one batch of good rows inside the batch's transaction; returns how many were created."""

    # Optional: after_import() runs once the last batch is written, before the job is done.


def inspect_upload(upload: UploadedFile, *, columns: Sequence[Column], max_rows: int,
                   max_bytes: int = MAX_BYTES) -> tuple[str, int | None, list[str]]:
    """Check a file's shape before it is stored: (format, estimated rows, ignored header cells).

    Raises FileProblem. Rows are not checked here; that is the task's work.
    """
    fmt = upload_format(upload, max_bytes=max_bytes)
    try:
        with open_table(upload, fmt) as table:
            header = map_header(table.header, columns)
            if fmt == CSV:
                # Cheap for text, and it finds a malformed line before anyone waits for the task.
                count = 0
                for _row in table.rows():
                    count += 1
                    if count > max_rows:
                        raise FileProblem("too_many_rows", limit=max_rows)
                estimated = count
            else:
                if table.estimated_rows and table.estimated_rows > max_rows:
                    raise FileProblem("too_many_rows", limit=max_rows)
                count = 1 if next(table.rows(), None) is not None else 0
                estimated = table.estimated_rows
            if count == 0:
                raise FileProblem("no_rows")
    finally:
        upload.seek(0)
    return fmt, estimated, header.ignored


def job_import_valid_rows(kind: ImportKind, job: Model) -> bool:
    """The user's explicit choice: import the good rows of a file that has bad ones. True when the
    job moved on (the caller wakes the worker after commit)."""
    Status = kind.jobs.Status
    moved = kind.jobs.objects.filter(pk=job.pk, status=Status.INVALID, valid_rows__gt=0).update(
        status=Status.IMPORTING, only_valid_rows=True, processed_rows=0, updated_at=timezone.now()
    )
    if not moved:
        job.refresh_from_db()
        if job.status == Status.INVALID:
            raise ValidationError(_("No row of this file is good; there is nothing to import."))
        raise ValidationError(_("This import is not waiting for a decision any more."))
    return True


def job_cancel(kind: ImportKind, job: Model) -> None:
    """Discard an import that has not started writing; its stored file is deleted after commit."""
    Status = kind.jobs.Status
    discarded = kind.jobs.objects.filter(pk=job.pk, status__in=[Status.VALIDATING, Status.INVALID]).update(
        status=Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
    )
    if not discarded:
        raise ValidationError(_("This import can no longer be discarded."))
    name, storage = job.file.name, job.file.storage
    transaction.on_commit(lambda: storage.delete(name) if name else None)


def open_job_table(job: Model) -> Table:
    """The job's stored file, opened; closing the table closes the file."""
    job.file.open("rb")
    try:
        table = open_table(job.file, job.format)
    except BaseException:
        job.file.close()
        raise
    close_table = table.close

    def close() -> None:
        close_table()
        job.file.close()

    table.close = close
    return table


def job_fail(kind: ImportKind, job_id: int, problem: dict) -> None:
    with transaction.atomic():
        failed = kind.jobs.objects.filter(pk=job_id, status__in=kind.jobs.RUNNING_STATUSES).update(
            status=kind.jobs.Status.FAILED, failure=problem, finished_at=timezone.now(), updated_at=timezone.now()
        )
        if failed:
            job_notify(kind, job_id, notices.IMPORT_FAILED)


def job_notify(kind: ImportKind, job_id: int, notice) -> None:
    """Tell the uploader how their import ended, in the transaction that ends it (only the run
    whose update changed the job's status calls this, so a second run tells nobody again)."""
    job = kind.jobs.objects.select_related("uploaded_by").filter(pk=job_id).first()
    if job is None or job.uploaded_by is None:
        return
    url_name = getattr(kind, "detail_url_name", "")
    notify([job.uploaded_by], notice.name, obj=job, link=reverse(url_name, args=[job.pk]) if url_name else "",
           params={"file": job.original_name, "created": job.created_count, "updated": job.updated_count,
                   "errors": job.error_count})


def job_process(kind: ImportKind, *, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Everything the task does: check the rows, then import them when none is bad.

    A lost database connection propagates, for the task to retry, and so does the task's soft
    time limit, for the task to run again where the last committed batch left off (a million rows
    take longer than one run may); any other error marks the job failed, saying how many rows
    were already imported, rather than leaving it running.
    """
    try:
        job_validate(kind, job_id=job_id, batch_size=batch_size)
        job_import(kind, job_id=job_id, batch_size=batch_size)
    except (OperationalError, InterfaceError, SoftTimeLimitExceeded):
        raise
    except Exception:
        logger.exception("Import %s failed", job_id)
        state = kind.jobs.objects.filter(pk=job_id).values_list("status", "processed_rows").first()
        imported = state[1] if state and state[0] == kind.jobs.Status.IMPORTING else 0
        job_fail(kind, job_id, {"code": "internal", "params": {"done": imported}})


def job_validate(kind: ImportKind, *, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Check every row; writes only to the job (progress every batch, the report at the end)."""
    Status = kind.jobs.Status
    job = kind.jobs.objects.select_related("region").filter(pk=job_id).first()
    if job is None or job.status != Status.VALIDATING:
        return
    running = kind.jobs.objects.filter(pk=job_id, status=Status.VALIDATING)
    problems: list[dict] = []
    problem_count = valid = total = 0
    try:
        with open_job_table(job) as table:
            checker = kind.checker(job, map_header(table.header, kind.columns))
            # The upload check counted a CSV exactly; an XLSX has its recorded dimension, if any.
            running.update(total_rows=job.total_rows or table.estimated_rows or 0, processed_rows=0,
                           updated_at=timezone.now())
            for chunk in chunked(table.rows(), batch_size):
                total += len(chunk)
                if total > kind.max_rows:
                    raise FileProblem("too_many_rows", limit=kind.max_rows)
                good, chunk_problems = checker.check_chunk(chunk)
                valid += len(good)
                problem_count += len(chunk_problems)
                problems.extend(chunk_problems[: max(MAX_STORED_ERRORS - len(problems), 0)])
                still_running = running.update(
                    processed_rows=total, total_rows=Greatest(F("total_rows"), total), updated_at=timezone.now()
                )
                if not still_running:
                    return  # discarded meanwhile, or another run of the task finished first
    except FileProblem as problem:
        job_fail(kind, job_id, problem.as_dict())
        return
    if total == 0:
        job_fail(kind, job_id, FileProblem("no_rows").as_dict())
        return
    clean = problem_count == 0
    with transaction.atomic():
        checked = running.update(
            status=Status.IMPORTING if clean else Status.INVALID, total_rows=total,
            processed_rows=0 if clean else total, valid_rows=valid, error_count=problem_count, errors=problems,
            updated_at=timezone.now(),
        )
        if checked and not clean:
            job_notify(kind, job_id, notices.IMPORT_NEEDS_DECISION)


def relaxed_commit() -> None:
    """Settings for one batch's transaction on PostgreSQL (one statement):

    - its COMMIT returns without waiting for its WAL to reach the disk (synchronous_commit off): a
      thousand batches no longer wait for a thousand flushes. A crash can lose the last batches
      committed, never half of one, and their progress is lost with them, so the resumed job
      writes them again;
    - a GIN index (the registry's search indexes) collects the batch's new entries in its pending
      list up to GIN_PENDING_LIST rather than 4 MB, and merges them into the index a key at a
      time in far fewer, larger passes. Searches read the pending list meanwhile; the kind's
      `after_import` merges what is left when the job ends;
    - such a merge sorts the entries in GIN_MERGE_MEMORY (work_mem, for this transaction only).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF; "
                           f"SET LOCAL gin_pending_list_limit = '{GIN_PENDING_LIST}'; "
                           f"SET LOCAL work_mem = '{GIN_MERGE_MEMORY}'")


def job_import(kind: ImportKind, *, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Write the good rows in batches, one transaction and one progress save per batch.

    Safe to run twice: a batch whose rows the job already counts as processed is skipped, under a
    lock on the job row, and the kind writes the batch's audit entries in the batch's transaction,
    so they commit or roll back with its rows and a resumed import never records a batch twice.
    """
    Status = kind.jobs.Status
    job = kind.jobs.objects.select_related("region").filter(pk=job_id).first()
    if job is None or job.status != Status.IMPORTING:
        return
    late_problems: list[dict] = []
    valid = done = 0
    try:
        with open_job_table(job) as table:
            checker = kind.checker(job, map_header(table.header, kind.columns))
            for chunk in chunked(table.rows(), batch_size):
                done += len(chunk)
                if done > kind.max_rows:
                    raise FileProblem("too_many_rows", limit=kind.max_rows)
                good, problems = checker.check_chunk(chunk)
                valid += len(good)
                late_problems.extend(problems)
                with transaction.atomic():
                    relaxed_commit()
                    state = (kind.jobs.objects.select_for_update().filter(pk=job_id)
                             .values_list("status", "processed_rows").first())
                    if state is None or state[0] != Status.IMPORTING:
                        return  # discarded, failed or finished by another run
                    if state[1] >= done:
                        continue  # committed by an earlier or parallel run
                    # A run before this one (with other batches) may have committed the chunk's first rows.
                    start = done - len(chunk)
                    committed = {line for position, (line, _cells) in enumerate(chunk, start=start)
                                 if position < state[1]}
                    rows = [row for row in good if row.line not in committed]
                    created = kind.write(job, rows, checker)
                    kind.jobs.objects.filter(pk=job_id).update(
                        processed_rows=done, created_count=F("created_count") + created,
                        updated_count=F("updated_count") + len(rows) - created, updated_at=timezone.now(),
                    )
    except FileProblem as problem:
        job_fail(kind, job_id, problem.as_dict())
        return
    after_import = getattr(kind, "after_import", None)
    if after_import is not None:
        after_import()
    finish = {"status": Status.DONE, "finished_at": timezone.now(), "updated_at": timezone.now()}
    if late_problems and not job.only_valid_rows:
        # Rows that turned bad after the check (a region removed, a record kept elsewhere
        # meanwhile) were skipped; report them like the check would have.
        finish.update(valid_rows=valid, error_count=len(late_problems), errors=late_problems[:MAX_STORED_ERRORS])
    with transaction.atomic():
        if kind.jobs.objects.filter(pk=job_id, status=Status.IMPORTING).update(**finish):
            job_notify(kind, job_id, notices.IMPORT_FINISHED)
