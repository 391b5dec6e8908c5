"""Cells people open in a spreadsheet: text that Excel or WPS would take for a formula (a leading
= + - @, tab or carriage return, or the full-width ＝ ＋ － ＠ a Chinese input method types instead)
gets a ' in front (CSV/formula injection); the imports take it off again
(portal.imports.reading.cell_text), so an exported file re-imports to the same values."""

from typing import Any

# A spreadsheet evaluates a cell starting with one of these. The full-width forms are treated alike
# as a precaution: input methods and spreadsheets' autocorrect turn them into the ASCII ones.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralise(value: Any) -> Any:
    """Prefix a ' to text a spreadsheet would take for a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
