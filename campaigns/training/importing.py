"""Recording a training session from its sign-in sheet (签到表), CSV or XLSX.

A sheet has a row per person who signed in, or a row per firm with a head count:

    统一社会信用代码 (required) · 企业名称 (read by people, ignored here) · 姓名 · 人数 (empty: 1)

Rows of the same firm are grouped: their persons are summed and their names joined with 、, so
a firm counts once as a firm-time however many of its people came. A sheet is small, so this
runs while the uploader waits: every row is checked first and if any is bad the report lists
each problem with its line, column and reason, and nothing is written. Otherwise the session
and its attendance are recorded by one call of campaigns.training.services.training_record.

Reading files (encodings, XLSX limits, formula-safe cells, how people spell headers) and the
report are the shared import package's (portal/imports/). Problems are kept
as codes with parameters and rendered in the reader's language (`problem_message`).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from campaigns.training import services
from campaigns.training.models import TrainingSession
from campaigns.training.selectors import firms_by_code
from enterprises.importing import clean_uscc
from enterprises.models import Enterprise
from portal.access import has_role
from portal.imports import report as shared_report
from portal.imports.headers import Column, HeaderMap
from portal.imports.reading import CellProblem, FileProblem, cell_text
from portal.imports.report import CELL_MESSAGES, FILE_MESSAGES, ImportReport, file_error, read_small_table
from portal.models import User

RECORDERS = frozenset({User.Role.REGULATOR, User.Role.ADMINISTRATOR})
MAX_ROWS = 10_000
# The service's bound on one firm's persons at one session (TrainingAttendance.persons).
MAX_PERSONS = 10_000
COLUMNS = (
    Column("uscc", "统一社会信用代码", True, ("信用代码", "社会信用代码", "credit_code")),
    Column("enterprise", "企业名称", aliases=("单位名称", "名称", "单位", "enterprise_name")),
    Column("person", "姓名", aliases=("参训人员", "人员姓名", "参训人", "person_name")),
    Column("persons", "人数", aliases=("参训人数", "人次", "count")),
)
COLUMNS_BY_KEY = {column.key: column for column in COLUMNS}
COLUMN_ORDER = {column.key: position for position, column in enumerate(COLUMNS)}
MESSAGES = {
    **FILE_MESSAGES,
    **{code: CELL_MESSAGES[code] for code in ("uscc_required", "uscc_length", "uscc_character", "uscc_check")},
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the sign-in sheet in it."),
    "no_rows": _("The file has a header row but no one signed in on it."),
    "firm_unknown": _("No enterprise with this credit code is in the registry: correct the code, or register the "
                      "enterprise first."),
    "firm_outside": _("This enterprise is registered outside your jurisdiction."),
    "persons_invalid": _("%(value)s is not a number of persons (a whole number from 1 to 10,000; empty: 1)."),
    "persons_total": _("%(count)d persons of this enterprise in all (lines %(lines)s); at most 10,000 per "
                       "enterprise and session."),
}


def problem_message(problem: dict) -> str:
    """The sentence for a problem, in the active language."""
    return shared_report.problem_message(problem, MESSAGES)


def read_rows(upload: UploadedFile) -> tuple[HeaderMap, list[tuple[int, Sequence[Any]]]]:
    return read_small_table(upload, COLUMNS, MAX_ROWS)


def clean_persons(raw: Any) -> int:
    text = cell_text(raw)
    if not text:
        return 1
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise CellProblem("persons_invalid", value=text) from error
    if not number.is_finite() or number != number.to_integral_value() or not 1 <= number <= MAX_PERSONS:
        raise CellProblem("persons_invalid", value=text)
    return int(number)


@dataclass
class SignIn:
    """One row that reads well: whose it is, how many persons, the name written."""

    line: int
    code: str
    persons: int
    name: str


@dataclass
class FirmAttendance:
    """The rows of one firm, grouped: what training_record receives for it."""

    enterprise: Enterprise
    lines: list[int] = field(default_factory=list)
    persons: int = 0
    names: list[str] = field(default_factory=list)

    def as_attendance(self) -> tuple[Enterprise, int, str]:
        return self.enterprise, self.persons, "、".join(self.names)


class SheetChecker:
    def __init__(self, *, header: HeaderMap, user: User):
        self.header = header
        self.user = user

    def cell(self, cells: Sequence[Any], key: str) -> Any:
        position = self.header.index.get(key)
        if position is None or position >= len(cells):
            return None
        return cells[position]

    def problem(self, line: int, key: str, code: str, params: dict | None = None) -> dict:
        return {"line": line, "column": self.header.column_name(key), "code": code, "params": params or {},
                "order": COLUMN_ORDER[key]}

    def parse(self, line: int, cells: Sequence[Any]) -> tuple[SignIn | None, list[dict]]:
        problems = []
        code = persons = None
        try:
            code = clean_uscc(self.cell(cells, "uscc"))
        except CellProblem as problem:
            problems.append(self.problem(line, "uscc", problem.code, problem.params))
        try:
            persons = clean_persons(self.cell(cells, "persons"))
        except CellProblem as problem:
            problems.append(self.problem(line, "persons", problem.code, problem.params))
        if problems:
            return None, problems
        return SignIn(line=line, code=code, persons=persons, name=cell_text(self.cell(cells, "person"))), []

    def check(self, rows: list[tuple[int, Sequence[Any]]]) -> tuple[list[FirmAttendance], list[dict]]:
        """The attendance grouped by firm, in the order of first appearance, and every problem."""
        sign_ins: list[SignIn] = []
        problems: list[dict] = []
        for line, cells in rows:
            sign_in, row_problems = self.parse(line, cells)
            if sign_in is not None:
                sign_ins.append(sign_in)
            problems.extend(row_problems)
        firms = firms_by_code(self.user, (sign_in.code for sign_in in sign_ins))
        grouped: dict[str, FirmAttendance] = {}
        for sign_in in sign_ins:
            if sign_in.code in firms.outside:
                problems.append(self.problem(sign_in.line, "uscc", "firm_outside"))
            elif firms.unknown(sign_in.code):
                problems.append(self.problem(sign_in.line, "uscc", "firm_unknown"))
            else:
                attendance = grouped.setdefault(sign_in.code, FirmAttendance(enterprise=firms.visible[sign_in.code]))
                attendance.lines.append(sign_in.line)
                attendance.persons += sign_in.persons
                if sign_in.name:
                    attendance.names.append(sign_in.name)
        for attendance in grouped.values():
            if attendance.persons > MAX_PERSONS:
                lines = "、".join(str(line) for line in attendance.lines[:20])
                problems.append(self.problem(attendance.lines[0], "persons", "persons_total",
                                             {"count": attendance.persons, "lines": lines}))
        problems.sort(key=lambda problem: (problem["line"], problem["order"]))
        return list(grouped.values()), problems


@dataclass
class SheetReport(ImportReport):
    """The report of a sign-in sheet: its problems, or the session it recorded."""

    session: TrainingSession | None = None
    firm_times: int = 0
    person_times: int = 0


def training_import(*, user: User, upload: UploadedFile, **session_fields) -> SheetReport:
    """Check every row of a sign-in sheet; record the session with its attendance, or nothing.

    `session_fields` are those of services.training_record (campaign, region, topic, held_on,
    organiser, place, mode, service_area). A whole-file problem raises ValidationError on "file";
    the service's own refusals (a date outside the campaign ...) propagate as it raised them.
    """
    if not has_role(user, RECORDERS):
        raise PermissionDenied
    report = SheetReport(file_name=PurePath(upload.name or "").name, messages=MESSAGES)
    try:
        header, rows = read_rows(upload)
    except FileProblem as problem:
        raise file_error(problem, MESSAGES) from problem
    report.total_rows = len(rows)
    report.ignored_columns = header.ignored
    attendance, report.problems = SheetChecker(header=header, user=user).check(rows)
    if report.problems:
        return report
    try:
        report.session = services.training_record(
            user=user, attendances=[firm.as_attendance() for firm in attendance], **session_fields)
    except ValidationError as error:
        # The sheet was checked above; what the service still refuses about the attendance (a firm
        # moved out of the jurisdiction meanwhile) is about the file.
        if hasattr(error, "error_dict") and "attendances" in error.error_dict:
            error.error_dict["file"] = error.error_dict.pop("attendances")
        raise
    report.firm_times = len(attendance)
    report.person_times = sum(firm.persons for firm in attendance)
    return report


def template_csv() -> bytes:
    """An empty sign-in sheet with the header row, for people to fill in (UTF-8 with BOM for Excel)."""
    return shared_report.template_csv(COLUMNS)
