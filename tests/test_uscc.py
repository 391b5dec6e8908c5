"""The Unified Social Credit Code (统一社会信用代码, GB 32100-2015) validator and generator."""

import random

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

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


@pytest.mark.parametrize("first", [STANDARD_EXAMPLE[:16], STANDARD_EXAMPLE, ""])
def test_a_check_character_is_only_worked_out_for_exactly_17_characters(first):
    with pytest.raises(ValueError):
        check_character(first)


@pytest.mark.parametrize("first", ["5910001", "591000102", ""])
def test_an_organisation_code_check_is_only_worked_out_for_exactly_8_characters(first):
    with pytest.raises(ValueError):
        organisation_code_check(first)


@pytest.mark.parametrize(
    ("first8", "check"),
    # the USCC example's, GB 11714's own worked example, and weighted sums that are multiples of 11
    # (11 - 0 = 11, written 0)
    [("M000100Y", "4"), ("D2143569", "X"), ("0000000B", "0"), ("00000000", "0")],
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


# --- check character 0 (value 31) and codes of every kind ------------------------------------------

# The weights as GB 32100-2015 prints them, written out rather than computed as the module does.
STANDARD_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

# Published credit codes, one per kind of organisation the first two characters name.
PUBLISHED = {
    "enterprise (91)": "91330100716105852F",
    "enterprise (91), check X": "91320000608319749X",
    "enterprise (91), check digit": "914403001922038216",
    "individual business (92)": "92361130MA386N427K",
    "public institution (12)": "12100000470095016Q",
    "public institution (12), organisation code with X": "12220000X05293527B",
    "social organisation (51)": "51310110501144395U",
    "foundation (53)": "53100000500019795A",
}


def weighted_total(first17: str) -> int:
    return sum(ALPHABET.index(char) * weight for char, weight in zip(first17, STANDARD_WEIGHTS, strict=True))


def with_check_value_31(code: str) -> str:
    """`code` with its 17th character changed so that the weighted sum is a multiple of 31: the check
    value 31 - 0 = 31, which GB 32100 writes as "0". (The 17th weight, 28, is invertible mod 31, so
    exactly one character of the alphabet does it.)"""
    for char in ALPHABET:
        first17 = code[:16] + char
        if weighted_total(first17) % 31 == 0:
            return first17 + "0"
    raise AssertionError("no character makes the sum a multiple of 31")


def test_the_weights_are_those_printed_in_the_standard():
    from enterprises.uscc import WEIGHTS

    assert WEIGHTS == STANDARD_WEIGHTS


@pytest.mark.parametrize("code", PUBLISHED.values(), ids=PUBLISHED.keys())
def test_published_codes_of_every_kind_are_accepted(code):
    validate_uscc(code)
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize("code", PUBLISHED.values(), ids=PUBLISHED.keys())
def test_a_sum_that_is_a_multiple_of_31_has_the_check_character_0(code):
    zero = with_check_value_31(code)
    assert check_character(zero[:17]) == "0"
    validate_uscc(zero)
    for wrong in "1", "Y":  # 31 read as the alphabet's 1 (value 1), or as its last character (value 30)
        assert error_code(zero[:17] + wrong) == "uscc_check"


@pytest.mark.parametrize("code", PUBLISHED.values(), ids=PUBLISHED.keys())
def test_a_published_code_with_its_check_character_changed_is_refused(code):
    for char in ALPHABET:
        if char != code[17]:
            assert error_code(code[:17] + char) == "uscc_check"


# --- properties (hypothesis) ---------------------------------------------------------------------

region_codes = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
first17s = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


@given(region=region_codes, seed=st.integers(min_value=0, max_value=2**32))
def test_every_generated_code_is_valid_and_names_its_region(region, seed):
    code = generate_uscc(region, random.Random(seed))
    validate_uscc(code)
    assert region_code_of(code) == region
    assert organisation_code_check(code[8:16]) == code[16]


@given(first17=first17s)
def test_the_check_character_is_the_standards_for_any_first_17(first17):
    value = 31 - weighted_total(first17) % 31
    assert check_character(first17) == ALPHABET[value % 31]
    validate_uscc(first17 + check_character(first17))


@given(first17=first17s, position=st.integers(min_value=0, max_value=17), data=st.data())
def test_one_wrong_character_is_always_refused(first17, position, data):
    code = first17 + check_character(first17)
    wrong = data.draw(st.sampled_from([char for char in ALPHABET if char != code[position]]))
    typo = code[:position] + wrong + code[position + 1:]
    assert error_code(typo) == "uscc_check"


@given(first17=first17s, position=st.integers(min_value=0, max_value=17),
       wrong=st.sampled_from(list("IOSVZ-·a ")))
def test_a_character_outside_the_alphabet_is_refused_as_such(first17, position, wrong):
    code = first17 + check_character(first17)
    assert error_code(code[:position] + wrong + code[position + 1:]) == "uscc_character"
