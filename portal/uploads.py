"""Uploaded files checked by what they contain, not by their name alone.

- `check_content(upload)`: an attachment's first bytes must be what its extension claims (a PDF
  starts with %PDF-, a .docx is a zip holding [Content_Types].xml, a .txt is text ...), so a Windows
  program renamed invoice.pdf is refused.
- `check_table_file(fileobj, fmt, max_rows=...)`: an import file (CSV or XLSX) is bounded before
  anything parses it in full: for a workbook the declared uncompressed size of the whole and of
  each part, the size and number of shared strings, the rows of the first sheet and no DTD, all read
  as a stream through expat, so memory stays bounded whatever the file holds. Python's zipfile
  stops a member at its declared size (and fails its CRC check), so declared sizes are real bounds.
"""

import codecs
import zipfile
from collections.abc import Iterable
from pathlib import PurePath
from xml.parsers import expat

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# --- Attachments --------------------------------------------------------------------------------

IMAGE = frozenset({"jpeg", "png", "webp", "heic"})
KINDS_BY_EXTENSION = {
    ".pdf": frozenset({"pdf"}),
    ".jpg": IMAGE, ".jpeg": IMAGE, ".png": IMAGE, ".webp": IMAGE, ".heic": IMAGE,
    ".doc": frozenset({"ole"}), ".xls": frozenset({"ole"}),
    ".docx": frozenset({"ooxml"}), ".xlsx": frozenset({"ooxml"}),
    ".txt": frozenset({"text"}),
}
KIND_NAMES = {
    "pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "webp": "WebP", "heic": "HEIC", "ole": "Word/Excel 97-2003",
    "ooxml": "Word/Excel (Office Open XML)", "text": _("plain text"),
}
HEAD_BYTES = 64 * 1024
HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis")


def sniff(head: bytes) -> str | None:
    """The kind of file these first bytes start, or None when none of the accepted kinds."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "heic"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if is_text(head):
        return "text"
    return None


def is_text(head: bytes) -> bool:
    """UTF-8 (with or without BOM) or GB18030 text without NUL or other control bytes."""
    if not head or b"\x00" in head:
        return False
    if any(byte < 0x20 and byte not in (0x09, 0x0a, 0x0c, 0x0d, 0x1a) for byte in head):
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # The head may end in the middle of a character: an incremental decoder allows that.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return True
        except UnicodeDecodeError:
            continue
    return False


def is_ooxml(upload) -> bool:
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            return "[Content_Types].xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        upload.seek(0)


def content_kind(upload) -> str | None:
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = sniff(head)
    if kind == "zip":
        return "ooxml" if is_ooxml(upload) else None
    return kind


def check_content(upload, allowed_kinds: Iterable[str] | None = None) -> str:
    """The upload's kind, checked against its extension (and `allowed_kinds` when given).

    Raises ValidationError naming the file when its content is not what its name says.
    """
    suffix = PurePath(upload.name or "").suffix.lower()
    expected = KINDS_BY_EXTENSION.get(suffix, frozenset())
    if allowed_kinds is not None:
        expected = expected & frozenset(allowed_kinds)
    kind = content_kind(upload)
    if kind is None or kind not in expected:
        raise ValidationError(
            _("%(name)s is not a real %(type)s file: its content does not match its name."),
            code="content_mismatch",
            params={"name": upload.name, "type": " / ".join(sorted(str(KIND_NAMES[k]) for k in expected)) or suffix},
        )
    return kind


# --- Import files -------------------------------------------------------------------------------

# The largest list any import takes (the enterprise registry: a province's million firms as CSV);
# each import keeps its own lower limits (portal.imports.reading.upload_format).
MAX_TABLE_BYTES = 200 * 1024 * 1024
MAX_TABLE_ROWS = 1_000_000
MAX_XLSX_INFLATED_BYTES = 500 * 1024 * 1024
MAX_XLSX_MEMBERS = 1_000
# Workbook parts other than the sheets and shared strings (styles, relations, the workbook) are small.
MAX_XLSX_PART_BYTES = 20 * 1024 * 1024
MAX_SHARED_STRINGS_BYTES = 100 * 1024 * 1024
MAX_SHARED_STRINGS = 1_000_000
MAX_STRING_CHARACTERS = 32_767  # Excel's own limit for one cell
MAX_CELLS_PER_ROW = 500
CHUNK = 64 * 1024

MESSAGES = {
    "xlsx_inflated": _("The workbook would expand to more than %(limit)d MB; save only the enterprise list in it."),
    "xlsx_part": _("A part of the workbook (%(part)s) would expand to more than %(limit)d MB."),
    "xlsx_members": _("The workbook holds more than %(limit)d parts; save only the list in a new workbook."),
    "xlsx_shared_strings": _("The workbook holds more than %(limit)d different texts; split it into smaller files."),
    "xlsx_string_length": _("A cell of the workbook holds more than %(limit)d characters, more than Excel allows."),
    "xlsx_dtd": _("The workbook contains an XML document type declaration, which Excel never writes."),
    "xlsx_cells": _("Row %(line)d has more than %(limit)d filled cells."),
    "too_many_rows": _("The file has more than %(limit)d rows; split it into smaller files."),
    "too_many_lines": _("The file has more than %(limit)d lines; split it into smaller files."),
    "file_size": _("The file is larger than %(limit)d MB; split it into smaller files."),
    "file_unreadable": _("The file cannot be read as an Excel (.xlsx) workbook. Open it in Excel and save it again "
                         "as .xlsx."),
}


class TableRefused(Exception):
    """The import file is refused before it is parsed; `code` and `params` name the reason."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return str(MESSAGES[self.code]) % self.params


def check_table_file(fileobj, fmt: str, *, max_rows: int) -> None:
    """Refuse a CSV or XLSX import file whose size, parts or rows exceed the bounds, reading it as a
    stream. Leaves the file at its start."""
    try:
        fileobj.seek(0)
        if fmt == "xlsx":
            check_xlsx(fileobj, max_rows=max_rows)
        else:
            check_csv(fileobj, max_rows=max_rows)
    finally:
        fileobj.seek(0)


def check_csv(fileobj, *, max_rows: int) -> None:
    size = lines = 0
    # Blank lines are skipped by the readers; allow as many again as rows before refusing.
    max_lines = 2 * max_rows + 1
    for chunk in iter(lambda: fileobj.read(CHUNK), b""):
        size += len(chunk)
        if size > MAX_TABLE_BYTES:
            raise TableRefused("file_size", limit=MAX_TABLE_BYTES // (1024 * 1024))
        lines += chunk.count(b"\n")
        if lines > max_lines:
            raise TableRefused("too_many_lines", limit=max_lines)


class XmlScan:
    """Streams one workbook part through expat with handlers; refuses any DTD."""

    def __init__(self):
        self.parser = expat.ParserCreate()
        self.parser.buffer_text = False
        self.parser.StartDoctypeDeclHandler = self.refuse_dtd
        self.parser.EntityDeclHandler = self.refuse_dtd

    def refuse_dtd(self, *args):
        raise TableRefused("xlsx_dtd")

    def run(self, archive: zipfile.ZipFile, name: str) -> None:
        with archive.open(name) as member:
            for chunk in iter(lambda: member.read(CHUNK), b""):
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].rsplit(" ", 1)[-1].rsplit(":", 1)[-1]


class SharedStringsScan(XmlScan):
    def __init__(self):
        super().__init__()
        self.count = 0
        self.length = 0
        self.parser.StartElementHandler = self.start
        self.parser.CharacterDataHandler = self.text

    def start(self, tag, attrs):
        if local(tag) == "si":
            self.count += 1
            self.length = 0
            if self.count > MAX_SHARED_STRINGS:
                raise TableRefused("xlsx_shared_strings", limit=MAX_SHARED_STRINGS)

    def text(self, data):
        self.length += len(data)
        if self.length > MAX_STRING_CHARACTERS:
            raise TableRefused("xlsx_string_length", limit=MAX_STRING_CHARACTERS)


class SheetScan(XmlScan):
    """Counts the rows holding a value (as the readers do) and the filled cells of each."""

    def __init__(self, max_rows: int):
        super().__init__()
        self.max_rows = max_rows
        self.rows = 0
        self.cells = 0
        self.length = 0
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text

    def start(self, tag, attrs):
        name = local(tag)
        if name == "row":
            self.cells = 0
        elif name in ("v", "is"):
            self.cells += 1
            self.length = 0
            if self.cells > MAX_CELLS_PER_ROW:
                raise TableRefused("xlsx_cells", line=self.rows + 1, limit=MAX_CELLS_PER_ROW)

    def end(self, tag):
        if local(tag) == "row" and self.cells:
            self.rows += 1
            if self.rows > self.max_rows + 1:  # the header row and max_rows rows
                raise TableRefused("too_many_rows", limit=self.max_rows)

    def text(self, data):
        self.length += len(data)
        if self.length > MAX_STRING_CHARACTERS:
            raise TableRefused("xlsx_string_length", limit=MAX_STRING_CHARACTERS)


class FirstSheetScan(XmlScan):
    """Finds the relation id of the workbook's first sheet (xl/workbook.xml)."""

    def __init__(self):
        super().__init__()
        self.relation = None
        self.parser.StartElementHandler = self.start

    def start(self, tag, attrs):
        if local(tag) == "sheet" and self.relation is None:
            self.relation = next((value for key, value in attrs.items() if local(key) == "id"), None)


class RelationsScan(XmlScan):
    def __init__(self):
        super().__init__()
        self.targets: dict[str, str] = {}
        self.parser.StartElementHandler = self.start

    def start(self, tag, attrs):
        if local(tag) == "Relationship" and "Id" in attrs and "Target" in attrs:
            self.targets[attrs["Id"]] = attrs["Target"]


def first_sheet_name(archive: zipfile.ZipFile, names: set[str]) -> str | None:
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    workbook, relations = FirstSheetScan(), RelationsScan()
    workbook.run(archive, "xl/workbook.xml")
    relations.run(archive, "xl/_rels/workbook.xml.rels")
    target = relations.targets.get(workbook.relation or "")
    if not target:
        return None
    name = target.lstrip("/") if target.startswith("/") else str(PurePath("xl") / target)
    return name if name in names else None


def check_xlsx(fileobj, *, max_rows: int) -> None:
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
            if len(members) > MAX_XLSX_MEMBERS:
                raise TableRefused("xlsx_members", limit=MAX_XLSX_MEMBERS)
            if sum(member.file_size for member in members) > MAX_XLSX_INFLATED_BYTES:
                raise TableRefused("xlsx_inflated", limit=MAX_XLSX_INFLATED_BYTES // (1024 * 1024))
            names = {member.filename for member in members}
            sheet = first_sheet_name(archive, names)
            for member in members:
                name = member.filename
                is_sheet = name.startswith("xl/worksheets/")
                limit = (MAX_SHARED_STRINGS_BYTES if name == "xl/sharedStrings.xml"
                         else MAX_XLSX_INFLATED_BYTES if is_sheet else MAX_XLSX_PART_BYTES)
                if member.file_size > limit:
                    raise TableRefused("xlsx_part", part=name, limit=limit // (1024 * 1024))
            if "xl/sharedStrings.xml" in names:
                SharedStringsScan().run(archive, "xl/sharedStrings.xml")
            if sheet is not None:
                SheetScan(max_rows).run(archive, sheet)
            if "xl/styles.xml" in names:
                XmlScan().run(archive, "xl/styles.xml")
    except TableRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, expat.ExpatError,
            NotImplementedError, RuntimeError) as error:
        raise TableRefused("file_unreadable") from error
