"""Export of the registry to CSV and XLSX, in the columns the import reads back.

Values that a spreadsheet would evaluate get a ' in front (portal.exports.neutralise, the one
neutraliser of every export); the import takes it off again, so an exported file re-imports to
the same values.
"""

import codecs
import csv
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet

from enterprises.importing import BOOLEAN_KEYS, COLUMNS
from enterprises.models import Enterprise
from portal.exports import neutralise

SIZE_WORDS = {
    Enterprise.Size.MICRO: "微型", Enterprise.Size.SMALL: "小型",
    Enterprise.Size.MEDIUM: "中型", Enterprise.Size.LARGE: "大型",
}
# The database columns behind COLUMNS, in the same order: codes straight from the foreign keys.
VALUE_FIELDS = [{"region": "region_id", "industry": "industry_id"}.get(c.key, c.key) for c in COLUMNS]
HEADERS = [column.header for column in COLUMNS]
BOOLEAN_POSITIONS = {index for index, column in enumerate(COLUMNS) if column.key in BOOLEAN_KEYS}
SIZE_POSITION = [column.key for column in COLUMNS].index("size")
CHUNK_ROWS = 2_000
# Column widths of the XLSX sheet, in Excel's units (a Chinese character takes about two): wide
# enough for a firm's full name or address; other columns fit their Chinese header.
XLSX_WIDTHS = {"name": 38, "address": 40, "uscc": 22, "contact_email": 26, "contact_phone": 16}


def export_rows(enterprises: QuerySet[Enterprise]) -> Iterator[list[Any]]:
    """Each firm as a list of cell values: text neutralised, numbers left as numbers."""
    for values in enterprises.values_list(*VALUE_FIELDS).iterator(chunk_size=CHUNK_ROWS):
        row = list(values)
        row[SIZE_POSITION] = SIZE_WORDS.get(row[SIZE_POSITION], row[SIZE_POSITION])
        for position in BOOLEAN_POSITIONS:
            row[position] = "是" if row[position] else "否"
        yield [neutralise(value) for value in row]


class _Echo:
    """A file whose write() hands the line back, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def csv_chunks(enterprises: QuerySet[Enterprise]) -> Iterator[bytes]:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly; yielded a few hundred rows at a time."""
    writer = csv.writer(_Echo())
    yield codecs.BOM_UTF8 + writer.writerow(HEADERS).encode("utf-8")
    lines: list[str] = []
    for row in export_rows(enterprises):
        lines.append(writer.writerow([csv_text(value) for value in row]))
        if len(lines) >= 500:
            yield "".join(lines).encode("utf-8")
            lines = []
    if lines:
        yield "".join(lines).encode("utf-8")


def write_xlsx(enterprises: QuerySet[Enterprise], target: IO[bytes]) -> None:
    """A write-only workbook (rows go straight to disk), text cells typed as text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="企业名录")
    sheet.freeze_panes = "A2"
    for index, column in enumerate(COLUMNS, start=1):
        width = max(XLSX_WIDTHS.get(column.key, 10), 2 * len(column.header) + 2)
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)

    def as_cell(value: Any) -> Any:
        # openpyxl itself would store "=..." as a formula and "#N/A" as an error value: those
        # (and every neutralised value) are written as explicit text cells.
        if isinstance(value, str) and value[:1] in ("'", "=", "#"):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    for row in export_rows(enterprises):
        sheet.append([as_cell(value) for value in row])
    workbook.save(target)
