"""Rows into PostgreSQL with COPY: its text format and the one call that sends it.

The registry import's batches and the benchmarks' synthetic builds use it: COPY's text (values
separated by tabs, one row a line) costs the driver and the server far less than INSERT
statements of placeholders or arrays of literals, each quoted and parsed.
"""

import io
from datetime import date, datetime
from typing import Any

from django.db import connection


def copy_text(value: Any) -> str:
    """A value in COPY's text format: \\N for NULL, t/f, ISO dates, text with backslash escapes."""
    if isinstance(value, str):
        # Most values hold nothing to escape; four substring tests cost far less than translating.
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def copy_lines(sql: str, data: str) -> None:
    """Send `data` (lines of COPY text) with the COPY ... FROM STDIN statement `sql`."""
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if hasattr(raw, "copy_expert"):  # psycopg2
            # Through Django's wrapper, so a test's query count and DEBUG's log see it.
            cursor.copy_expert(sql, io.StringIO(data), 1 << 20)
        else:  # psycopg 3
            with raw.copy(sql) as copy:
                copy.write(data)


def copy_rows(table: str, columns: list[str], rows: list[list[Any]]) -> None:
    """COPY `rows` (lists of values in the order of `columns`) into `table`, in one go."""
    if not rows:
        return
    quote = connection.ops.quote_name
    data = "".join("\t".join(map(copy_text, row)) + "\n" for row in rows)
    copy_lines(f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN", data)
