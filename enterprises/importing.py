"""Bulk import of enterprise lists from CSV and XLSX files (企业名录批量导入): the registry's
columns and row rules. Reading files, the report and the job that runs in the background are the
shared import package's (portal/imports/); see portal/imports/jobs.py for the flow.

Rows are checked a column at a time down a chunk (the per-cell rules are short, with a quick way
for the plain text a CSV holds), and the chunk's credit codes already registered are one query.
Each batch is one INSERT ... ON CONFLICT (uscc) DO UPDATE, preceded by one read of the batch's
firms already registered (locked until the batch commits): it tells created from updated, gives
the old values for the audit trail, and a firm registered by hand meanwhile is updated rather
than making the batch fail. The batch's audit entries (one INSERT) are written in its
transaction, so a resumed import never records a batch twice (enterprises/import_batches.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.import_batches import (
    TEXT_KEYS,
    audit_entries,
    locked_registry_rows,
    merge_search_pending_lists,
    upsert,
    write_audit_entries,
)
from enterprises.models import Enterprise, ImportJob
from enterprises.selectors import IMPORTERS, import_jobs_visible_to
from enterprises.uscc import normalise, region_code_of, validate_uscc
from portal.access import has_role
from portal.background import enqueue_after_commit
from portal.imports import jobs, report
from portal.imports.cells import email_cell, within, yes_no_cell
from portal.imports.headers import Column, HeaderMap
from portal.imports.reading import FALSE_WORDS, TRUE_WORDS, CellProblem, FileProblem, cell_text
from portal.imports.report import CELL_MESSAGES, FILE_MESSAGES
from portal.models import Industry, Region, User

IMPORT_TASK = "enterprises.tasks.import_job_run"

# A province's registry in one file: a million rows, 200 MB (a CSV of the template's columns
# takes about 130 bytes a firm). A workbook is further bounded by what it expands to and by its
# distinct texts (portal/uploads.py), which a list of more than about 200,000 firms exceeds:
# larger lists go as CSV.
MAX_ROWS = 1_000_000
MAX_BYTES = 200 * 1024 * 1024
BATCH_SIZE = settings.IMPORT_BATCH_SIZE
COLUMNS = (
    Column("uscc", "统一社会信用代码", True, ("信用代码", "社会信用代码", "credit_code")),
    Column("name", "企业名称", True, ("名称", "单位名称")),
    Column("region", "行政区划代码", aliases=("区划代码", "region_code")),
    Column("industry", "行业代码", True, ("行业", "industry_code")),
    Column("size", "规模", True, ("企业规模", "size_class")),
    Column("address", "地址", aliases=("企业地址", "注册地址")),
    Column("contact_name", "联系人"),
    Column("contact_phone", "联系电话", aliases=("电话",)),
    Column("contact_email", "电子邮箱", aliases=("邮箱", "email")),
    Column("employees", "从业人数", aliases=("员工人数",)),
    Column("annual_revenue", "营业收入(万元)", aliases=("营业收入",)),
    Column("is_key", "重点企业"),
    Column("is_specialized", "专精特新"),
    Column("is_exporter", "出口企业"),
    Column("in_industrial_park", "园区企业"),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
BOOLEAN_KEYS = ("is_key", "is_specialized", "is_exporter", "in_industrial_park")

SIZE_WORDS = {
    "微型": Enterprise.Size.MICRO, "微": Enterprise.Size.MICRO, "micro": Enterprise.Size.MICRO,
    "小型": Enterprise.Size.SMALL, "小": Enterprise.Size.SMALL, "small": Enterprise.Size.SMALL,
    "中型": Enterprise.Size.MEDIUM, "中": Enterprise.Size.MEDIUM, "medium": Enterprise.Size.MEDIUM,
    "大型": Enterprise.Size.LARGE, "大": Enterprise.Size.LARGE, "large": Enterprise.Size.LARGE,
}
YES_NO = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
NAME_LENGTH = Enterprise._meta.get_field("name").max_length
MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField's ceiling
REVENUE_FIELD = Enterprise._meta.get_field("annual_revenue")
MAX_REVENUE = Decimal(10) ** (REVENUE_FIELD.max_digits - REVENUE_FIELD.decimal_places)
CENT = Decimal("0.01")

MESSAGES = {
    **FILE_MESSAGES,
    **CELL_MESSAGES,
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the enterprise list in it."),
    "no_rows": _("The file has a header row but no enterprise rows."),
    "internal": _("The import stopped because of an error on the server after %(done)d rows. Upload the file "
                  "again: rows already imported are updated, not duplicated."),
    "uscc_duplicate": _("This credit code is already on line %(line)d of this file."),
    "name_required": _("Enter the enterprise name."),
    "region_not_derived": _("No region code is given and %(code)s (characters 3-8 of the credit code) is not a "
                            "known division; fill in the region code."),
    "region_outside": _("Region %(code)s lies outside your jurisdiction."),
    "enterprise_outside": _("This enterprise is already registered in region %(code)s, outside your "
                            "jurisdiction."),
    "industry_required": _("Enter the industry division code (two digits of GB/T 4754, e.g. 13)."),
    "industry_section": _("%(value)s is an industry section; give the two-digit division within it (e.g. 13)."),
    "industry_unknown": _("%(value)s is not an industry division code of GB/T 4754 (two digits, e.g. 13)."),
    "size_required": _("Enter the size class: 微型, 小型, 中型 or 大型 (or micro, small, medium, large)."),
    "size_invalid": _("%(value)s is not a size class; use 微型, 小型, 中型 or 大型 (or micro, small, medium, "
                      "large)."),
    "integer_invalid": _("%(value)s is not a whole number."),
    "number_negative": _("The value cannot be negative."),
    "number_too_large": _("The value must be less than %(limit)s."),
    "decimal_invalid": _("%(value)s is not a number (give the amount in 10,000 yuan, e.g. 1234.5)."),
}


def problem_message(problem: dict) -> str:
    """The sentence for a stored problem, in the active language."""
    return report.problem_message(problem, MESSAGES)


# --- Checking rows -----------------------------------------------------------------------


def max_length(key: str) -> int:
    return Enterprise._meta.get_field(key).max_length


def clean_text(raw: Any, key: str) -> str:
    return within(cell_text(raw), max_length(key))


def clean_uscc(raw: Any) -> str:
    text = cell_text(raw)
    # A code typed plainly needs no Unicode normalisation (the common case, a million times over).
    code = text.upper() if text.isascii() and text.isalnum() else normalise(text)
    if not code:
        raise CellProblem("uscc_required")
    try:
        validate_uscc(code)
    except ValidationError as error:
        raise CellProblem(error.code, **(error.params or {})) from error
    return code


def clean_name(raw: Any) -> str:
    name = within(cell_text(raw), NAME_LENGTH)
    if not name:
        raise CellProblem("name_required")
    return name


def clean_size(raw: Any) -> str:
    text = cell_text(raw)
    if not text:
        raise CellProblem("size_required")
    size = SIZE_WORDS.get(text.lower())
    if size is None:
        raise CellProblem("size_invalid", value=text)
    return size


def clean_email(raw: Any) -> str:
    return email_cell(cell_text(raw), max_length("contact_email"))


def clean_employees(raw: Any) -> int | None:
    text = cell_text(raw).replace(",", "")
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)  # plain digits: the common case
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise CellProblem("integer_invalid", value=text) from error
    if not number.is_finite() or number != number.to_integral_value():
        raise CellProblem("integer_invalid", value=text)
    if number < 0:
        raise CellProblem("number_negative")
    if number > MAX_EMPLOYEES:
        raise CellProblem("number_too_large", limit=f"{MAX_EMPLOYEES + 1:,}")
    return int(number)


def clean_revenue(raw: Any) -> Decimal | None:
    text = cell_text(raw).replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise CellProblem("decimal_invalid", value=text) from error
    if not amount.is_finite():
        raise CellProblem("decimal_invalid", value=text)
    if amount < 0:
        raise CellProblem("number_negative")
    # Spreadsheets carry float noise (1234.5600000001); the registry keeps cents.
    amount = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if amount >= MAX_REVENUE:
        raise CellProblem("number_too_large", limit=f"{MAX_REVENUE:,}")
    return amount


def clean_boolean(raw: Any) -> bool:
    if type(raw) is str and (known := YES_NO.get(raw.strip().lower())) is not None:
        return known
    return yes_no_cell(raw)


def clean_industry_code(raw: Any) -> str:
    text = cell_text(raw).upper()
    if not text:
        raise CellProblem("industry_required")
    if text.isdigit() and len(text) == 1:
        text = "0" + text  # Excel drops the leading zero of 01-09
    return text


@dataclass
class CleanRow:
    line: int
    values: dict[str, Any]
    region_given: bool
    exists: bool = False
    pk: int | None = None  # set by `upsert`


class RowChecker:
    """Checks rows chunk by chunk, a column at a time, with reference data loaded once and one
    query per chunk (the chunk's credit codes already registered).

    Remembers the credit codes already seen, so a code twice in one file is reported on the
    later line, naming the earlier one.
    """

    def __init__(self, *, header: HeaderMap, prefix: str):
        self.header = header
        self.prefix = prefix
        # Names as well as codes: the audit entries show a region or industry as its text.
        self.region_names = dict(Region.objects.values_list("code", "name"))
        self.regions = set(self.region_names)
        industries = list(Industry.objects.only("code", "level", "name", "name_en"))
        self.divisions = {industry.code for industry in industries if industry.level == Industry.Level.DIVISION}
        self.sections = {industry.code for industry in industries if industry.level == Industry.Level.SECTION}
        self.industry_names = {industry.code: str(industry) for industry in industries}
        self.seen: dict[str, int] = {}
        limits = {key: max_length(key) for key in (*TEXT_KEYS, "name", "contact_email")}
        # (column key, field, cleaner) in the order a row's problems are listed; the columns the
        # header lacks are left out, except the region's (an empty cell: derived from the code).
        self.cleaners = [("uscc", "uscc", clean_uscc), ("name", "name", clean_name),
                         ("region", "region_id", self.clean_region), ("industry", "industry_id", self.clean_industry),
                         ("size", "size", clean_size)]
        self.cleaners += [(key, key, lambda raw, limit=limits[key]: within(cell_text(raw), limit))
                          for key in TEXT_KEYS if key in header.index]
        optional = {"contact_email": lambda raw: email_cell(cell_text(raw), limits["contact_email"]),
                    "employees": clean_employees, "annual_revenue": clean_revenue,
                    **dict.fromkeys(BOOLEAN_KEYS, clean_boolean)}
        self.cleaners += [(key, key, cleaner) for key, cleaner in optional.items() if key in header.index]

    def clean_region(self, raw: Any) -> str:
        code = cell_text(raw)
        if code and code not in self.regions:
            raise CellProblem("region_unknown", value=code)
        return code

    def clean_industry(self, raw: Any) -> str:
        industry = clean_industry_code(raw)
        if industry in self.sections:
            raise CellProblem("industry_section", value=industry)
        if industry not in self.divisions:
            raise CellProblem("industry_unknown", value=industry)
        return industry

    def problem(self, line: int, key: str, code: str, params: dict) -> dict:
        return {"line": line, "column": self.header.column_name(key), "code": code, "params": params}

    def clean_columns(self, chunk: Sequence[tuple[int, Sequence[Any]]]) -> tuple[dict[str, list], set[int],
                                                                                   list[dict]]:
        """Each field's cleaned values down the chunk, the positions of the bad rows and their problems."""
        columns: dict[str, list] = {}
        bad: set[int] = set()
        problems: list[dict] = []
        for key, field, cleaner in self.cleaners:
            position = self.header.index.get(key)
            if position is None:
                raws = [None] * len(chunk)
            else:
                raws = [cells[position] if position < len(cells) else None for _line, cells in chunk]
            values = []
            for index, raw in enumerate(raws):
                try:
                    values.append(cleaner(raw))
                except CellProblem as problem:
                    values.append(None)
                    bad.add(index)
                    problems.append(self.problem(chunk[index][0], key, problem.code, problem.params))
            if key == "uscc":
                for index, code in enumerate(values):
                    line = chunk[index][0]
                    if code is not None and (earlier := self.seen.setdefault(code, line)) != line:
                        bad.add(index)
                        problems.append(self.problem(line, "uscc", "uscc_duplicate", {"line": earlier}))
            columns[field] = values
        return columns, bad, problems

    def check_chunk(self, chunk: Sequence[tuple[int, Sequence[Any]]]) -> tuple[list[CleanRow], list[dict]]:
        """The good rows of a chunk and the problems of the others, with one query for the chunk."""
        columns, bad, problems = self.clean_columns(chunk)
        fields = list(columns)
        good: list[CleanRow] = []
        for index, (line, _cells) in enumerate(chunk):
            if index not in bad:
                values = {field: columns[field][index] for field in fields}
                region_code = values["region_id"]
                values["region_id"] = region_code or None
                good.append(CleanRow(line=line, values=values, region_given=bool(region_code)))
        existing = dict(
            Enterprise.objects.filter(uscc__in=[row.values["uscc"] for row in good]).values_list("uscc", "region_id")
        )
        kept: list[CleanRow] = []
        for row in good:
            uscc = row.values["uscc"]
            current_region = existing.get(uscc)
            row.exists = current_region is not None
            if row.exists and not current_region.startswith(self.prefix):
                problems.append(self.problem(row.line, "uscc", "enterprise_outside", {"code": current_region}))
                continue
            if not row.region_given:
                # An empty region cell keeps a known firm's region, or takes the one its code names.
                derived = region_code_of(uscc)
                if row.exists:
                    row.values["region_id"] = current_region
                elif derived in self.regions:
                    row.values["region_id"] = derived
                else:
                    column = "region" if "region" in self.header.index else "uscc"
                    problems.append(self.problem(row.line, column, "region_not_derived", {"code": derived}))
                    continue
            if not row.values["region_id"].startswith(self.prefix):
                column = "region" if row.region_given else "uscc"
                problems.append(self.problem(row.line, column, "region_outside", {"code": row.values["region_id"]}))
                continue
            kept.append(row)
        problems.sort(key=lambda problem: problem["line"])
        return kept, problems

    def update_fields(self) -> list[str]:
        """Fields a re-import overwrites: those the file has a column for. Absent columns stay as they are."""
        fields = ["name", "region", "industry", "size"]
        fields += [key for key in (*TEXT_KEYS, "contact_email", "employees", "annual_revenue", *BOOLEAN_KEYS)
                   if key in self.header.index]
        return [*fields, "updated_at"]


# --- Services -----------------------------------------------------------------------------


def can_import(user: User) -> bool:
    return has_role(user, IMPORTERS)



def import_job_create(*, user: User, upload: UploadedFile, enqueue: bool = True) -> ImportJob:
    """Store an uploaded list and start checking it. A file of the wrong shape is refused at once."""
    if not can_import(user):
        raise PermissionDenied
    try:
        fmt, estimated, ignored = jobs.inspect_upload(upload, columns=COLUMNS, max_rows=MAX_ROWS,
                                                         max_bytes=MAX_BYTES)
    except FileProblem as problem:
        raise report.file_error(problem, MESSAGES) from problem
    with transaction.atomic():
        job = ImportJob(
            uploaded_by=user, region=None if user.is_administrator else user.region, file=upload,
            original_name=PurePath(upload.name).name[:255], format=fmt, total_rows=estimated or 0,
            ignored_columns=ignored,
        )
        job.full_clean(exclude=["file"])
        job.save()
        if enqueue:
            enqueue_after_commit(IMPORT_TASK, job.pk)
    return job


def stale_jobs() -> list[int]:
    """Jobs checking or importing without progress for settings.IMPORT_STALE_SECONDS (their worker
    died, or the message was lost with a restarted broker)."""
    since = timezone.now() - timedelta(seconds=settings.IMPORT_STALE_SECONDS)
    return list(ImportJob.objects.filter(status__in=ImportJob.RUNNING_STATUSES, updated_at__lt=since)
                .values_list("pk", flat=True))


def check_job_access(user: User, job: ImportJob) -> None:
    if not import_jobs_visible_to(user).filter(pk=job.pk).exists():
        raise PermissionDenied


def import_job_import_valid_rows(*, user: User, job: ImportJob) -> ImportJob:
    """The user's explicit choice: import the good rows of a file that has bad ones."""
    check_job_access(user, job)
    with transaction.atomic():
        jobs.job_import_valid_rows(REGISTRY, job)
        enqueue_after_commit(IMPORT_TASK, job.pk)
    job.refresh_from_db()
    return job


def import_job_cancel(*, user: User, job: ImportJob) -> ImportJob:
    """Discard an import that has not started writing; its stored file is deleted."""
    check_job_access(user, job)
    with transaction.atomic():
        jobs.job_cancel(REGISTRY, job)
    job.refresh_from_db()
    return job


def import_job_process(*, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """What the task does: check every row of the job's file, then import them when none is bad."""
    jobs.job_process(REGISTRY, job_id=job_id, batch_size=batch_size)


def import_job_validate(*, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    jobs.job_validate(REGISTRY, job_id=job_id, batch_size=batch_size)


def import_job_import(*, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    jobs.job_import(REGISTRY, job_id=job_id, batch_size=batch_size)


class RegistryImport:
    """The registry's rules for the shared job runner (portal.imports.jobs.ImportKind)."""

    jobs = ImportJob
    columns = COLUMNS
    detail_url_name = "enterprises:import-detail"

    @property
    def max_rows(self) -> int:
        return MAX_ROWS

    def checker(self, job: ImportJob, header: HeaderMap) -> "RowChecker":
        return RowChecker(header=header, prefix=job.region.prefix if job.region_id else "")

    def write(self, job: ImportJob, rows: list[CleanRow], checker: "RowChecker") -> int:
        update_fields = checker.update_fields()
        before = locked_registry_rows(rows, update_fields)
        for row in rows:
            # Read under the lock: a firm registered by hand since the check counts as updated.
            row.exists = row.values["uscc"] in before
        created = upsert(rows, update_fields, checker.region_names, before)
        write_audit_entries(audit_entries(rows, before, update_fields, job=job, checker=checker),
                            actor_id=job.uploaded_by_id)
        return created

    def after_import(self) -> None:
        merge_search_pending_lists()


REGISTRY = RegistryImport()


def template_csv() -> bytes:
    """An empty list with the header row, for people to fill in (UTF-8 with BOM for Excel)."""
    return report.template_csv(COLUMNS)
