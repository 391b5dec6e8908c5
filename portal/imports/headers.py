"""Finding the known columns in a file's header row, however people spell them."""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from portal.imports.reading import FileProblem


@dataclass(frozen=True)
class Column:
    key: str  # the field it fills, also accepted as the English header
    header: str  # the Chinese header written by exports and the template file
    required: bool = False  # the header row must have it
    aliases: tuple[str, ...] = ()


def header_token(text: Any) -> str:
    """Header cells as people type them: full-width brackets, spaces, a * marking required."""
    text = unicodedata.normalize("NFKC", "" if text is None else str(text))
    return "".join(text.split()).rstrip("*").lower()


def header_keys(columns: Sequence[Column]) -> dict[str, str]:
    """Every accepted spelling of every column's header, normalised, to the column's key."""
    return {header_token(name): column.key for column in columns
            for name in (column.key, column.header, *column.aliases)}


@dataclass
class HeaderMap:
    """Which column of the file holds which field, and the header text the user wrote for it."""

    index: dict[str, int]
    text: dict[str, str]
    ignored: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # the standard header of each key

    def column_name(self, key: str) -> str:
        return self.text.get(key) or self.headers.get(key, key)


def map_header(header: Sequence[Any], columns: Sequence[Column]) -> HeaderMap:
    """Find each known column in the header row; refuse duplicates and missing required columns."""
    keys = header_keys(columns)
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
