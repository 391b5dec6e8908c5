"""Rules for single cells that every kind of import shares: bounded text, e-mail, yes or no, a
date, a decimal number.

Each raises CellProblem with a code the report turns into a sentence (portal/imports/report.py).
"""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from portal.imports.reading import FALSE_WORDS, TRUE_WORDS, CellProblem, cell_text


def within(text: str, limit: int) -> str:
    """`text`, or too_long when it does not fit a column of `limit` characters."""
    if len(text) > limit:
        raise CellProblem("too_long", limit=limit, count=len(text))
    return text


def email_cell(text: str, limit: int) -> str:
    """An e-mail address, or empty; email_invalid when it is not one."""
    email = within(text, limit)
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise CellProblem("email_invalid", value=email) from error
    return email


def yes_no_cell(raw: Any, *, yes: frozenset[str] = frozenset(), no: frozenset[str] = frozenset(),
                blank: bool | None = False) -> bool | None:
    """是/否, yes/no, 1/0, true/false (and a kind's own words); an empty cell gives `blank`."""
    if isinstance(raw, bool):
        return raw
    text = cell_text(raw).lower()
    if not text:
        return blank
    if text in TRUE_WORDS or text in yes:
        return True
    if text in FALSE_WORDS or text in no:
        return False
    raise CellProblem("boolean_invalid", value=cell_text(raw))


DATE_TEXT = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T].*)?$")


def date_cell(raw: Any, *, required: bool = False) -> date | None:
    """A day: a spreadsheet date, or 2010-04-02, 2010/4/2, 2010.4.2, 2010年4月2日; date_invalid otherwise."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = cell_text(raw)
    if not text:
        if required:
            raise CellProblem("date_required")
        return None
    match = DATE_TEXT.match(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(*(int(part) for part in match.groups()))
    except ValueError as error:
        raise CellProblem("date_invalid", value=text) from error


def decimal_cell(raw: Any, *, low: Decimal, high: Decimal, places: int = 2) -> Decimal | None:
    """A number from `low` to `high` (a trailing % and thousands commas allowed), rounded to
    `places` decimals; empty gives None; number_invalid otherwise."""
    text = cell_text(raw).replace(",", "").replace("，", "").rstrip("%％").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as error:
        raise CellProblem("number_invalid", value=cell_text(raw), low=low, high=high) from error
    if not number.is_finite() or not low <= number <= high:
        raise CellProblem("number_invalid", value=cell_text(raw), low=low, high=high)
    return number.quantize(Decimal(1).scaleb(-places))
