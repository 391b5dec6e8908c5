"""Reading import files (CSV in the encodings Chinese offices save, XLSX within bounds) into
tables of rows with their file line numbers; problems of the whole file or of one cell as codes."""

import codecs
import csv
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from portal.exports import FORMULA_TRIGGERS
from portal.uploads import MAX_TABLE_ROWS, TableRefused, check_table_file

CSV, XLSX = "csv", "xlsx"
EXTENSIONS = {".csv": CSV, ".xlsx": XLSX}
MAX_BYTES = 20 * 1024 * 1024
# 200,000 rows of 15 columns inflate to about 150 MB of XML.
MAX_XLSX_INFLATED_BYTES = 500 * 1024 * 1024
# How people write yes and no in a cell.
TRUE_WORDS = {"是", "yes", "y", "1", "true", "√", "✓"}
FALSE_WORDS = {"否", "no", "n", "0", "false", ""}


class FileProblem(Exception):
    """The whole file is refused: nothing in it is imported."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}


class CellProblem(Exception):
    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


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


def upload_format(upload: UploadedFile) -> str:
    """The format of an uploaded file, by its name, once its size is within bounds; the upload is
    rewound for reading. Raises FileProblem."""
    fmt = EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    if fmt is None:
        raise FileProblem("file_type")
    if upload.size is not None and upload.size > MAX_BYTES:
        raise FileProblem("file_size", limit=MAX_BYTES // (1024 * 1024))
    if not upload.size:
        raise FileProblem("file_empty")
    upload.seek(0)
    return fmt


def open_table(fileobj, fmt: str) -> Table:
    try:
        # Bounded before any full parse: sizes, shared strings and rows, read as a stream.
        check_table_file(fileobj, fmt, max_rows=MAX_TABLE_ROWS)
    except TableRefused as refused:
        raise FileProblem(refused.code, **refused.params) from refused
    if fmt == XLSX:
        return open_xlsx(fileobj)
    return open_csv(fileobj.read())


def chunked(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
