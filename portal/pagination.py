"""Keyset pagination, for lists too large to count or to page through by number (the registry
of a province holds a million firms).

A page is "the next N rows after this one" in a total order that ends in the primary key: the
database reads N rows from an index sorted that way, starting at the cursor, however deep the
page. The cursor carries the last (or first) row's sort values. How many rows match is counted
exactly when the planner expects at most EXACT_COUNT_LIMIT, and otherwise given as the planner's
estimate, which the pages show as "约 N" (about N): counting a million rows exactly on every
request would cost more than the page itself. A search, whose row count the planner often
underestimates, is counted exactly up to COUNT_CAP and shown as "more than 1,000" past it, unless
the planner already expects more than EXACT_COUNT_LIMIT matches (a common word in a province).
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import OperationalError, connections, transaction
from django.db.models import F, Model, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan

# Up to this many expected rows the count is exact, if it takes no longer than COUNT_TIMEOUT_MS.
EXACT_COUNT_LIMIT = 10_000
# A count the planner expected to be small but that finds many rows gives up this soon: every
# request of such a list pays it before its page is read.
COUNT_TIMEOUT_MS = 50
# A list whose row count the planner cannot estimate (a search) is counted exactly up to this
# many rows, and past it given as "more than COUNT_CAP".
COUNT_CAP = 1_000


@dataclass
class KeysetPage:
    rows: list
    count: int
    count_is_estimate: bool
    next_cursor: str | None
    previous_cursor: str | None
    count_is_lower_bound: bool = False  # more than `count` rows match

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.previous_cursor)


def planned_rows(queryset: QuerySet) -> int:
    """How many rows the PostgreSQL planner expects the queryset to give (EXPLAIN: no row is read)."""
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))
    return max(int(plan[0]["Plan"]["Plan Rows"]), 1)


def about(rows: int) -> int:
    """An estimate as it is shown: to three figures (约 12,300, not 约 12,327)."""
    return int(float(f"{rows:.3g}"))


def estimated_count(queryset: QuerySet) -> tuple[int, bool]:
    """(rows, is_estimate). On PostgreSQL the planner's estimate (EXPLAIN, no rows read) decides:
    past EXACT_COUNT_LIMIT expected rows it is the answer, rounded to three figures; below it an
    exact COUNT, given COUNT_TIMEOUT_MS: the planner can expect a few hundred rows where a search
    word or a rare certification matches thousands spread over a province, and a count that
    cannot finish in time gives way to the estimate. Elsewhere the exact count."""
    if connections[queryset.db].vendor != "postgresql" or queryset.query.is_empty():
        return queryset.count(), False
    expected = planned_rows(queryset)
    if expected > EXACT_COUNT_LIMIT:
        return about(expected), True
    connection = connections[queryset.db]
    try:
        with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL statement_timeout = {int(COUNT_TIMEOUT_MS)}")
            count = queryset.count()
            cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
    except OperationalError:  # canceled by the timeout; the savepoint's rollback undid the SET
        return expected, True
    return count, False


def capped_count(queryset: QuerySet) -> tuple[int, bool, bool]:
    """(rows, is_estimate, is_lower_bound) of a list the planner may misjudge, such as a search: its
    trigram and pair indexes tell how many firms hold each word, not how many hold all of them in
    one jurisdiction, and an estimate of 249 was seen for 12,327 rows. Counted exactly up to
    COUNT_CAP (reading at most COUNT_CAP + 1 matches, whichever index finds them), past it "more
    than COUNT_CAP". On PostgreSQL the planner is asked first: when it expects more than
    EXACT_COUNT_LIMIT rows (one common word: it knows how many firms hold it) its estimate is the
    answer, as counting them in a province cannot finish in time anyway; otherwise the count gets
    COUNT_TIMEOUT_MS, then gives way to the estimate."""
    capped = queryset.order_by().values("pk")[:COUNT_CAP + 1]
    if connections[queryset.db].vendor != "postgresql":
        count = capped.count()
    else:
        if queryset.query.is_empty():
            return 0, False, False
        expected = planned_rows(queryset)
        if expected > EXACT_COUNT_LIMIT:
            return about(expected), True, False
        connection = connections[queryset.db]
        try:
            with transaction.atomic(using=queryset.db), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = {int(COUNT_TIMEOUT_MS)}")
                count = capped.count()
                cursor.execute("SET LOCAL statement_timeout TO DEFAULT")
        except OperationalError:  # canceled by the timeout; the savepoint's rollback undid the SET
            return expected, True, False
    if count > COUNT_CAP:
        return COUNT_CAP, False, True
    return count, False, False


def _field(model: type[Model], name: str):
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return next(field for field in model._meta.concrete_fields if field.attname == name)


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(row: Model, ordering: tuple[str, ...]) -> str:
    values = [_plain(getattr(row, name.lstrip("-"))) for name in ordering]
    return base64.urlsafe_b64encode(json.dumps(values, ensure_ascii=False).encode()).decode().rstrip("=")


def decode_cursor(text: str, model: type[Model], ordering: tuple[str, ...]) -> list | None:
    """The sort values a cursor carries, or None for one that was not made by encode_cursor."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        if not isinstance(values, list) or len(values) != len(ordering):
            return None
        return [_field(model, name.lstrip("-")).to_python(value) for name, value in zip(ordering, values,
                                                                                        strict=True)]
    except (ValueError, TypeError, binascii.Error, ValidationError, StopIteration):
        return None


def keyset_page(queryset: QuerySet, ordering: tuple[str, ...], *, per_page: int, after: str = "",
                before: str = "", trust_estimate: bool = True) -> KeysetPage:
    """One page of `queryset` in `ordering` (all ascending or all descending, ending in a unique
    field): the rows after the `after` cursor, or before the `before` cursor, or the first ones.
    A cursor that does not decode gives the first page. The same queries whatever `per_page`:
    on PostgreSQL the planner's estimate, an exact count when it is small, the page; elsewhere
    the count and the page. `trust_estimate=False` (a search): the count is capped_count's."""
    descending = ordering[0].startswith("-")
    columns = Tuple(*(F(name.lstrip("-")) for name in ordering))
    lower_bound = False
    if trust_estimate:
        count, is_estimate = estimated_count(queryset)
    else:
        count, is_estimate, lower_bound = capped_count(queryset)
    model = queryset.model
    cursor = decode_cursor(before, model, ordering) if before else None
    backwards = cursor is not None
    if not backwards and after:
        cursor = decode_cursor(after, model, ordering)
    keys = queryset.order_by(*ordering)
    if cursor is not None:
        forwards_lookup = TupleLessThan if descending else TupleGreaterThan
        backwards_lookup = TupleGreaterThan if descending else TupleLessThan
        keys = keys.filter((backwards_lookup if backwards else forwards_lookup)(columns, cursor))
    if backwards:
        keys = keys.reverse()
    # One query: the page's keys chosen in a subquery, then its rows with what they bring along
    # (select_related). When no index gives the filter's rows in order (a certification, a search
    # word in thousands of firms) the database then sorts the matches' keys alone and joins only
    # the page's rows, instead of joining every match before sorting.
    rows_qs = queryset.filter(pk__in=keys.values("pk")[:per_page + 1]).order_by(*ordering)
    if backwards:
        rows_qs = rows_qs.reverse()
    rows = list(rows_qs)
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    first = encode_cursor(rows[0], ordering) if rows else None
    last = encode_cursor(rows[-1], ordering) if rows else None
    if backwards:
        previous_cursor, next_cursor = (first if more else None), last
    else:
        previous_cursor, next_cursor = (first if cursor is not None else None), (last if more else None)
    return KeysetPage(rows=rows, count=count, count_is_estimate=is_estimate, next_cursor=next_cursor,
                      previous_cursor=previous_cursor, count_is_lower_bound=lower_bound)
