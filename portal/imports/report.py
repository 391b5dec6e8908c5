"""Imports checked while the uploader waits (expert pools, sign-in sheets) and the
validate-every-row report: problems kept as codes with parameters (line, column), shown as
sentences in the reader's language, and the messages every kind of import shares.

Each kind of import (firms, experts, sign-in sheets) has a catalogue of its own: these shared
messages, its own cell problems, and its own words for "no rows" and an oversized workbook.
"""

import codecs
import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from portal.imports.headers import Column, HeaderMap, map_header
from portal.imports.reading import XLSX, FileProblem, open_table, upload_format
from portal.uploads import MESSAGES as UPLOAD_MESSAGES

# The whole file
FILE_MESSAGES = {
    **UPLOAD_MESSAGES,  # the bounds checked before a file is parsed (portal.uploads)
    "file_type": _("Only .csv and .xlsx files can be imported."),
    "file_size": _("The file is larger than %(limit)d MB; split it into smaller files."),
    "file_empty": _("The file is empty."),
    "file_not_text": _("This is not a CSV text file. If it is an Excel workbook, save it as .xlsx and upload that."),
    "file_encoding": _("The file's text encoding was not recognised. Save it as CSV in UTF-8 or GB18030 (GBK)."),
    "file_unreadable": _("The file cannot be read as an Excel (.xlsx) workbook. Open it in Excel and save it again "
                         "as .xlsx."),
    "csv_malformed": _("Line %(line)d cannot be read as CSV (%(detail)s)."),
    "missing_headers": _("The header row (line 1) lacks the required columns: %(columns)s."),
    "duplicate_headers": _("The header row (line 1) has these columns more than once: %(columns)s."),
    "too_many_rows": _("The file has more than %(limit)d rows; split it into smaller files."),
}

# One cell, in any kind of list
CELL_MESSAGES = {
    "uscc_required": _("Enter the unified social credit code."),
    "uscc_length": _("A credit code has 18 characters; this one has %(count)d."),
    "uscc_character": _("A credit code cannot contain %(chars)s (allowed: digits and letters except I, O, S, V, Z)."),
    "uscc_check": _("The check character (the 18th) does not match the first 17; please look for a typo."),
    "too_long": _("At most %(limit)d characters are allowed; this value has %(count)d."),
    "region_unknown": _("%(value)s is not a known administrative division code (6 digits, GB/T 2260)."),
    "email_invalid": _("%(value)s is not a valid e-mail address."),
    "boolean_invalid": _("%(value)s is not a yes/no answer; use 是 or 否 (yes/no, 1/0, true/false)."),
    "date_required": _("Enter the date."),
    "date_invalid": _("%(value)s is not a date; write it as 2024-03-15."),
    "number_invalid": _("%(value)s is not a number from %(low)s to %(high)s."),
}


def problem_message(problem: dict, messages: dict) -> str:
    """The sentence for a stored problem, in the active language; an unknown code shows as itself."""
    template = messages.get(problem.get("code"))
    if template is None:
        return str(problem.get("code"))
    params = problem.get("params") or {}
    return str(template) % params if params else str(template)


def file_error(problem: FileProblem, messages: dict) -> ValidationError:
    """A whole-file problem as the form's error on its file field."""
    return ValidationError({"file": problem_message(problem.as_dict(), messages)}, code=problem.code)


@dataclass
class ImportReport:
    """What an upload checked while the uploader waits came to: the problems found (then nothing
    was written) or what was written. Each kind adds its own counts."""

    file_name: str
    messages: dict = field(repr=False)
    total_rows: int = 0
    problems: list[dict] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def bad_rows(self) -> int:
        return len({problem["line"] for problem in self.problems})

    def problem_rows(self) -> list[dict]:
        """The problems as (line, column, message) in the reader's language."""
        return [{"line": problem["line"], "column": problem["column"],
                 "message": problem_message(problem, self.messages)} for problem in self.problems]


# Rows read between two calls of read_small_table's `progress`.
PROGRESS_EVERY = 2_000


def read_small_table(
    upload: UploadedFile, columns: Sequence[Column], max_rows: int, progress: Callable[[int], None] | None = None,
) -> tuple[HeaderMap, list[tuple[int, Sequence[Any]]]]:
    """For imports checked while the uploader waits (expert pools, sign-in sheets): the header and
    every non-blank row with its file line number, read at once; FileProblem for the whole file.
    `progress(rows read)` is told every PROGRESS_EVERY rows (a background job's progress)."""
    fmt = upload_format(upload)
    with open_table(upload, fmt) as table:
        # A sheet's recorded dimension also counts formatted empty rows: only a far larger one is
        # refused before reading it; otherwise counting the non-blank rows decides.
        if fmt == XLSX and (table.estimated_rows or 0) > max_rows * 10:
            raise FileProblem("too_many_rows", limit=max_rows)
        header = map_header(table.header, columns)
        rows = []
        for line, cells in table.rows():  # blank rows are skipped by the reader
            rows.append((line, cells))
            if len(rows) > max_rows:
                raise FileProblem("too_many_rows", limit=max_rows)
            if progress is not None and len(rows) % PROGRESS_EVERY == 0:
                progress(len(rows))
    if not rows:
        raise FileProblem("no_rows")
    return header, rows


def read_and_check(upload: UploadedFile, columns: Sequence[Column], max_rows: int, report: ImportReport,
                   check: Callable[[HeaderMap, list], tuple[list, list[dict]]], *,
                   reading: Callable[[int], None] | None = None,
                   checked: Callable[[int], None] | None = None) -> list | None:
    """The first half of an all-or-nothing import: read the file (a whole-file problem raises
    ValidationError on "file"), note its size in `report` and check every row with
    `check(header, rows)` -> (parsed rows, problems). None when a row is bad (the report holds the
    problems); otherwise the parsed rows, after telling `checked(rows)` that the writing starts."""
    try:
        header, rows = read_small_table(upload, columns, max_rows, progress=reading)
    except FileProblem as problem:
        raise file_error(problem, report.messages) from problem
    report.total_rows, report.ignored_columns = len(rows), header.ignored
    parsed, report.problems = check(header, rows)
    if report.problems:
        return None
    if checked is not None:
        checked(len(rows))
    return parsed


def template_csv(columns: Sequence[Column]) -> bytes:
    """An empty list with the header row, for people to fill in (UTF-8 with BOM for Excel)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.header for column in columns])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
