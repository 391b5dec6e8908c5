"""Bulk import of enterprise lists from CSV and XLSX files (企业名录批量导入).

The flow, in the order it runs:

1. `import_job_create` checks the file's shape while the uploader waits (type, size, encoding,
   header row, at least one row) and stores it as an ImportJob, then enqueues
   `enterprises.tasks.import_job_run` once the job is committed.
2. The task calls `import_job_process`: `import_job_validate` reads every row and records each
   problem with its file line number, column and a message code; nothing is written to the
   registry. With no problem the job goes straight on to `import_job_import`; otherwise it waits
   as "invalid" until someone chooses `import_job_import_valid_rows` or `import_job_cancel`.
3. `import_job_import` reads the file again and upserts the rows in batches keyed by credit code,
   one transaction per batch, saving its progress with each batch. A second run resumes after
   the last committed batch, so running the task twice neither duplicates nor double-counts.
   Each batch writes the audit entries of the firms it created or changed in the same
   transaction, so a resumed import never records a batch twice.

Problems are stored as codes with parameters, not sentences, so the report is rendered in the
language of whoever reads it (`problem_message`).
"""

import codecs
import csv
import io
import logging
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise, ImportJob
from enterprises.selectors import IMPORTERS, import_jobs_visible_to
from enterprises.services import AUDITED_ENTERPRISE_FIELDS
from enterprises.uscc import normalise, region_code_of, validate_uscc
from portal import audit
from portal.access import has_role
from portal.models import AuditEntry, Industry, Region, User

logger = logging.getLogger(__name__)

Status = ImportJob.Status

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
# 200,000 rows of 15 columns inflate to about 150 MB of XML.
MAX_XLSX_INFLATED_BYTES = 500 * 1024 * 1024
# Rows validated between two progress saves, and rows written per transaction.
BATCH_SIZE = 2_000
# The report keeps the first problems; `error_count` still counts them all.
MAX_STORED_ERRORS = 1_000
EXTENSIONS = {".csv": ImportJob.Format.CSV, ".xlsx": ImportJob.Format.XLSX}

# A spreadsheet evaluates a cell starting with one of these; exports put a ' in front (see
# exporting.neutralise) and imports take that ' off again, so a round trip keeps the value.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    key: str  # the Enterprise field, also accepted as the English header
    header: str  # the Chinese header written by exports and the template file
    required: bool = False  # the header row must have it
    aliases: tuple[str, ...] = ()


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
TEXT_KEYS = ("address", "contact_name", "contact_phone")

SIZE_WORDS = {
    "微型": Enterprise.Size.MICRO, "微": Enterprise.Size.MICRO, "micro": Enterprise.Size.MICRO,
    "小型": Enterprise.Size.SMALL, "小": Enterprise.Size.SMALL, "small": Enterprise.Size.SMALL,
    "中型": Enterprise.Size.MEDIUM, "中": Enterprise.Size.MEDIUM, "medium": Enterprise.Size.MEDIUM,
    "大型": Enterprise.Size.LARGE, "大": Enterprise.Size.LARGE, "large": Enterprise.Size.LARGE,
}
TRUE_WORDS = {"是", "yes", "y", "1", "true", "√", "✓"}
FALSE_WORDS = {"否", "no", "n", "0", "false", ""}

MAX_EMPLOYEES = 2_147_483_647  # PositiveIntegerField's ceiling
REVENUE_FIELD = Enterprise._meta.get_field("annual_revenue")
MAX_REVENUE = Decimal(10) ** (REVENUE_FIELD.max_digits - REVENUE_FIELD.decimal_places)
CENT = Decimal("0.01")

MESSAGES = {
    # The whole file
    "file_type": _("Only .csv and .xlsx files can be imported."),
    "file_size": _("The file is larger than %(limit)d MB; split it into smaller files."),
    "file_empty": _("The file is empty."),
    "file_not_text": _("This is not a CSV text file. If it is an Excel workbook, save it as .xlsx and upload that."),
    "file_encoding": _("The file's text encoding was not recognised. Save it as CSV in UTF-8 or GB18030 (GBK)."),
    "file_unreadable": _("The file cannot be read as an Excel (.xlsx) workbook. Open it in Excel and save it again "
                         "as .xlsx."),
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the enterprise list in it."),
    "csv_malformed": _("Line %(line)d cannot be read as CSV (%(detail)s)."),
    "missing_headers": _("The header row (line 1) lacks the required columns: %(columns)s."),
    "duplicate_headers": _("The header row (line 1) has these columns more than once: %(columns)s."),
    "no_rows": _("The file has a header row but no enterprise rows."),
    "too_many_rows": _("The file has more than %(limit)d rows; split it into smaller files."),
    "internal": _("The import stopped because of an error on the server after %(done)d rows. Upload the file "
                  "again: rows already imported are updated, not duplicated."),
    # One cell
    "uscc_required": _("Enter the unified social credit code."),
    "uscc_length": _("A credit code has 18 characters; this one has %(count)d."),
    "uscc_character": _("A credit code cannot contain %(chars)s (allowed: digits and letters except I, O, S, V, Z)."),
    "uscc_check": _("The check character (the 18th) does not match the first 17; please look for a typo."),
    "uscc_duplicate": _("This credit code is already on line %(line)d of this file."),
    "name_required": _("Enter the enterprise name."),
    "too_long": _("At most %(limit)d characters are allowed; this value has %(count)d."),
    "region_unknown": _("%(value)s is not a known administrative division code (6 digits, GB/T 2260)."),
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
    "email_invalid": _("%(value)s is not a valid e-mail address."),
    "integer_invalid": _("%(value)s is not a whole number."),
    "number_negative": _("The value cannot be negative."),
    "number_too_large": _("The value must be less than %(limit)s."),
    "decimal_invalid": _("%(value)s is not a number (give the amount in 10,000 yuan, e.g. 1234.5)."),
    "boolean_invalid": _("%(value)s is not a yes/no answer; use 是 or 否 (yes/no, 1/0, true/false)."),
}


def problem_message(problem: dict) -> str:
    """The sentence for a stored problem, in the active language."""
    template = MESSAGES.get(problem.get("code"), MESSAGES["internal"])
    params = problem.get("params") or {}
    return str(template) % params if params else str(template)


class FileProblem(Exception):
    """The whole file is refused: nothing in it is imported."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}

    @property
    def message(self) -> str:
        return problem_message(self.as_dict())


class CellProblem(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# --- Reading files -------------------------------------------------------------------------


def header_token(text: Any) -> str:
    """Header cells as people type them: full-width brackets, spaces, a * marking required."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return "".join(text.split()).rstrip("*").lower()


def header_keys(columns: Sequence[Column]) -> dict[str, str]:
    """Every accepted spelling of every column's header, normalised, to the column's key."""
    return {header_token(name): column.key for column in columns
            for name in (column.key, column.header, *column.aliases)}


HEADER_KEYS = header_keys(COLUMNS)


def cell_text(value: Any) -> str:
    """A cell as trimmed text, undoing the ' an export put in front of a formula-like value."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        value = value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        text = text[1:].strip()
    return text


def decode_csv(data: bytes) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM, or GB18030 (what Chinese Excel saves as CSV)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in data[:65536]:
        raise FileProblem("file_not_text")
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise FileProblem("file_not_text")
        return text
    raise FileProblem("file_encoding")


class Table:
    """An opened import file: its header row and its non-blank rows with their line numbers."""

    def __init__(self, header: list[Any], rows: Iterator[tuple[int, Sequence[Any]]],
                 estimated_rows: int | None, close=None):
        self.header = header
        self._rows = rows
        self.estimated_rows = estimated_rows
        self._close = close

    def rows(self) -> Iterator[tuple[int, Sequence[Any]]]:
        return self._rows

    def close(self) -> None:
        if self._close is not None:
            self._close()

    def __enter__(self) -> "Table":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_blank(cells: Sequence[Any]) -> bool:
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def open_csv(data: bytes) -> Table:
    if not data.strip():
        raise FileProblem("file_empty")
    text = decode_csv(data)
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FileProblem("csv_malformed", line=1, detail=str(error)) from error
    if header is None or is_blank(header):
        raise FileProblem("file_empty")

    def rows() -> Iterator[tuple[int, list[str]]]:
        while True:
            line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileProblem("csv_malformed", line=line, detail=str(error)) from error
            if not is_blank(cells):
                yield line, cells

    return Table(header, rows(), estimated_rows=max(text.count("\n") - 1, 0))


def open_xlsx(fileobj) -> Table:
    import openpyxl

    try:
        # A workbook is a zip: refuse one that would inflate far beyond any real enterprise list
        # before openpyxl reads its shared strings into memory.
        with zipfile.ZipFile(fileobj) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FileProblem("file_unreadable") from error
    if inflated > MAX_XLSX_INFLATED_BYTES:
        raise FileProblem("xlsx_inflated", limit=MAX_XLSX_INFLATED_BYTES // (1024 * 1024))
    fileobj.seek(0)
    try:
        workbook = openpyxl.load_workbook(fileobj, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises anything from BadZipFile to KeyError on a bad file
        raise FileProblem("file_unreadable") from error
    try:
        sheet = workbook.worksheets[0]
        header = list(next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ()))
    except Exception as error:
        workbook.close()
        raise FileProblem("file_unreadable") from error
    while header and header[-1] in (None, ""):
        header.pop()
    if not header:
        workbook.close()
        raise FileProblem("file_empty")
    try:
        # The sheet's <dimension> when the writer recorded one: only an estimate for progress.
        estimated = max(sheet.max_row - 1, 0) if sheet.max_row else None
    except Exception:
        estimated = None

    def rows() -> Iterator[tuple[int, tuple]]:
        try:
            cells_by_row = sheet.iter_rows(min_row=2, max_col=len(header), values_only=True)
            for line, cells in enumerate(cells_by_row, start=2):
                if not is_blank(cells):
                    yield line, cells
        except FileProblem:
            raise
        except Exception as error:
            raise FileProblem("file_unreadable") from error

    return Table(header, rows(), estimated_rows=estimated, close=workbook.close)


def open_table(fileobj, fmt: str) -> Table:
    if fmt == ImportJob.Format.XLSX:
        return open_xlsx(fileobj)
    return open_csv(fileobj.read())


@dataclass
class HeaderMap:
    """Which column of the file holds which field, and the header text the user wrote for it."""

    index: dict[str, int]
    text: dict[str, str]
    ignored: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # the standard header of each key

    def column_name(self, key: str) -> str:
        return self.text.get(key) or self.headers.get(key, key)


def map_header(header: Sequence[Any], columns: Sequence[Column] = None) -> HeaderMap:
    """Find each known column in the header row; refuse duplicates and missing required columns."""
    columns = COLUMNS if columns is None else columns
    keys = HEADER_KEYS if columns is COLUMNS else header_keys(columns)
    index: dict[str, int] = {}
    text: dict[str, str] = {}
    ignored: list[str] = []
    duplicates: list[str] = []
    for position, cell in enumerate(header):
        label = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        if not label:
            continue
        key = keys.get(header_token(label))
        if key is None:
            ignored.append(label)
        elif key in index:
            duplicates.append(label)
        else:
            index[key] = position
            text[key] = label
    if duplicates:
        raise FileProblem("duplicate_headers", columns="、".join(duplicates))
    missing = [column.header for column in columns if column.required and column.key not in index]
    if missing:
        raise FileProblem("missing_headers", columns="、".join(missing))
    return HeaderMap(index=index, text=text, ignored=ignored,
                     headers={column.key: column.header for column in columns})


def read_small_table(upload: UploadedFile, columns: Sequence[Column],
                     max_rows: int) -> tuple[HeaderMap, list[tuple[int, Sequence[Any]]]]:
    """For imports checked while the uploader waits (expert pools, sign-in sheets): the header and
    every non-blank row with its file line number, read at once; FileProblem for the whole file."""
    fmt = EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    if fmt is None:
        raise FileProblem("file_type")
    if upload.size is not None and upload.size > MAX_BYTES:
        raise FileProblem("file_size", limit=MAX_BYTES // (1024 * 1024))
    if not upload.size:
        raise FileProblem("file_empty")
    upload.seek(0)
    with open_table(upload, fmt) as table:
        # A sheet's recorded dimension also counts formatted empty rows: only a far larger one is
        # refused before reading it; otherwise counting the non-blank rows decides.
        if fmt == ImportJob.Format.XLSX and (table.estimated_rows or 0) > max_rows * 10:
            raise FileProblem("too_many_rows", limit=max_rows)
        header = map_header(table.header, columns)
        rows = []
        for line, cells in table.rows():  # blank rows are skipped by the reader
            rows.append((line, cells))
            if len(rows) > max_rows:
                raise FileProblem("too_many_rows", limit=max_rows)
    if not rows:
        raise FileProblem("no_rows")
    return header, rows


def chunked(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- Checking rows -----------------------------------------------------------------------


def max_length(key: str) -> int:
    return Enterprise._meta.get_field(key).max_length


def clean_text(raw: Any, key: str) -> str:
    text = cell_text(raw)
    limit = max_length(key)
    if len(text) > limit:
        raise CellProblem("too_long", limit=limit, count=len(text))
    return text


def clean_uscc(raw: Any) -> str:
    code = normalise(cell_text(raw))
    if not code:
        raise CellProblem("uscc_required")
    try:
        validate_uscc(code)
    except ValidationError as error:
        raise CellProblem(error.code, **(error.params or {})) from error
    return code


def clean_name(raw: Any) -> str:
    name = clean_text(raw, "name")
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
    email = clean_text(raw, "contact_email")
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise CellProblem("email_invalid", value=email) from error
    return email


def clean_employees(raw: Any) -> int | None:
    text = cell_text(raw).replace(",", "")
    if not text:
        return None
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
    if isinstance(raw, bool):
        return raw
    text = cell_text(raw).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellProblem("boolean_invalid", value=cell_text(raw))


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
    """Checks rows chunk by chunk with reference data loaded once and one query per chunk.

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

    def cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.header.index.get(key)
        if position is None or position >= len(cells):
            return None
        return cells[position]

    def problem(self, line: int, key: str, code: str, params: dict) -> dict:
        return {"line": line, "column": self.header.column_name(key), "code": code, "params": params}

    def parse(self, line: int, cells: Sequence[Any]) -> tuple[CleanRow | None, list[dict]]:
        values: dict[str, Any] = {}
        problems: list[dict] = []

        def take(key: str, cleaner) -> None:
            try:
                values[key] = cleaner(self.cell(cells, key))
            except CellProblem as problem:
                problems.append(self.problem(line, key, problem.code, problem.params))

        take("uscc", clean_uscc)
        uscc = values.get("uscc")
        if uscc is not None:
            earlier = self.seen.setdefault(uscc, line)
            if earlier != line:
                problems.append(self.problem(line, "uscc", "uscc_duplicate", {"line": earlier}))
        take("name", clean_name)

        region_code = cell_text(self.cell(cells, "region"))
        if region_code and region_code not in self.regions:
            problems.append(self.problem(line, "region", "region_unknown", {"value": region_code}))
        values["region_id"] = region_code or None

        try:
            industry = clean_industry_code(self.cell(cells, "industry"))
            if industry in self.sections:
                raise CellProblem("industry_section", value=industry)
            if industry not in self.divisions:
                raise CellProblem("industry_unknown", value=industry)
            values["industry_id"] = industry
        except CellProblem as problem:
            problems.append(self.problem(line, "industry", problem.code, problem.params))

        take("size", clean_size)
        for key in TEXT_KEYS:
            if key in self.header.index:
                take(key, lambda raw, key=key: clean_text(raw, key))
        optional = {"contact_email": clean_email, "employees": clean_employees, "annual_revenue": clean_revenue,
                    **dict.fromkeys(BOOLEAN_KEYS, clean_boolean)}
        for key, cleaner in optional.items():
            if key in self.header.index:
                take(key, cleaner)
        if problems:
            return None, problems
        return CleanRow(line=line, values=values, region_given=bool(region_code)), []

    def check_chunk(self, chunk: Sequence[tuple[int, Sequence[Any]]]) -> tuple[list[CleanRow], list[dict]]:
        """The good rows of a chunk and the problems of the others, with one query for the chunk."""
        good: list[CleanRow] = []
        problems: list[dict] = []
        for line, cells in chunk:
            row, row_problems = self.parse(line, cells)
            if row is not None:
                good.append(row)
            problems.extend(row_problems)
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



def inspect_upload(upload: UploadedFile) -> tuple[str, int | None, list[str]]:
    """Check a file's shape before it is stored: (format, estimated rows, ignored header cells).

    Raises FileProblem. Rows are not checked here; that is the task's work.
    """
    fmt = EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    if fmt is None:
        raise FileProblem("file_type")
    if upload.size is not None and upload.size > MAX_BYTES:
        raise FileProblem("file_size", limit=MAX_BYTES // (1024 * 1024))
    if not upload.size:
        raise FileProblem("file_empty")
    upload.seek(0)
    try:
        with open_table(upload, fmt) as table:
            header = map_header(table.header)
            if fmt == ImportJob.Format.CSV:
                # Cheap for text, and it finds a malformed line before anyone waits for the task.
                count = 0
                for _row in table.rows():
                    count += 1
                    if count > MAX_ROWS:
                        raise FileProblem("too_many_rows", limit=MAX_ROWS)
                estimated = count
            else:
                if table.estimated_rows and table.estimated_rows > MAX_ROWS:
                    raise FileProblem("too_many_rows", limit=MAX_ROWS)
                count = 1 if next(table.rows(), None) is not None else 0
                estimated = table.estimated_rows
            if count == 0:
                raise FileProblem("no_rows")
    finally:
        upload.seek(0)
    return fmt, estimated, header.ignored


def import_job_create(*, user: User, upload: UploadedFile, enqueue: bool = True) -> ImportJob:
    """Store an uploaded list and start checking it. A file of the wrong shape is refused at once."""
    if not can_import(user):
        raise PermissionDenied
    try:
        fmt, estimated, ignored = inspect_upload(upload)
    except FileProblem as problem:
        raise ValidationError({"file": problem.message}, code=problem.code) from problem
    with transaction.atomic():
        job = ImportJob(
            uploaded_by=user, region=None if user.is_administrator else user.region, file=upload,
            original_name=PurePath(upload.name).name[:255], format=fmt, total_rows=estimated or 0,
            ignored_columns=ignored,
        )
        job.full_clean(exclude=["file"])
        job.save()
        if enqueue:
            transaction.on_commit(lambda: enqueue_job(job.pk))
    return job


def enqueue_job(job_id: int) -> None:
    from enterprises.tasks import import_job_run

    import_job_run.delay(job_id)


def check_job_access(user: User, job: ImportJob) -> None:
    if not import_jobs_visible_to(user).filter(pk=job.pk).exists():
        raise PermissionDenied


def import_job_import_valid_rows(*, user: User, job: ImportJob) -> ImportJob:
    """The user's explicit choice: import the good rows of a file that has bad ones."""
    check_job_access(user, job)
    with transaction.atomic():
        moved = ImportJob.objects.filter(pk=job.pk, status=Status.INVALID, valid_rows__gt=0).update(
            status=Status.IMPORTING, only_valid_rows=True, processed_rows=0, updated_at=timezone.now()
        )
        if not moved:
            job.refresh_from_db()
            if job.status == Status.INVALID:
                raise ValidationError(_("No row of this file is good; there is nothing to import."))
            raise ValidationError(_("This import is not waiting for a decision any more."))
        transaction.on_commit(lambda: enqueue_job(job.pk))
    job.refresh_from_db()
    return job


def import_job_cancel(*, user: User, job: ImportJob) -> ImportJob:
    """Discard an import that has not started writing; its stored file is deleted."""
    check_job_access(user, job)
    with transaction.atomic():
        discarded = ImportJob.objects.filter(pk=job.pk, status__in=[Status.VALIDATING, Status.INVALID]).update(
            status=Status.CANCELLED, finished_at=timezone.now(), updated_at=timezone.now()
        )
        if not discarded:
            raise ValidationError(_("This import can no longer be discarded."))
        name, storage = job.file.name, job.file.storage
        transaction.on_commit(lambda: storage.delete(name) if name else None)
    job.refresh_from_db()
    return job


def job_prefix(job: ImportJob) -> str:
    return job.region.prefix if job.region_id else ""


def open_job_table(job: ImportJob) -> Table:
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


def fail(job_id: int, problem: dict) -> None:
    ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING_STATUSES).update(
        status=Status.FAILED, failure=problem, finished_at=timezone.now(), updated_at=timezone.now()
    )


def import_job_process(*, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Everything the task does: check the rows, then import them when none is bad.

    A lost database connection propagates, for the task to retry; any other error marks the
    job failed, saying how many rows were already imported, rather than leaving it running.
    """
    try:
        import_job_validate(job_id=job_id, batch_size=batch_size)
        import_job_import(job_id=job_id, batch_size=batch_size)
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("Enterprise import %s failed", job_id)
        state = ImportJob.objects.filter(pk=job_id).values_list("status", "processed_rows").first()
        imported = state[1] if state and state[0] == Status.IMPORTING else 0
        fail(job_id, {"code": "internal", "params": {"done": imported}})


def import_job_validate(*, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Check every row; writes only to the job (progress every batch, the report at the end)."""
    job = ImportJob.objects.select_related("region").filter(pk=job_id).first()
    if job is None or job.status != Status.VALIDATING:
        return
    running = ImportJob.objects.filter(pk=job_id, status=Status.VALIDATING)
    problems: list[dict] = []
    problem_count = valid = total = 0
    try:
        with open_job_table(job) as table:
            checker = RowChecker(header=map_header(table.header), prefix=job_prefix(job))
            # The upload check counted a CSV exactly; an XLSX has its recorded dimension, if any.
            running.update(total_rows=job.total_rows or table.estimated_rows or 0, processed_rows=0,
                           updated_at=timezone.now())
            for chunk in chunked(table.rows(), batch_size):
                total += len(chunk)
                if total > MAX_ROWS:
                    raise FileProblem("too_many_rows", limit=MAX_ROWS)
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
        fail(job_id, problem.as_dict())
        return
    if total == 0:
        fail(job_id, FileProblem("no_rows").as_dict())
        return
    clean = problem_count == 0
    running.update(
        status=Status.IMPORTING if clean else Status.INVALID, total_rows=total,
        processed_rows=0 if clean else total, valid_rows=valid, error_count=problem_count, errors=problems,
        updated_at=timezone.now(),
    )


def import_job_import(*, job_id: int, batch_size: int = BATCH_SIZE) -> None:
    """Upsert the good rows in batches, one transaction and one progress save per batch.

    Each batch is one INSERT ... ON CONFLICT (uscc) DO UPDATE, preceded by one read of the
    batch's firms already registered (locked until the batch commits): it tells created from
    updated, gives the old values for the audit trail, and a firm registered by hand meanwhile
    is updated rather than making the batch fail. Safe to run twice: a batch whose rows the job
    already counts as processed is skipped, under a lock on the job row. The batch's audit
    entries (one bulk INSERT) are written in its transaction, so they commit or roll back with
    its rows and a resumed import never records a batch twice.
    """
    job = ImportJob.objects.select_related("region").filter(pk=job_id).first()
    if job is None or job.status != Status.IMPORTING:
        return
    content_type = ContentType.objects.get_for_model(Enterprise)
    late_problems: list[dict] = []
    valid = done = 0
    try:
        with open_job_table(job) as table:
            checker = RowChecker(header=map_header(table.header), prefix=job_prefix(job))
            update_fields = checker.update_fields()
            for chunk in chunked(table.rows(), batch_size):
                done += len(chunk)
                if done > MAX_ROWS:
                    raise FileProblem("too_many_rows", limit=MAX_ROWS)
                good, problems = checker.check_chunk(chunk)
                valid += len(good)
                late_problems.extend(problems)
                with transaction.atomic():
                    state = (ImportJob.objects.select_for_update().filter(pk=job_id)
                             .values_list("status", "processed_rows").first())
                    if state is None or state[0] != Status.IMPORTING:
                        return  # discarded, failed or finished by another run
                    if state[1] >= done:
                        continue  # committed by an earlier or parallel run
                    before = locked_registry_rows(good, update_fields)
                    for row in good:
                        # Read under the lock: a firm registered by hand since the check counts as updated.
                        row.exists = row.values["uscc"] in before
                    created = upsert(good, update_fields)
                    AuditEntry.objects.bulk_create(
                        audit_entries(good, before, update_fields, job=job, checker=checker,
                                      content_type=content_type)
                    )
                    ImportJob.objects.filter(pk=job_id).update(
                        processed_rows=done, created_count=F("created_count") + created,
                        updated_count=F("updated_count") + len(good) - created, updated_at=timezone.now(),
                    )
    except FileProblem as problem:
        fail(job_id, problem.as_dict())
        return
    finish = {"status": Status.DONE, "finished_at": timezone.now(), "updated_at": timezone.now()}
    if late_problems and not job.only_valid_rows:
        # Rows that turned bad after the check (a region removed, a firm registered elsewhere
        # meanwhile) were skipped; report them like the check would have.
        finish.update(valid_rows=valid, error_count=len(late_problems), errors=late_problems[:MAX_STORED_ERRORS])
    ImportJob.objects.filter(pk=job_id, status=Status.IMPORTING).update(**finish)


def upsert(rows: list[CleanRow], update_fields: list[str]) -> int:
    """Write one batch; returns how many firms it created."""
    if not rows:
        return 0
    firms = Enterprise.objects.bulk_create(
        [Enterprise(**row.values) for row in rows],
        update_conflicts=True, unique_fields=["uscc"], update_fields=update_fields,
    )
    # PostgreSQL and SQLite (3.35+) return the ids of inserted and updated rows alike (RETURNING).
    for row, firm in zip(rows, firms, strict=True):
        row.pk = firm.pk
    return sum(1 for row in rows if not row.exists)


# --- The audit trail of an import ---------------------------------------------------------


def attname(name: str) -> str:
    return Enterprise._meta.get_field(name).attname


def locked_registry_rows(rows: list[CleanRow], update_fields: list[str]) -> dict[str, dict[str, Any]]:
    """The batch's firms already in the registry, by credit code, with the values the import may
    overwrite: one query, locking those rows until the batch commits so no edit slips in between."""
    if not rows:
        return {}
    columns = ["pk", "uscc", "region_id", *(attname(name) for name in update_fields if name != "updated_at")]
    firms = (Enterprise.objects.select_for_update().filter(uscc__in=[row.values["uscc"] for row in rows])
             .order_by().values(*dict.fromkeys(columns)))
    return {firm["uscc"]: firm for firm in firms}


def audit_entries(
    rows: list[CleanRow], before: dict[str, dict[str, Any]], update_fields: list[str], *, job: ImportJob,
    checker: RowChecker, content_type: ContentType,
) -> list[AuditEntry]:
    """One IMPORT entry per firm created (its values) or changed (old and new values of the fields
    that changed; an unchanged firm gets none), stored like the services' entries: a region or an
    industry as its text, a choice as its value, a decimal as a string.

    A firm the import moved to another region gets a second entry under its old region, as
    `enterprise_update` does, so the old jurisdiction still reads what happened to it.
    """

    def shown(name: str, value: Any) -> Any:
        if value is not None and name == "region":
            return checker.region_names.get(value, value)
        if value is not None and name == "industry":
            return checker.industry_names.get(value, value)
        return audit.json_value(value)

    at = timezone.now()
    source = {"job": job.pk, "file": job.original_name}
    entries = []
    for row in rows:
        firm = Enterprise(**row.values)  # with the model's defaults for the columns the file lacks
        old = before.get(row.values["uscc"])
        changes = {}
        if old is None:
            note = _("Created by import #%(job)d (%(file)s)") % source
            for name in AUDITED_ENTERPRISE_FIELDS:
                value = getattr(firm, attname(name))
                if value is not False and value not in (None, ""):  # as audit.record_create leaves them out
                    changes[name] = [None, shown(name, value)]
            regions = [firm.region_id]
        else:
            note = _("Updated by import #%(job)d (%(file)s)") % source
            for name in update_fields:
                if name == "updated_at":
                    continue
                old_value, new_value = old[attname(name)], getattr(firm, attname(name))
                if old_value != new_value:
                    changes[name] = [shown(name, old_value), shown(name, new_value)]
            if not changes:
                continue
            regions = list(dict.fromkeys([firm.region_id, old["region_id"]]))
        for region_code in regions:
            entries.append(AuditEntry(
                content_type=content_type, object_id=str(row.pk), object_repr=firm.name[:200],
                region_code=region_code, action=AuditEntry.Action.IMPORT, actor_id=job.uploaded_by_id, at=at,
                changes=changes, note=note,
            ))
    return entries


def template_csv() -> bytes:
    """An empty list with the header row, for people to fill in (UTF-8 with BOM for Excel)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.header for column in COLUMNS])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
