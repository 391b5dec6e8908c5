"""Where a campaign's figures come from: one Source per table, its rows, where and when they count.

Each source is aggregated by the database at the finest grain its figures allow: the additive
ones (counts and sums) by the region code a row is filed under and the month of its event, kept
as cells (KpiCell) that add up to every region and period; the distinct ones (firms, key
industries, certified firms: a firm with two cases is one firm) by region at every level, since
such counts do not add up from counties to a city, nor from months to date.

A restriction (`Scope`) narrows a source to some region codes and months, which is all an
incremental update recounts.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import CharField, Count, F, Min, Q, QuerySet, Sum, Value
from django.db.models.functions import Concat, Substr, TruncMonth
from django.utils import timezone

from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.models import Certification, NeedRequest, NeedsSurvey

Breakdown = KpiSnapshot.Breakdown
LEVELS = {"province": 2, "city": 4, "county": 6}


@dataclass
class Source:
    """One table's aggregates: which rows, where they count, when, and what is measured."""

    name: str
    rows: QuerySet
    region: str  # path to the region code
    when: str  # path to the date (or datetime) that places a row in a month
    measures: dict
    breakdowns: dict[str, str] = field(default_factory=dict)  # breakdown → path of its key
    distinct: bool = False  # counts of distinct firms: grouped at every level, never added up


@dataclass
class Scope:
    """What a recount covers: some region codes (as rows are filed), some months ("YYYY-MM"); None
    is everything."""

    codes: set[str] | None = None
    months: set[str] | None = None


def sources(campaign: Campaign) -> dict[str, Source]:
    start, end = campaign.starts_on, campaign.ends_on
    cases = AssistanceCase.objects.filter(campaign=campaign)
    firm_breakdowns = {Breakdown.INDUSTRY: "enterprise__industry__parent", Breakdown.SIZE: "enterprise__size"}
    needs = NeedRequest.objects.filter(enterprise__region__code__startswith=campaign.region.prefix,
                                       submitted_at__date__gte=start, submitted_at__date__lte=end)
    scope = list(campaign.service_areas.values_list("code", flat=True))
    if scope:
        needs = needs.filter(service_area__in=scope)
    key = Q(enterprise__is_key=True)
    closed = Q(status=AssistanceCase.Status.CLOSED)
    found = [
        Source("cases", cases, "enterprise__region", "opened_at", {
            "cases": Count("pk"),
            "firms_assisted": Count("enterprise", distinct=True),
            "key_firms_assisted": Count("enterprise", distinct=True, filter=key),
            "key_industries": Count("enterprise__industry", distinct=True, filter=key),
        }, firm_breakdowns, distinct=True),
        Source("closed", cases.filter(closed), "enterprise__region", "closed_at", {
            "cases_closed": Count("pk"),
            "cases_resolved": Count("pk", filter=Q(resolution=AssistanceCase.Resolution.RESOLVED)),
            "certificates_obtained": Count("pk", filter=Q(certificate_obtained=True)),
            "standards_drafted": Count("pk", filter=Q(standard_drafted=True)),
            "excellence_models": Count("pk", filter=Q(excellence_model_adopted=True)),
            "labs_set_up": Count("pk", filter=Q(lab_set_up=True)),
            "money_saved": Sum("money_saved"),
        }),
        Source("visits", Visit.objects.filter(case__campaign=campaign), "case__enterprise__region", "visited_on", {
            "visits": Count("pk"),
            "on_site_visits": Count("pk", filter=Q(mode=Visit.Mode.ON_SITE)),
            "consultations": Count("pk", filter=Q(mode__in=[Visit.Mode.REMOTE, Visit.Mode.MOBILE_CLINIC])),
            "visit_hours": Sum("hours"),
        }, {Breakdown.INDUSTRY: "case__enterprise__industry__parent", Breakdown.SIZE: "case__enterprise__size"}),
        Source("needs", needs, "enterprise__region", "submitted_at", {
            "needs_received": Count("pk"),
            "needs_fulfilled": Count("pk", filter=Q(status=NeedRequest.Status.FULFILLED)),
            "needs_declined": Count("pk", filter=Q(status=NeedRequest.Status.DECLINED)),
        }, {**firm_breakdowns, Breakdown.SERVICE_AREA: "service_area"}),
        # A need answered by a visited case of the campaign: counted in Python from one grouped
        # read (`answered_cells`), since its wait is an aggregate of an aggregate.
        Source("answered", NeedRequest.objects.filter(cases__campaign=campaign), "enterprise__region",
               "submitted_at", {"needs_visited": None, "wait": None}),
        Source("certified", Certification.objects.filter(enterprise__in=cases.values("enterprise"),
                                                         issued_on__gte=start, issued_on__lte=end),
               "enterprise__region", "issued_on", {"firms_certified": Count("enterprise", distinct=True)},
               firm_breakdowns, distinct=True),
        Source("ratings", CaseRating.objects.filter(case__campaign=campaign), "case__enterprise__region",
               "rated_at", {"ratings": Count("pk"), "rating_sum": Sum("score"),
                            "satisfied": Count("pk", filter=Q(score__gte=4))}),
        Source("surveys", NeedsSurvey.objects.filter(campaign=campaign, kind=NeedsSurvey.Kind.FOLLOW_UP),
               "enterprise__region", "answered_at", {
                   "surveys": Count("pk"),
                   "awareness_up": Count("pk", filter=Q(awareness_improved=True)),
                   "performance_up": Count("pk", filter=Q(performance_improved=True)),
                   "revenue_answers": Count("revenue_change_pct"),
                   "revenue_sum": Sum("revenue_change_pct"),
                   "output_answers": Count("output_change_pct"),
                   "output_sum": Sum("output_change_pct"),
                   "margin_answers": Count("profit_margin_change_pct"),
                   "margin_sum": Sum("profit_margin_change_pct"),
               }),
        Source("sessions", TrainingSession.objects.filter(campaign=campaign), "region", "held_on",
               {"training_sessions": Count("pk")}, {Breakdown.SERVICE_AREA: "service_area"}),
        Source("attendance", TrainingAttendance.objects.filter(session__campaign=campaign), "session__region",
               "session__held_on", {"firm_times": Count("pk"), "person_times": Sum("persons")}, firm_breakdowns),
    ]
    return {source.name: source for source in found}


# --- Months ----------------------------------------------------------------------------------------


def month_key(value) -> str:
    """"YYYY-MM" of a date, or of a datetime in the portal's time zone."""
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m}" if isinstance(value, (date, datetime)) else str(value)[:7]


def month_bounds(month: str) -> tuple[date, date]:
    """The first day of the month and of the next one."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    return first, (first + timedelta(days=32)).replace(day=1)


def in_months(path: str, months: Iterable[str], *, is_datetime: bool) -> Q:
    """Rows whose `path` falls in one of `months` (local time for a datetime)."""
    wanted = Q(pk__in=[])
    for month in sorted(set(months)):
        first, following = month_bounds(month)
        if is_datetime:
            tz = timezone.get_current_timezone()
            first = datetime.combine(first, datetime.min.time(), tzinfo=tz)
            following = datetime.combine(following, datetime.min.time(), tzinfo=tz)
        wanted |= Q(**{f"{path}__gte": first, f"{path}__lt": following})
    return wanted


def when_is_datetime(source: Source) -> bool:
    model = source.rows.model
    for part in source.when.split("__"):
        field_ = model._meta.get_field(part)
        model = field_.related_model or model
    return field_.get_internal_type() == "DateTimeField"


def restrict(source: Source, scope: Scope) -> QuerySet:
    rows = source.rows
    if scope.codes is not None:
        rows = rows.filter(**{f"{source.region}__in": sorted(scope.codes)})
    if scope.months is not None:
        rows = rows.filter(in_months(source.when, scope.months, is_datetime=when_is_datetime(source)))
    return rows.order_by()


# --- Aggregates ------------------------------------------------------------------------------------


def code_at(path: str, width: int):
    """The region code of `path` cut to a level: 130102 → 130100 (city) → 130000 (province)."""
    if width == 6:
        return F(path)
    return Concat(Substr(path, 1, width), Value("0" * (6 - width)), output_field=CharField())


def places(code: str, widths: Iterable[int]) -> list[str]:
    """The regions a row filed under `code` counts in: its province, its city unless the code is
    the province's own, its county unless the code is a city's or the province's own."""
    return [code[:width] + "0" * (6 - width) for width in widths
            if not (width == 4 and code.endswith("0000")) and not (width == 6 and code.endswith("00"))]


def grouped(rows: QuerySet, source: Source, *, code, by_month: bool, breakdown_path: str | None) -> Iterator[dict]:
    group = {"code": code}
    if by_month:
        group["month"] = TruncMonth(source.when)
    if breakdown_path:
        group["bkey"] = F(breakdown_path)
    yield from rows.annotate(**group).values(*group).annotate(**source.measures)


def cell_key(row: dict, by_month: bool) -> tuple[str, str]:
    return (month_key(row["month"]) if by_month else "", "" if row.get("bkey") is None else str(row.get("bkey")))


def additive_cells(source: Source, scope: Scope, *, breakdown_codes: set[str] | None) -> dict[tuple, dict]:
    """(code, month, "", "") → measures of the rows filed under each code in each month, and
    (code, "", breakdown, key) → measures to date for the codes in `breakdown_codes` (None: all)."""
    cells: dict[tuple, dict] = {}
    if source.name == "answered":
        return answered_cells(source, scope, breakdown_codes=breakdown_codes)
    rows = restrict(source, scope)
    for row in grouped(rows, source, code=F(source.region), by_month=True, breakdown_path=None):
        month, _ = cell_key(row, True)
        cells[(row["code"], month, "", "")] = {name: row[name] for name in source.measures}
    if source.breakdowns and breakdown_codes != set():
        rows = restrict(source, Scope(codes=breakdown_codes))
        for breakdown, path in source.breakdowns.items():
            for row in grouped(rows, source, code=F(source.region), by_month=False, breakdown_path=path):
                _, bkey = cell_key(row, False)
                cells[(row["code"], "", breakdown, bkey)] = {name: row[name] for name in source.measures}
    return cells


def answered_cells(source: Source, scope: Scope, *, breakdown_codes=None) -> dict[tuple, dict]:
    """Needs answered by a case of the campaign that has been visited: how many, and the days from
    each one's submission to the first visit of such a case, by the need's firm's code and month.
    One grouped read (need → its campaign cases → their visits, the earliest per need): a need
    answered by two of the campaign's cases is one need, waiting for the earlier visit."""
    rows = (restrict(source, scope).annotate(first=Min("cases__visits__visited_on")).filter(first__isnull=False)
            .values_list(source.region, "submitted_at", "first"))
    cells: dict[tuple, dict] = defaultdict(lambda: {"needs_visited": 0, "wait": 0})
    for code, submitted_at, first in rows:
        submitted = timezone.localtime(submitted_at)
        cell = cells[(code, month_key(submitted), "", "")]
        cell["needs_visited"] += 1
        cell["wait"] += (first - submitted.date()).days
    return dict(cells)


def distinct_figures(source: Source, width: int, *, prefixes: set[str] | None, months: set[str] | None,
                     to_date: bool) -> dict[tuple, dict]:
    """(region, period, breakdown, key) → the distinct counts of the regions at one level: for
    those regions whose prefix is given (None: all), to date and for each month in `months` (None:
    every month)."""
    rows = source.rows.order_by()
    # A firm filed under a city or province code itself counts in that city's and province's
    # totals but is no county's (and one filed under the province's code is no city's): its code
    # would collide with the city's (the province's) own row.
    if width == 6:
        rows = rows.exclude(**{f"{source.region}__code__endswith": "00"})
    elif width == 4:
        rows = rows.exclude(**{f"{source.region}__code__endswith": "0000"})
    if prefixes is not None:
        wanted = Q(pk__in=[])
        for prefix in prefixes:
            wanted |= Q(**{f"{source.region}__code__startswith": prefix})
        rows = rows.filter(wanted)
    code = code_at(source.region, width)
    found: dict[tuple, dict] = {}
    monthly = rows if months is None else rows.filter(
        in_months(source.when, months, is_datetime=when_is_datetime(source)))
    if months is None or months:
        for row in grouped(monthly, source, code=code, by_month=True, breakdown_path=None):
            found[(row["code"], *cell_key(row, True)[:1], "", "")] = {n: row[n] for n in source.measures}
    if to_date:
        for row in grouped(rows, source, code=code, by_month=False, breakdown_path=None):
            found[(row["code"], "", "", "")] = {n: row[n] for n in source.measures}
        for breakdown, path in source.breakdowns.items():
            for row in grouped(rows, source, code=code, by_month=False, breakdown_path=path):
                found[(row["code"], "", breakdown, cell_key(row, False)[1])] = {n: row[n] for n in source.measures}
    return found
