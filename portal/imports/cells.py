"""Rules for single cells that every kind of import shares: bounded text, e-mail, yes or no.

Each raises CellProblem with a code the report turns into a sentence (portal/imports/report.py).
"""

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
