"""The formula-safe export cell (portal/exports.py): every trigger a spreadsheet evaluates, and back."""

import pytest

from enterprises import exporting
from portal.exports import neutralise
from portal.imports.reading import cell_text

# What Excel and WPS take for the start of a formula, and the full-width forms a Chinese input method
# types in their place.
TRIGGERS = {
    "equals": "=",
    "plus": "+",
    "minus": "-",
    "at": "@",
    "tab": "\t",
    "carriage return": "\r",
    "full-width equals": "＝",
    "full-width plus": "＋",
    "full-width minus": "－",
    "full-width at": "＠",
}


@pytest.mark.parametrize("trigger", TRIGGERS.values(), ids=TRIGGERS.keys())
def test_text_starting_with_a_trigger_gets_a_quote(trigger):
    value = trigger + 'HYPERLINK("http://evil.example","点击")'
    assert neutralise(value) == "'" + value


def test_the_registry_export_uses_the_one_neutraliser():
    assert exporting.neutralise is neutralise


@pytest.mark.parametrize("trigger", TRIGGERS.values(), ids=TRIGGERS.keys())
def test_a_neutralised_cell_reads_back_as_the_value(trigger):
    value = trigger + "1+1"
    assert cell_text(neutralise(value)) == value.strip()


@pytest.mark.parametrize("value", ["石家庄恒泰食品有限公司", "A=B", "质量-提升", "a@b.cn", " =1", "'=1", "", "１２３"])
def test_other_text_is_left_alone(value):
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [-5, -0.5, 0, None, True])
def test_numbers_and_other_values_are_left_alone(value):
    assert neutralise(value) is value
