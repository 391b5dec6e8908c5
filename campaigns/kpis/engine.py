"""The KPI engine: a campaign's figures (DESIGN.md section 4) per region and period.

Every figure is an aggregate computed by the database, grouped by region code at each level
(province, city, county: a prefix of the firm's or session's region code) and by month. Python
only merges the aggregated rows (a few per region) into one dictionary per region and period,
derives the rates from them and attaches the targets. `compute_campaign` replaces the campaign's
snapshots in one transaction under a lock on the campaign row, so two runs at once queue behind
each other, a run that fails half-way leaves the previous snapshots untouched, and running twice
writes the same figures.

Definitions (a firm belongs to the region of its registry record; a session to where it was held):
- firms_assisted: firms with a case in the campaign (monthly: by the month the case opened);
  key_firms_assisted likewise for key enterprises; key_industries: industry divisions among them.
- visits, on_site_visits, consultations (remote visits and mobile quality clinics), visit_hours.
- needs_received: needs submitted in the campaign's period by firms of its jurisdiction, in its
  service areas when it names some; needs_fulfilled, needs_declined of those;
  fulfilment_rate = fulfilled / received (%).
- days_to_first_visit: mean days from a need's submission to the first visit of a campaign case
  answering it (needs with such a visit only).
- firms_certified: assisted firms holding a certificate issued within the campaign's period;
  certified_share = firms_certified / firms_assisted (%).
- ratings, satisfaction_mean, satisfied_share (ratings of 4 or 5, %).
- surveys (follow-up surveys answered for the campaign), awareness_up_share, performance_up_share
  (%), revenue_change_mean, output_change_mean, margin_change_mean (percentage points).
- training_sessions, firm_times (a firm at a session), person_times (its persons).
- cases, cases_closed, cases_resolved and the outcomes of closed cases: certificates_obtained,
  standards_drafted, excellence_models, labs_set_up, money_saved (yuan).

Monthly rows count each figure in the month of its own event (a case's opening, a visit, a need's
submission, a certificate's issue, a rating, a survey answer, a session); the rates of a month
divide figures of that same month, and certified_share, whose two sides belong to different
events, is given to date only. The industry and size breakdowns of firm-times and person-times
follow the attending firm, in the region where the session was held.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Concat, Substr, TruncDate, TruncMonth
from django.utils import timezone

from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign, CampaignTarget
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.models import Certification, NeedRequest, NeedsSurvey
from portal.models import Region

LEVELS = {"province": 2, "city": 4, "county": 6}
Breakdown = KpiSnapshot.Breakdown
Metric = CampaignTarget.Metric
# Counts and sums that appear (as 0) on every region's to-date row, active or not.
COUNTED = (
    "cases", "firms_assisted", "key_firms_assisted", "key_industries", "cases_closed", "cases_resolved",
    "certificates_obtained", "standards_drafted", "excellence_models", "labs_set_up", "visits", "on_site_visits",
    "consultations", "needs_received", "needs_fulfilled", "needs_declined", "firms_certified", "ratings",
    "satisfied", "surveys", "training_sessions", "firm_times", "person_times",
)


def code_at(path: str, width: int):
    """The region code of `path` cut to a level: 130102 → 130100 (city) → 130000 (province)."""
    if width == 6:
        return F(path)
    return Concat(Substr(path, 1, width), Value("0" * (6 - width)), output_field=CharField())


@dataclass
class Source:
    """One table's aggregates: which rows, where they count, when, and what is measured."""

    rows: QuerySet
    region: str  # path to the region code
    when: str | None  # path to the date (or datetime) that places a row in a month
    measures: dict
    breakdowns: dict[str, str] = field(default_factory=dict)  # breakdown → path of its key
    # Counts of distinct firms or industries cannot be added up from counties to a city, nor from
    # months to date: such a source is grouped at every level. The others are grouped once, by the
    # region code as filed and the month, and added up in Python (see `compute`).
    distinct: bool = False


def sources(campaign: Campaign) -> list[Source]:
    start, end = campaign.starts_on, campaign.ends_on
    cases = AssistanceCase.objects.filter(campaign=campaign)
    firm_breakdowns = {Breakdown.INDUSTRY: "enterprise__industry__parent", Breakdown.SIZE: "enterprise__size"}
    needs = NeedRequest.objects.filter(enterprise__region__code__startswith=campaign.region.prefix,
                                       submitted_at__date__gte=start, submitted_at__date__lte=end)
    scope = list(campaign.service_areas.values_list("code", flat=True))
    if scope:
        needs = needs.filter(service_area__in=scope)
    first_visit = Subquery(
        Visit.objects.filter(case__campaign=campaign, case__needs=OuterRef("pk"))
        .order_by("visited_on").values("visited_on")[:1]
    )
    # Exists, not a join: a need answered by two of the campaign's cases is one need, and the
    # first-visit subquery runs once per answered need rather than for every need in the table.
    answered = (NeedRequest.objects.filter(Exists(Visit.objects.filter(case__campaign=campaign,
                                                                       case__needs=OuterRef("pk"))))
                .annotate(first_visit=first_visit))
    wait = ExpressionWrapper(F("first_visit") - TruncDate("submitted_at"), output_field=DurationField())
    key = Q(enterprise__is_key=True)
    closed = Q(status=AssistanceCase.Status.CLOSED)
    return [
        Source(cases, "enterprise__region", "opened_at", {
            "cases": Count("pk"),
            "firms_assisted": Count("enterprise", distinct=True),
            "key_firms_assisted": Count("enterprise", distinct=True, filter=key),
            "key_industries": Count("enterprise__industry", distinct=True, filter=key),
        }, firm_breakdowns, distinct=True),
        Source(cases.filter(closed), "enterprise__region", "closed_at", {
            "cases_closed": Count("pk"),
            "cases_resolved": Count("pk", filter=Q(resolution=AssistanceCase.Resolution.RESOLVED)),
            "certificates_obtained": Count("pk", filter=Q(certificate_obtained=True)),
            "standards_drafted": Count("pk", filter=Q(standard_drafted=True)),
            "excellence_models": Count("pk", filter=Q(excellence_model_adopted=True)),
            "labs_set_up": Count("pk", filter=Q(lab_set_up=True)),
            "money_saved": Sum("money_saved"),
        }),
        Source(Visit.objects.filter(case__campaign=campaign), "case__enterprise__region", "visited_on", {
            "visits": Count("pk"),
            "on_site_visits": Count("pk", filter=Q(mode=Visit.Mode.ON_SITE)),
            "consultations": Count("pk", filter=Q(mode__in=[Visit.Mode.REMOTE, Visit.Mode.MOBILE_CLINIC])),
            "visit_hours": Sum("hours"),
        }, {Breakdown.INDUSTRY: "case__enterprise__industry__parent", Breakdown.SIZE: "case__enterprise__size"}),
        Source(needs, "enterprise__region", "submitted_at", {
            "needs_received": Count("pk"),
            "needs_fulfilled": Count("pk", filter=Q(status=NeedRequest.Status.FULFILLED)),
            "needs_declined": Count("pk", filter=Q(status=NeedRequest.Status.DECLINED)),
        }, {**firm_breakdowns, Breakdown.SERVICE_AREA: "service_area"}),
        Source(answered, "enterprise__region", "submitted_at", {
            "needs_visited": Count("pk"),
            "wait": Sum(wait),
        }),
        Source(Certification.objects.filter(enterprise__in=cases.values("enterprise"), issued_on__gte=start,
                                            issued_on__lte=end),
               "enterprise__region", "issued_on", {"firms_certified": Count("enterprise", distinct=True)},
               firm_breakdowns, distinct=True),
        Source(CaseRating.objects.filter(case__campaign=campaign), "case__enterprise__region", "rated_at", {
            "ratings": Count("pk"),
            "rating_sum": Sum("score"),
            "satisfied": Count("pk", filter=Q(score__gte=4)),
        }),
        Source(NeedsSurvey.objects.filter(campaign=campaign, kind=NeedsSurvey.Kind.FOLLOW_UP),
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
        Source(TrainingSession.objects.filter(campaign=campaign), "region", "held_on",
               {"training_sessions": Count("pk")}, {Breakdown.SERVICE_AREA: "service_area"}),
        Source(TrainingAttendance.objects.filter(session__campaign=campaign), "session__region", "session__held_on",
               {"firm_times": Count("pk"), "person_times": Sum("persons")}, firm_breakdowns),
    ]


def month_key(value) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{value:%Y-%m}" if isinstance(value, (date, datetime)) else str(value)[:7]


def plain(value):
    """A JSON-friendly figure: Decimal and float to float, a duration to days."""
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return value.total_seconds() / 86400
    if isinstance(value, (Decimal, float)):
        return float(value)
    return value


def share(part, whole) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def mean(total, count) -> float | None:
    return round(total / count, 2) if count and total is not None else None


def derive(figures: dict) -> dict:
    """The rates and means, from the counts and sums; the helper sums are dropped."""
    get = figures.get
    figures["fulfilment_rate"] = share(get("needs_fulfilled", 0), get("needs_received", 0))
    figures["certified_share"] = share(get("firms_certified", 0), get("firms_assisted", 0))
    figures["satisfaction_mean"] = mean(figures.pop("rating_sum", None), get("ratings", 0))
    figures["satisfied_share"] = share(get("satisfied", 0), get("ratings", 0))
    figures["awareness_up_share"] = share(get("awareness_up", 0), get("surveys", 0))
    figures["performance_up_share"] = share(get("performance_up", 0), get("surveys", 0))
    for name in ("revenue", "output", "margin"):
        figures[f"{name}_change_mean"] = mean(figures.pop(f"{name}_sum", None), figures.pop(f"{name}_answers", 0))
    wait = figures.pop("wait", None)  # days summed over the needs visited
    visited = get("needs_visited", 0)
    figures["days_to_first_visit"] = round(wait / visited, 1) if wait is not None and visited else None
    for name in ("money_saved", "visit_hours"):
        if figures.get(name) is not None:
            figures[name] = round(figures[name], 2)
    return figures


def aggregate(source: Source, width: int, *, by_month: bool = False, breakdown_path: str | None = None,
              as_filed: bool = False):
    """One grouped query: (region code, month or "", breakdown key or "") → the measures.

    `as_filed` groups by the region code as the rows carry it, whatever its level, for `places`
    to add up; the values are then left as the database returns them (Decimal, not float)."""
    group = {"code": F(source.region) if as_filed else code_at(source.region, width)}
    if by_month:
        group["month"] = TruncMonth(source.when)
    if breakdown_path:
        group["bkey"] = F(breakdown_path)
    rows = source.rows.order_by()
    # A firm filed under a city or province code itself counts in that city's and province's
    # totals but is no county's (and one filed under the province's code is no city's): its code
    # would collide with the city's (the province's) own row.
    if width == 6 and not as_filed:
        rows = rows.exclude(**{f"{source.region}__code__endswith": "00"})
    elif width == 4 and not as_filed:
        rows = rows.exclude(**{f"{source.region}__code__endswith": "0000"})
    rows = rows.annotate(**group).values(*group).annotate(**source.measures)
    for row in rows:
        yield (row["code"], month_key(row["month"]) if by_month else "",
               "" if row.get("bkey") is None else str(row.get("bkey", "")),
               {name: row[name] if as_filed else plain(row[name]) for name in source.measures})


def places(code: str, widths: Iterable[int]) -> list[str]:
    """The regions a row filed under `code` counts in: its province, its city unless the code is
    the province's own, its county unless the code is a city's or the province's own."""
    return [code[:width] + "0" * (6 - width) for width in widths
            if not (width == 4 and code.endswith("0000")) and not (width == 6 and code.endswith("00"))]


def add_up(into: dict, values: dict) -> None:
    """Add the counts and sums of one grouped row into a region's figures (None adds nothing)."""
    for name, value in values.items():
        if value is None:
            into.setdefault(name, None)
        else:
            into[name] = value if into.get(name) is None else into[name] + value


def compute(campaign: Campaign) -> dict[tuple[str, str, str, str], dict]:
    """All figures of a campaign: (region code, period, breakdown, key) → figures."""
    figures: dict[tuple[str, str, str, str], dict] = defaultdict(dict)
    # A city campaign has no province row of its own.
    widths = [width for width in LEVELS.values() if width >= len(campaign.region.prefix)]
    for source in sources(campaign):
        if not source.distinct:
            # One query at the finest grain; a city's, the province's and the to-date figures are sums
            # of a few thousand grouped rows, not of the table's rows.
            for code, period, _key, values in aggregate(source, 6, by_month=True, as_filed=True):
                for place in places(code, widths):
                    add_up(figures[(place, period, Breakdown.TOTAL, "")], values)
                    add_up(figures[(place, "", Breakdown.TOTAL, "")], values)
            for breakdown, path in source.breakdowns.items():
                for code, _period, key, values in aggregate(source, 6, breakdown_path=path, as_filed=True):
                    for place in places(code, widths):
                        add_up(figures[(place, "", breakdown, key)], values)
            continue
        for width in widths:
            for by_month in (False, True):
                for code, period, _key, values in aggregate(source, width, by_month=by_month):
                    figures[(code, period, Breakdown.TOTAL, "")].update(values)
            for breakdown, path in source.breakdowns.items():
                for code, period, key, values in aggregate(source, width, breakdown_path=path):
                    figures[(code, period, breakdown, key)].update(values)
    return figures


def targets_by_region(campaign: Campaign, regions: Iterable[Region]) -> dict[str, dict[str, float]]:
    """Which targets apply to which region: campaign-wide to the campaign's own region, "each
    city/county" to every city/county inside it, a one-region target to that region."""
    applies: dict[str, dict[str, float]] = defaultdict(dict)
    regions = list(regions)
    for target in campaign.targets.all():
        if target.scope == CampaignTarget.Scope.CAMPAIGN:
            codes = [campaign.region_id]
        elif target.scope == CampaignTarget.Scope.REGION:
            codes = [target.region_id]
        else:
            level = Region.Level.CITY if target.scope == CampaignTarget.Scope.EACH_CITY else Region.Level.COUNTY
            codes = [region.code for region in regions if region.level == level]
        for code in codes:
            applies[code][target.metric] = float(target.value)
    return applies


# The first key of the PostgreSQL advisory locks taken by KPI runs (the second is the campaign).
KPI_LOCK = 4_754_2017


def lock_runs_of(campaign_id: int) -> None:
    """Make a second run of the same campaign wait for the first, then recompute from committed
    data. An advisory lock rather than the campaign's row, which the case and training services
    lock briefly to keep their writes inside the campaign's period: they need not wait for a run."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [KPI_LOCK, campaign_id])
    else:  # SQLite serialises writers anyway; other databases lock the row
        list(Campaign.objects.select_for_update().filter(pk=campaign_id).values_list("pk"))


def compute_campaign(campaign_id: int) -> int:
    """Recompute and replace a campaign's snapshots; returns how many were written."""
    with transaction.atomic():
        lock_runs_of(campaign_id)
        campaign = Campaign.objects.select_related("region").get(pk=campaign_id)
        regions = list(Region.objects.filter(code__startswith=campaign.region.prefix))
        known = {region.code: region for region in regions}
        figures = compute(campaign)
        for region in regions:  # every region has a to-date row, even one with nothing yet
            figures.setdefault((region.code, "", Breakdown.TOTAL, ""), {})
        targets = targets_by_region(campaign, regions)
        now = timezone.now()
        snapshots = []
        for (code, period, breakdown, key), values in figures.items():
            region = known.get(code)
            if region is None:  # a firm filed under a code no longer in the division list
                continue
            values = derive({name: plain(value) for name, value in values.items()})
            if period:
                # Firms certified in a month over firms whose case opened that month is no share.
                values.pop("certified_share", None)
            if breakdown == Breakdown.TOTAL and period == "":
                for name in COUNTED:
                    values.setdefault(name, 0)
                for name in ("money_saved", "visit_hours"):
                    values[name] = values.get(name) or 0.0
                values["targets"] = targets.get(code, {})
            snapshots.append(KpiSnapshot(campaign=campaign, region=region, level=region.level, period=period,
                                         breakdown=breakdown, key=key, figures=values, computed_at=now))
        KpiSnapshot.objects.filter(campaign=campaign).delete()
        KpiSnapshot.objects.bulk_create(snapshots, batch_size=1000)
    return len(snapshots)
