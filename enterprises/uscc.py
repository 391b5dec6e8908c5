"""The Unified Social Credit Code (统一社会信用代码) of GB 32100-2015.

18 characters from a 31-character alphabet: position 1 the registering authority, 2 the kind of
organisation, 3-8 the registering region's GB/T 2260 code, 9-17 the organisation code, and 18 a
check character computed from the first 17.
"""

import random
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {char: value for value, char in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]
LENGTH = 18


def check_character(first17: str) -> str:
    total = sum(VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def normalise(code: str) -> str:
    """Upper-case and strip spaces: people type codes in lower case and with blanks, and with a
    Chinese input method in full-width characters (９１３５...), read as their ASCII twins (NFKC)."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def validate_uscc(code: str) -> None:
    """Raise ValidationError with a message saying which rule the code breaks."""
    if len(code) != LENGTH:
        raise ValidationError(
            _("A credit code has 18 characters; this one has %(count)d."),
            code="uscc_length", params={"count": len(code)},
        )
    forbidden = sorted({char for char in code if char not in VALUES})
    if forbidden:
        raise ValidationError(
            _("A credit code cannot contain %(chars)s (allowed: digits and letters except I, O, S, V, Z)."),
            code="uscc_character", params={"chars": "、".join(forbidden)},
        )
    if check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character (the 18th) does not match the first 17; please look for a typo."),
            code="uscc_check",
        )


def region_code_of(code: str) -> str:
    """Characters 3-8: the code of the region where the organisation was registered."""
    return code[2:8]


def organisation_code_check(first8: str) -> str:
    """The GB 11714 check character of the 9-character organisation code inside a credit code."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(char, 36) * weight for char, weight in zip(first8, weights, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def generate_uscc(region_code: str, rng: random.Random | None = None) -> str:
    """A valid credit code of an enterprise (91…) registered in `region_code` (demo data, tests)."""
    rng = rng or random.Random()
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    first17 = "91" + region_code + body + organisation_code_check(body)
    return first17 + check_character(first17)
