"""Where a campaign's figures come from: one Source per table, its rows, where and when they count.

Each source is aggregated by the database at the finest grain its figures allow: the additive
ones (counts and sums) by the region code a row is filed under and the month of its event, kept
as cells (KpiCell) that add up to every region and period; the distinct ones (firms, key
industries, certified firms: a firm with two cases is one firm) by region at every level, since
such counts do not add up from counties to a city, nor from months to date.

An update recounts the cells of the region codes a change touched, and the distinct counts of the
regions above them; a full count recounts everything.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
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


# --- Aggregates ------------------------------------------------------------------------------------


def places(code: str, widths: Iterable[int]) -> list[str]:
    """The regions a row filed under `code` counts in: its province, its city unless the code is
    the province's own, its county unless the code is a city's or the province's own."""
    return [code[:width] + "0" * (6 - width) for width in widths
            if not (width == 4 and code.endswith("0000")) and not (width == 6 and code.endswith("00"))]


def additive_cells(source: Source, codes: set[str] | None) -> dict[tuple, dict]:
    """The cells of an additive source for the rows filed under `codes` (None: all), in one grouped
    read at the finest grain (code, month and every breakdown key at once), added up here:
    (code, month, "", "") → that month's measures; (code, "", breakdown, key) → to date."""
    if source.name == "answered":
        return answered_cells(source, codes)
    rows = source.rows.order_by()
    if codes is not None:
        rows = rows.filter(**{f"{source.region}__in": sorted(codes)})
    group = {"code": F(source.region), "month": TruncMonth(source.when)}
    group.update({f"b_{breakdown}": F(path) for breakdown, path in source.breakdowns.items()})
    cells: dict[tuple, dict] = defaultdict(dict)
    for row in rows.annotate(**group).values(*group).annotate(**source.measures):
        values = {name: row[name] for name in source.measures}
        keys = [(row["code"], month_key(row["month"]), "", "")]
        for breakdown in source.breakdowns:
            bkey = row[f"b_{breakdown}"]
            keys.append((row["code"], "", breakdown, "" if bkey is None else str(bkey)))
        for key in keys:
            cell = cells[key]
            for name, value in values.items():
                cell[name] = value if cell.get(name) is None else cell[name] if value is None else cell[name] + value
    return dict(cells)


def answered_cells(source: Source, codes: set[str] | None) -> dict[tuple, dict]:
    """Needs answered by a case of the campaign that has been visited: how many, and the days from
    each one's submission to the first visit of such a case, by the need's firm's code and month.
    One grouped read (need → its campaign cases → their visits, the earliest per need): a need
    answered by two of the campaign's cases is one need, waiting for the earlier visit."""
    rows = source.rows.order_by()
    if codes is not None:
        rows = rows.filter(**{f"{source.region}__in": sorted(codes)})
    rows = (rows.annotate(first=Min("cases__visits__visited_on")).filter(first__isnull=False)
            .values_list(source.region, "submitted_at", "first"))
    cells: dict[tuple, dict] = defaultdict(lambda: {"needs_visited": 0, "wait": 0})
    for code, submitted_at, first in rows:
        submitted = timezone.localtime(submitted_at)
        cell = cells[(code, month_key(submitted), "", "")]
        cell["needs_visited"] += 1
        cell["wait"] += (first - submitted.date()).days
    return dict(cells)


def distinct_figures(source: Source, widths: list[int], places_wanted: set[str] | None) -> dict[tuple, dict]:
    """(region, period, breakdown, key) → the counts of a distinct source for the regions in
    `places_wanted` (None: every region) at every level, to date, per month and per breakdown key.

    One read of the source's facts (a row per case or certificate: its code, month, firm, key
    status, industry and breakdown keys), counted here into sets: a firm with two cases counts once
    in a county, a city, the province, a month and to date alike."""
    fields = {"code": F(source.region), "month": TruncMonth(source.when), "firm": F("enterprise_id")}
    if source.name == "cases":
        fields.update(is_key=F("enterprise__is_key"), industry=F("enterprise__industry_id"))
    fields.update({f"b_{breakdown}": F(path) for breakdown, path in source.breakdowns.items()})
    sets: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    counts: dict[tuple, int] = defaultdict(int)
    for row in source.rows.order_by().annotate(**fields).values(*fields).iterator(chunk_size=10_000):
        month = month_key(row["month"])
        regions = [place for place in places(row["code"], widths)
                   if places_wanted is None or place in places_wanted]
        if not regions:
            continue
        breakdown_keys = [(breakdown, "" if row[f"b_{breakdown}"] is None else str(row[f"b_{breakdown}"]))
                          for breakdown in source.breakdowns]
        for region in regions:
            keys = [(region, "", "", ""), (region, month, "", "")]
            keys += [(region, "", breakdown, bkey) for breakdown, bkey in breakdown_keys]
            for key in keys:
                found = sets[key]
                found["firms"].add(row["firm"])
                if source.name == "cases":
                    counts[key] += 1
                    if row["is_key"]:
                        found["key_firms"].add(row["firm"])
                        found["key_industries"].add(row["industry"])
    figures = {}
    for key, found in sets.items():
        if source.name == "cases":
            figures[key] = {"cases": counts[key], "firms_assisted": len(found["firms"]),
                            "key_firms_assisted": len(found["key_firms"]),
                            "key_industries": len(found["key_industries"])}
        else:
            figures[key] = {"firms_certified": len(found["firms"])}
    return figures
