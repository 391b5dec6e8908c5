"""Where a campaign's figures come from: one Source per table, its rows, where and when they count.

Each source is aggregated by the database at the finest grain its figures allow: the additive
ones (counts and sums) by the region code a row is filed under and the month of its event, kept
as cells (KpiCell) that add up to every region and period; the distinct ones (firms, key
industries, certified firms: a firm with two cases is one firm) by region at every level, since
such counts do not add up from counties to a city, nor from months to date.

An update recounts the cells of the region codes a change touched, and the distinct counts of the
regions above them; a full count recounts everything.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Substr, TruncDate, TruncMonth
from django.utils import timezone

from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.models import Certification, KeyDesignation, NeedRequest, NeedsSurvey

Breakdown = KpiSnapshot.Breakdown
LEVELS = {"national": 0, "province": 2, "city": 4, "county": 6}
# At each width (but the country's), rows filed under a code ending so are filed under a wider
# region's own code (a session held by the province bureau) and belong to no region of that level.
OWN_CODE_OF_WIDER = {2: "000000", 4: "0000", 6: "00"}


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


# What each distinct source other than the cases counts: the figure of its totals and months, and the
# figure of its breakdown rows (the baseline survey's firms, and per service area the firms wanting it).
DISTINCT_FIGURES = {
    "certified": ("firms_certified", "firms_certified"),
    "surveyed": ("firms_surveyed", "firms_surveyed"),
    "surveyed_certified": ("surveyed_certified", "surveyed_certified"),
    "baseline": ("baseline_surveys", "firms_wanting"),
}


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
    certificates = Certification.objects.filter(issued_on__gte=start, issued_on__lte=end)
    surveys = NeedsSurvey.objects.filter(campaign=campaign)
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
            # One-off savings and savings a year are different quantities: each summed on its own.
            # (Named before money_saved, whose aggregate would otherwise shadow the column.)
            "money_saved_once": Sum("money_saved", filter=~Q(money_saved_period=AssistanceCase.SavingsPeriod.PER_YEAR)),
            "money_saved_per_year": Sum("money_saved",
                                        filter=Q(money_saved_period=AssistanceCase.SavingsPeriod.PER_YEAR)),
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
        Source("certified", certificates.filter(enterprise__in=cases.values("enterprise")),
               "enterprise__region", "issued_on", {"firms_certified": Count("enterprise", distinct=True)},
               {**firm_breakdowns, Breakdown.SCHEME: "scheme"}, distinct=True),
        # Firms that answered a survey of the campaign (either kind), and those of them certified in
        # the campaign's period, in any scheme and per scheme (the national survey's "20.17% of the
        # surveyed firms obtained ISO 9001").
        Source("surveyed", surveys, "enterprise__region", "answered_at", {"firms_surveyed": None}, distinct=True),
        Source("surveyed_certified", certificates.filter(enterprise__in=surveys.values("enterprise")),
               "enterprise__region", "issued_on", {"surveyed_certified": None}, {Breakdown.SCHEME: "scheme"},
               distinct=True),
        # Firms that answered the campaign's baseline survey, and per service area those wanting it.
        Source("baseline", surveys.filter(kind=NeedsSurvey.Kind.BASELINE), "enterprise__region", "answered_at",
               {"baseline_surveys": None, "firms_wanting": None}, {Breakdown.SERVICE_AREA: "services_wanted"},
               distinct=True),
        # Key industrial parks and key products or services designated in the jurisdiction in the period.
        Source("designations", KeyDesignation.objects.filter(region__code__startswith=campaign.region.prefix,
                                                             designated_on__gte=start, designated_on__lte=end),
               "region", "designated_on", {
                   "key_parks": Count("pk", filter=Q(kind=KeyDesignation.Kind.PARK)),
                   "key_products": Count("pk", filter=Q(kind=KeyDesignation.Kind.PRODUCT)),
               }),
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


# --- Aggregates ------------------------------------------------------------------------------------


def places(code: str, widths: Iterable[int]) -> list[str]:
    """The regions a row filed under `code` counts in: the country, its province unless the code is
    the country's own, its city unless the code is the province's (or the country's) own, its county
    unless the code is a city's, the province's or the country's own."""
    return [code[:width] + "0" * (6 - width) for width in widths
            if not (width in OWN_CODE_OF_WIDER and code.endswith(OWN_CODE_OF_WIDER[width]))]


def place_of(path: str, width: int):
    """The region of `width` a code at `path` lies in, as the database computes it."""
    if width == 0:
        return Value("000000", output_field=CharField())
    if width == 6:
        return F(path)
    return Concat(Substr(path, 1, width), Value("0" * (6 - width)), output_field=CharField())


def month_text(path: str):
    """The month of a date or moment as "YYYY-MM" text, computed by the database (local time)."""
    return Substr(Cast(TruncMonth(path), CharField()), 1, 7)


def text(value) -> str:
    return "" if value is None else str(value)


def grouped_in_sql(inner: QuerySet, names: list[str], measures: dict[str, str], groupings: list[tuple[str, ...]]):
    """Group one read of `inner` (a values() queryset with the columns `names` and the measures'
    inputs) several ways in one statement: the read is kept once (a materialised CTE) and grouped
    by each of `groupings` in the database, each measure aggregated as `measures` says (name →
    "SUM", "COUNT_ROWS" or "COUNT_DISTINCT:column"). Yields (grouping, row as a dict)."""
    sql, params = inner.query.sql_with_params()
    quoted = connection.ops.quote_name
    parts = []
    for number, grouping in enumerate(groupings):
        selected = [quoted(name) if name in grouping else f"NULL AS {quoted(name)}" for name in names]
        aggregates = []
        for name, how in measures.items():
            if how.startswith("COUNT_DISTINCT:"):
                aggregates.append(f"COUNT(DISTINCT {quoted(how.split(':', 1)[1])}) AS {quoted(name)}")
            elif how == "COUNT_ROWS":
                aggregates.append(f"COUNT(*) AS {quoted(name)}")
            else:
                aggregates.append(f"{how}({quoted(name)}) AS {quoted(name)}")
        group_by = ", ".join(quoted(name) for name in grouping)
        parts.append(f"SELECT {number} AS grouping_no, {', '.join(selected + aggregates)} "
                     f"FROM grain GROUP BY {group_by}")
    final = f"WITH grain AS MATERIALIZED ({sql}) " + " UNION ALL ".join(parts)
    columns = ["grouping_no", *names, *measures]
    with connection.cursor() as cursor:
        cursor.execute(final, params)
        for record in cursor.fetchall():
            row = dict(zip(columns, record, strict=True))
            yield groupings[row["grouping_no"]], row


def additive_cells(source: Source, codes: set[str] | None) -> dict[tuple, dict]:
    """The cells of an additive source for the rows filed under `codes` (None: all), from one read
    of its rows grouped at the finest grain (code, month and every breakdown key) and added up in
    the database: (code, month, "", "") → that month's measures; (code, "", breakdown, key) → to date."""
    if source.name == "answered":
        return answered_cells(source, codes)
    rows = source.rows.order_by()
    if codes is not None:
        rows = rows.filter(**{f"{source.region}__in": sorted(codes)})
    columns = {"k_code": F(source.region), "k_month": month_text(source.when)}
    columns.update({f"k_{breakdown}": Cast(path, CharField()) for breakdown, path in source.breakdowns.items()})
    finest = rows.annotate(**columns).values(*columns).annotate(**source.measures)
    counted = {name for name, aggregate in source.measures.items() if isinstance(aggregate, Count)}
    groupings = [("k_code", "k_month"), *[("k_code", f"k_{breakdown}") for breakdown in source.breakdowns]]
    cells = {}
    for grouping, row in grouped_in_sql(finest, list(columns), dict.fromkeys(source.measures, "SUM"), groupings):
        if grouping[1] == "k_month":
            key = (row["k_code"], row["k_month"], "", "")
        else:
            key = (row["k_code"], "", grouping[1][2:], text(row[grouping[1]]))
        cells[key] = {name: (int(row[name]) if name in counted and row[name] is not None else row[name])
                      for name in source.measures}
    return cells


def answered_cells(source: Source, codes: set[str] | None) -> dict[tuple, dict]:
    """Needs answered by a case of the campaign that has been visited: how many, and the days from
    each one's submission to the first visit of such a case, by the need's firm's code and month.
    One grouped read (need → its campaign cases → their visits, the earliest per need), added up by
    code and month in the database: a need answered by two of the campaign's cases is one need,
    waiting for the earlier visit."""
    rows = source.rows.order_by()
    if codes is not None:
        rows = rows.filter(**{f"{source.region}__in": sorted(codes)})
    per_need = (rows.annotate(first=Min("cases__visits__visited_on")).filter(first__isnull=False)
                .annotate(k_code=F(source.region), k_month=month_text("submitted_at"),
                          wait=ExpressionWrapper(F("first") - TruncDate("submitted_at"), output_field=DurationField())))
    cells = {}
    for _grouping, row in grouped_in_sql(per_need.values("k_code", "k_month", "wait"), ["k_code", "k_month"],
                                         {"needs_visited": "COUNT_ROWS", "wait": "SUM"}, [("k_code", "k_month")]):
        wait = row["wait"]
        days = wait.total_seconds() / 86400 if hasattr(wait, "total_seconds") else (wait or 0) / 86_400_000_000
        cells[(row["k_code"], row["k_month"], "", "")] = {"needs_visited": int(row["needs_visited"]),
                                                            "wait": int(round(days))}
    return cells


def distinct_figures(source: Source, widths: list[int], places_wanted: set[str] | None) -> dict[tuple, dict]:
    """(region, period, breakdown, key) → the counts of a distinct source for the regions in
    `places_wanted` (None: every region) at every level, to date, per month and per breakdown key.

    One read of the source's facts (a row per case or certificate: its code, month, firm, key
    status, industry and breakdown keys), counted by the database for each level at once: a firm
    with two cases counts once in a county, a city, the province, a month and to date alike."""
    columns = {"k_code": F(source.region), "k_month": month_text(source.when), "k_firm": F("enterprise_id")}
    measures = {"firms": "COUNT_DISTINCT:k_firm"}
    if source.name == "cases":
        key = Q(enterprise__is_key=True)
        columns.update(k_key_firm=Case(When(key, then=F("enterprise_id"))),
                       k_key_industry=Case(When(key, then=F("enterprise__industry_id"))))
        measures.update(cases="COUNT_ROWS", key_firms="COUNT_DISTINCT:k_key_firm",
                        key_industries="COUNT_DISTINCT:k_key_industry")
    columns.update({f"k_{breakdown}": Cast(path, CharField()) for breakdown, path in source.breakdowns.items()})
    for width in widths:
        # A row filed under a city's (the province's) own code is no county's (city's) at that level.
        place = place_of(source.region, width)
        excluded = OWN_CODE_OF_WIDER.get(width)
        columns[f"k_place{width}"] = Case(When(**{f"{source.region}__code__endswith": excluded}, then=Value(None)),
                                          default=place, output_field=CharField()) if excluded else place
    groupings = []
    for width in widths:
        place = f"k_place{width}"
        groupings += [(place,), (place, "k_month"), *[(place, f"k_{breakdown}") for breakdown in source.breakdowns]]
    figures = {}
    facts = source.rows.order_by().annotate(**columns).values(*columns)
    names = [name for name in columns if name not in ("k_firm", "k_key_firm", "k_key_industry")]
    for grouping, row in grouped_in_sql(facts, names, measures, groupings):
        region = row[grouping[0]]
        if region is None or (places_wanted is not None and region not in places_wanted):
            continue
        if len(grouping) == 1:
            key = (region, "", "", "")
        elif grouping[1] == "k_month":
            key = (region, row["k_month"], "", "")
        elif row[grouping[1]] is None:  # a baseline survey wanting no service: in no area's row
            continue
        else:
            key = (region, "", grouping[1][2:], text(row[grouping[1]]))
        if source.name == "cases":
            figures[key] = {"cases": int(row["cases"]), "firms_assisted": int(row["firms"]),
                            "key_firms_assisted": int(row["key_firms"]),
                            "key_industries": int(row["key_industries"])}
        else:
            total_name, breakdown_name = DISTINCT_FIGURES[source.name]
            figures[key] = {breakdown_name if key[2] else total_name: int(row["firms"])}
    return figures
