"""How the registry finds what people type: one folded text per firm, and words matched in it.

Each firm keeps `search_text`, filled whenever it is written (Enterprise.save, the import's
batches, the benchmarks' bulk builds): its name, credit code, address, contact person and phone,
the names of its region and the regions above, and the pinyin initials of its name (恒泰食品 →
htsp), all folded alike: NFKC (full-width letters, digits and spaces become half-width),
traditional characters to simplified (OpenCC), lower case. A query is folded the same way and cut
into words at blanks (a full-width space too) and list punctuation; a firm matches when every word
occurs somewhere in its text, in any order. A credit-code fragment is one such word, so it matches
anywhere in the code.

On PostgreSQL a trigram GIN index on search_text serves words of three characters and more; a
two-character word (most Chinese words: 恒泰, 食品) has no trigram, so each firm also keeps the
distinct character pairs of its text (`search_pairs`, blank-separated) under a GIN index on
string_to_array(search_pairs, ' ') (migration 0007). They are stored, not computed in the query:
PostgreSQL rechecks every candidate row of a bitmap, and a function building pairs per row made a
two-word search over a province take seconds. SQLite reads the columns.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.db.models import F, Func, Q, QuerySet, Value

WORD_SEPARATORS = re.compile(r"[\s,，、;；|]+")
MAX_WORDS = 8
MAX_WORD_LENGTH = 64


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """Half-width, simplified, lower case: how both the stored text and a query are compared."""
    text = unicodedata.normalize("NFKC", text or "")
    if any(ord(char) > 0x2E7F for char in text):
        text = _converter().convert(text)
    return text.lower()


@lru_cache(maxsize=16384)
def _initial(char: str) -> str:
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.FIRST_LETTER, errors="ignore")
    return found[0][0] if found else ""


def initials(name: str) -> str:
    """The pinyin initials of the Chinese characters of a (folded) name: 恒泰食品有限公司 → htspyxgs.

    Character by character (cached), so building a million firms' texts stays quick; other
    characters are left out, they are in the text already.
    """
    return "".join(_initial(char) for char in name if "\u4e00" <= char <= "\u9fff")


@lru_cache(maxsize=8192)
def fold_region(name: str) -> str:
    """A region's folded name: the same few thousand names recur in every firm's text."""
    return fold(name)


def fold_parts(parts: Iterable[str]) -> list[str]:
    """fold() of each part, with one OpenCC call for all of them (the call, not the characters,
    is what costs when a million firms are written); blanks inside a part become plain spaces."""
    normalised = [" ".join(unicodedata.normalize("NFKC", part or "").split()) for part in parts]
    joined = "\n".join(normalised)
    if any(ord(char) > 0x2E7F for char in joined):
        normalised = _converter().convert(joined).split("\n")
    return [part.lower() for part in normalised]


def search_text(*, uscc: str, name: str, address: str = "", contact_name: str = "", contact_phone: str = "",
                region_names: Iterable[str] = ()) -> str:
    """The folded text a firm is found by; parts are separated by a blank, which no query word holds."""
    folded_name, folded_address, folded_contact, folded_phone = fold_parts([name, address, contact_name,
                                                                            contact_phone])
    parts = [folded_name, (uscc or "").lower(), folded_address, folded_contact, folded_phone,
             *(fold_region(region) for region in region_names), initials(folded_name)]
    return " ".join(part for part in parts if part)


def pairs(text: str) -> str:
    """The distinct pairs of adjacent characters of a folded text, blank-separated (none holds a blank)."""
    found = {part[i:i + 2] for part in text.split() for i in range(len(part) - 1)}
    return " ".join(sorted(found))


def words(query: str) -> list[str]:
    """The folded words of a query, longest first (the most selective one leads the plan), at most
    MAX_WORDS of at most MAX_WORD_LENGTH characters: a pasted paragraph cannot make a huge query."""
    found = [word[:MAX_WORD_LENGTH] for word in WORD_SEPARATORS.split(fold(query)) if word]
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=len, reverse=True)[:MAX_WORDS]


class PairArray(Func):
    """string_to_array(search_pairs, ' '): the expression the pair index is built on."""

    function = "string_to_array"
    output_field = ArrayField(models.TextField())

    def __init__(self, field: str):
        super().__init__(F(field), Value(" "))


def matching(queryset: QuerySet, query: str, field: str = "search_text", also: Iterable[str] = (),
             implied: Iterable[str] = ()) -> QuerySet:
    """Rows of `queryset` whose `field` (a firm's search_text, or one reached through a relation)
    contains every word of `query`; with `also`, a word may instead be in one of those text fields
    of the row itself (a need's or a case's title).

    `implied`: names every row of `queryset` has in its text (the jurisdiction's region: a firm's
    text holds the names of its region and those above). A word inside one of them holds for every
    row, so it is not tested: 石家庄 in a Shijiazhuang regulator's "石家庄 恒泰" would otherwise make
    the database read the trigram entries of the whole city to remove nothing."""
    also = list(also)
    implied = [fold(name) for name in implied if name]
    for word in words(query):
        if not also and any(word in name for name in implied):
            continue
        if len(word) == 2 and not also and connection.vendor == "postgresql":
            # The pair index alone, no LIKE beside it: a two-character word (no blank in it) is in
            # the text exactly when it is one of the pairs of a blank-free part of it, and a LIKE
            # repeating the test made the planner count the same selectivity twice, expect a
            # common word in a few hundred firms, and read a province's index to narrow them.
            pairs_field = field.removesuffix("search_text") + "search_pairs"
            queryset = queryset.alias(_pairs=PairArray(pairs_field)).filter(_pairs__contains=[word])
            continue
        condition = Q(**{f"{field}__contains": word})
        for other in also:
            condition |= Q(**{f"{other}__icontains": word})
        queryset = queryset.filter(condition)
    return queryset
