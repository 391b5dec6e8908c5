"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validator and generator."""

import random

import pytest
from django.core.exceptions import ValidationError

from enterprises.uscc import (
    ALPHABET,
    check_character,
    generate_uscc,
    normalise,
    organisation_code_check,
    region_code_of,
    validate_uscc,
)

# The worked example of GB 32100-2015: an enterprise (91) registered in 福州 (350100) whose
# organisation code is M000100Y-4 and whose check character is 3.
STANDARD_EXAMPLE = "91350100M000100Y43"


def error_code(code: str) -> str:
    with pytest.raises(ValidationError) as raised:
        validate_uscc(code)
    return raised.value.code


def test_it_accepts_the_example_code_of_the_standard():
    validate_uscc(STANDARD_EXAMPLE)


def test_the_region_code_is_characters_three_to_eight():
    assert region_code_of(STANDARD_EXAMPLE) == "350100"


def test_normalise_removes_blanks_and_upper_cases():
    assert normalise(" 9135 0100 m000100y43\t") == STANDARD_EXAMPLE
    validate_uscc(normalise("91350100m000100y43"))


@pytest.mark.parametrize("code", ["", STANDARD_EXAMPLE[:17], STANDARD_EXAMPLE + "3", "9135"])
def test_it_rejects_a_credit_code_of_the_wrong_length(code):
    assert error_code(code) == "uscc_length"


def test_the_length_message_says_how_many_characters_were_typed():
    with pytest.raises(ValidationError) as raised:
        validate_uscc(STANDARD_EXAMPLE[:17])
    assert "17" in raised.value.messages[0]


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_it_rejects_a_credit_code_with_a_letter_outside_the_alphabet(letter):
    code = STANDARD_EXAMPLE[:9] + letter + STANDARD_EXAMPLE[10:]
    assert error_code(code) == "uscc_character"


@pytest.mark.parametrize("code", ["91350100m000100y43", "91350100M000100Y4-", "91350100M00010 Y43"])
def test_it_rejects_lower_case_and_punctuation_unless_normalised_first(code):
    assert error_code(code) == "uscc_character"


def test_the_character_message_names_the_offending_characters():
    with pytest.raises(ValidationError) as raised:
        validate_uscc("9135O100M000100I43")
    assert "I、O" in raised.value.messages[0]


def test_it_rejects_a_credit_code_with_a_wrong_check_character():
    wrong = STANDARD_EXAMPLE[:17] + ("4" if STANDARD_EXAMPLE[17] != "4" else "5")
    assert error_code(wrong) == "uscc_check"


def test_it_detects_every_single_character_typo_in_a_valid_code():
    """Weights 3^i mod 31 are never 0 mod 31, so any one substituted character changes the sum."""
    for position in range(18):
        for char in ALPHABET:
            if char == STANDARD_EXAMPLE[position]:
                continue
            typo = STANDARD_EXAMPLE[:position] + char + STANDARD_EXAMPLE[position + 1:]
            assert error_code(typo) == "uscc_check", typo


def test_check_character_of_the_standard_example():
    assert check_character(STANDARD_EXAMPLE[:17]) == "3"


@pytest.mark.parametrize(
    ("first8", "check"),
    [("M000100Y", "4"), ("D2143569", "X")],  # the USCC example's, and GB 11714's own worked example
)
def test_organisation_code_check_of_known_organisation_codes(first8, check):
    assert organisation_code_check(first8) == check


def test_generate_uscc_always_makes_a_valid_code_carrying_its_region():
    for seed in range(2000):
        rng = random.Random(seed)
        region = f"{rng.randint(11, 82):02d}{rng.randint(0, 99):02d}{rng.randint(0, 99):02d}"
        code = generate_uscc(region, rng)
        validate_uscc(code)
        assert code.startswith("91"), code
        assert region_code_of(code) == region, code
        assert organisation_code_check(code[8:16]) == code[16], code


def test_generate_uscc_without_a_generator_still_makes_valid_codes():
    codes = {generate_uscc("441900") for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        validate_uscc(code)


def test_generate_uscc_is_deterministic_for_a_seeded_generator():
    assert generate_uscc("130102", random.Random(7)) == generate_uscc("130102", random.Random(7))
    assert generate_uscc("130102", random.Random(7)) != generate_uscc("130102", random.Random(8))
