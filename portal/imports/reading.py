"""Reading import files (CSV in the encodings Chinese offices save, XLSX within bounds) into
tables of rows with their file line numbers; problems of the whole file or of one cell as codes."""

import codecs
import csv
import itertools
import re
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
MAX_BYTES = 20 * 1024 * 1024  # an import's file, unless the kind allows more
# 200,000 rows of 15 columns inflate to about 150 MB of XML.
MAX_XLSX_INFLATED_BYTES = 500 * 1024 * 1024
# How people write yes and no in a cell.
TRUE_WORDS = {"是", "yes", "y", "1", "true", "√", "✓"}
FALSE_WORDS = {"否", "no", "n", "0", "false", ""}
READ_CHUNK = 1024 * 1024
LINE_END = re.compile(r"\r\n|\r|\n")


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
    if type(value) is str:  # every cell of a CSV: the quick way
        text = value.strip()
        if text[:1] == "'" and len(text) > 1 and text[1] in FORMULA_TRIGGERS:
            text = text[1:].strip()
        return text
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


def csv_encoding(fileobj) -> str:
    """UTF-8 with or without BOM, UTF-16 with BOM, or GB18030 (what Chinese Excel saves as CSV):
    the first that decodes the whole file, read in chunks (memory stays bounded). Leaves the file
    at its start."""
    fileobj.seek(0)
    head = fileobj.read(READ_CHUNK)
    if head.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in head[:65536]:
        raise FileProblem("file_not_text")
    else:
        candidates = ["utf-8", "gb18030"]
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        fileobj.seek(0)
        try:
            for chunk in iter(lambda: fileobj.read(READ_CHUNK), b""):
                if "\x00" in decoder.decode(chunk):
                    raise FileProblem("file_not_text")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        finally:
            fileobj.seek(0)
        return encoding
    raise FileProblem("file_encoding")


def decoded_lines(fileobj, encoding: str) -> Iterator[str]:
    """The file's text line by line, each with its line end (\\r\\n, \\n or \\r), decoded a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    pending = ""
    for chunk in iter(lambda: fileobj.read(READ_CHUNK), b""):
        text = pending + decoder.decode(chunk)
        start = 0
        for end in LINE_END.finditer(text):
            if end.end() == len(text) and end.group() == "\r":
                break  # perhaps the first half of a \r\n cut by the chunk
            yield text[start:end.end()]
            start = end.end()
        pending = text[start:]
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


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


def open_csv(fileobj) -> Table:
    """A CSV read as a stream: the file is decoded and parsed a chunk at a time, whatever its size."""
    fileobj.seek(0)
    if not fileobj.read(READ_CHUNK).strip():
        raise FileProblem("file_empty")
    encoding = csv_encoding(fileobj)
    lines = decoded_lines(fileobj, encoding)
    first_line = next(lines, "")
    delimiter = max([",", "\t", ";"], key=first_line.count)
    reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter)
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

    return Table(header, rows(), estimated_rows=line_count(fileobj, position=fileobj.tell()))


def line_count(fileobj, *, position: int) -> int:
    """The file's line ends less the header's, counted in chunks; the file is left at `position`."""
    fileobj.seek(0)
    count = sum(chunk.count(b"\n") for chunk in iter(lambda: fileobj.read(READ_CHUNK), b""))
    fileobj.seek(position)
    return max(count - 1, 0)


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


def upload_format(upload: UploadedFile, *, max_bytes: int = MAX_BYTES) -> str:
    """The format of an uploaded file, by its name, once its size is within `max_bytes`; the upload
    is rewound for reading. Raises FileProblem."""
    fmt = EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    if fmt is None:
        raise FileProblem("file_type")
    if upload.size is not None and upload.size > max_bytes:
        raise FileProblem("file_size", limit=max_bytes // (1024 * 1024))
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
    return open_csv(fileobj)


def chunked(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
