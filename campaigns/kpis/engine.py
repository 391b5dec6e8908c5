"""The KPI engine: a campaign's figures (DESIGN.md section 4) per region and period.

Every figure is an aggregate computed by the database (campaigns/kpis/sources.py), stored per
region at province, city and county level, per month and to date, with breakdowns, as KpiSnapshot
rows that dashboards read. `recount` keeps them right in two ways:

- an update (`Touched` says which sources, region codes and months a write changed, from the
  outbox): the touched cells of the additive sources are recounted and added up again for the
  regions above them; the distinct counts are recounted for those regions only;
- a full count (`compute_campaign`, on the beat schedule and after a campaign's period or scope
  changes): everything is recounted, compared with what is stored, and every figure that had to
  be corrected is counted and logged; in a campaign kept by updates that count is 0.

Both write only the rows whose figures changed (an upsert), under a lock per campaign so two
recounts of one campaign queue behind each other, in one transaction so a reader never sees half
of one and one that dies half-way leaves the previous figures.

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
  certified_share = firms_certified / firms_assisted (%); per scheme on the scheme breakdown.
- firms_surveyed: firms that answered a survey of the campaign (either kind); surveyed_certified:
  those holding a certificate issued within the period, surveyed_certified_share of firms_surveyed
  (%); per scheme on the scheme breakdown (the national survey's "20.17% obtained ISO 9001").
- baseline_surveys: firms that answered the campaign's baseline survey; per service area,
  firms_wanting (those that ticked it) and wanting_share of baseline_surveys (%).
- key_parks, key_products: key industrial parks and key products or services designated within
  the period in a region of the jurisdiction (enterprises.KeyDesignation).
- ratings, satisfaction_mean, satisfied_share (ratings of 4 or 5, %).
- surveys (follow-up surveys answered for the campaign), awareness_up_share, performance_up_share
  (%), revenue_change_mean, output_change_mean, margin_change_mean (percentage points).
- training_sessions, firm_times (a firm at a session), person_times (its persons).
- cases, cases_closed, cases_resolved and the outcomes of closed cases: certificates_obtained,
  standards_drafted, excellence_models, labs_set_up, money_saved (yuan), and apart from each other
  money_saved_once (one-off savings) and money_saved_per_year (savings the firm makes every year).

Monthly rows count each figure in the month of its own event (a case's opening, a visit, a need's
submission, a certificate's issue, a rating, a survey answer, a session); the rates of a month
divide figures of that same month, and certified_share, whose two sides belong to different
events, is given to date only (so is surveyed_certified_share). A breakdown row's share of a whole
counted on the totals (a scheme's certified firms over the firms assisted or surveyed, a service
area's wanting firms over the baseline's) divides by its region's totals; a target of one scheme or
service area ("metric:key") carries its actual on the totals under that name. The industry and size
breakdowns of firm-times and person-times follow the attending firm, in the region where the
session was held.
"""

import logging
import operator
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce

from django.db import connection, transaction
from django.db.models import BigIntegerField, Q, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from campaigns.kpis.models import KpiCell, KpiSnapshot, KpiState
from campaigns.kpis.sources import (
    LEVELS,
    OWN_CODE_OF_WIDER,
    Source,
    additive_cells,
    distinct_figures,
    place_of,
    places,
    sources,
)
from campaigns.kpis.targets import dependants_changed, targets_by_region
from campaigns.models import Campaign, CampaignTarget
from portal.models import Region

logger = logging.getLogger(__name__)

Breakdown = KpiSnapshot.Breakdown
Metric = CampaignTarget.Metric
# Counts and sums that appear (as 0) on every region's to-date row, active or not.
COUNTED = (
    "cases", "firms_assisted", "key_firms_assisted", "key_industries", "cases_closed", "cases_resolved",
    "certificates_obtained", "standards_drafted", "excellence_models", "labs_set_up", "visits", "on_site_visits",
    "consultations", "needs_received", "needs_fulfilled", "needs_declined", "firms_certified", "ratings",
    "satisfied", "surveys", "training_sessions", "firm_times", "person_times", "firms_surveyed",
    "surveyed_certified", "baseline_surveys", "key_parks", "key_products",
)
MONEY_AND_HOURS = ("money_saved", "money_saved_once", "money_saved_per_year", "visit_hours")
SOURCES = ("cases", "closed", "visits", "needs", "answered", "certified", "ratings", "surveys", "sessions",
           "attendance", "surveyed", "surveyed_certified", "baseline", "designations")
# The shares of a breakdown row whose whole is a figure of the region's totals, not of the row: a
# scheme's certified firms over the firms assisted (surveyed), a service area's wanting firms over
# the firms answering the baseline survey. (share → (part, whole on the totals))
SHARES_OF_TOTAL = {
    Breakdown.SCHEME: {"certified_share": ("firms_certified", "firms_assisted"),
                       "surveyed_certified_share": ("surveyed_certified", "firms_surveyed")},
    Breakdown.SERVICE_AREA: {"wanting_share": ("firms_wanting", "baseline_surveys")},
}


@dataclass
class Touched:
    """What changed in one campaign: per source, the (region code, month) pairs whose rows a write
    changed (month None: every month of that code); `everything` for a full count; `targets` when
    only the targets changed."""

    cells: dict[str, set[tuple[str, str | None]]] = field(default_factory=lambda: defaultdict(set))
    everything: bool = False
    targets: bool = False

    def add(self, sources_: list[str], code: str, month: str | None) -> None:
        for name in SOURCES if "*" in sources_ else sources_:
            self.cells[name].add((code, month))


@dataclass
class StoredRow:
    """A snapshot row as read for comparing: plain values, not a model instance."""

    pk: int
    region_id: str
    period: str
    breakdown: str
    key: str
    figures: dict
    measures: dict


@dataclass
class Result:
    written: int = 0
    deleted: int = 0
    corrections: int = 0  # figures a full count found wrong and put right


# --- Values: exact sums, then figures ----------------------------------------------------------------


# Sums of decimals are kept as whole numbers of their smallest unit (cents, tenths of an hour,
# hundredths of a percentage point), so every database adds them up exactly.
SCALE = {"money_saved": 100, "money_saved_once": 100, "money_saved_per_year": 100, "visit_hours": 10,
         "revenue_sum": 100, "output_sum": 100, "margin_sum": 100}


def stored(name: str, value):
    """A count or sum as it is kept: a whole number (a decimal sum in its smallest unit)."""
    if value is None:
        return None
    scale = SCALE.get(name)
    if scale is not None:
        return int((Decimal(str(value)) * scale).to_integral_value())
    return int(value)


def number(name: str, value) -> float | int | None:
    if value is None:
        return None
    scale = SCALE.get(name)
    return value / scale if scale else value


def share(part, whole) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def mean(total, count) -> float | None:
    return round(total / count, 2) if count and total is not None else None


def derive(measures: dict) -> dict:
    """The figures of a row: its counts and sums as numbers, the rates and means derived from them;
    the helper sums are left out."""
    figures = {name: number(name, value) for name, value in measures.items()}

    def count(name: str) -> int:
        return figures.get(name) or 0  # a count the row has not got is none

    figures["fulfilment_rate"] = share(count("needs_fulfilled"), count("needs_received"))
    figures["certified_share"] = share(count("firms_certified"), count("firms_assisted"))
    figures["surveyed_certified_share"] = share(count("surveyed_certified"), count("firms_surveyed"))
    figures["satisfaction_mean"] = mean(figures.pop("rating_sum", None), count("ratings"))
    figures["satisfied_share"] = share(count("satisfied"), count("ratings"))
    figures["awareness_up_share"] = share(count("awareness_up"), count("surveys"))
    figures["performance_up_share"] = share(count("performance_up"), count("surveys"))
    for name in ("revenue", "output", "margin"):
        figures[f"{name}_change_mean"] = mean(figures.pop(f"{name}_sum", None), figures.pop(f"{name}_answers", 0))
    wait = figures.pop("wait", None)  # days summed over the needs visited
    visited = count("needs_visited")
    figures["days_to_first_visit"] = round(wait / visited, 1) if wait is not None and visited else None
    for name in MONEY_AND_HOURS:
        if figures.get(name) is not None:
            figures[name] = round(figures[name], 2)
    return figures


def shares_of_total(figures: dict, measures: dict, breakdown: str, totals: dict) -> None:
    """Put on a breakdown row's figures its shares of a whole counted on the region's totals
    (SHARES_OF_TOTAL); a scheme row carries a share only of the side it has firms on."""
    for name, (part, whole) in SHARES_OF_TOTAL.get(breakdown, {}).items():
        if part in measures:
            figures[name] = share(measures[part], totals.get(whole) or 0)
        elif breakdown == Breakdown.SCHEME:
            figures.pop(name, None)


def has_data(measures: dict) -> bool:
    return any(measures.values())  # counts and sums: whole numbers or None


# --- Targets ---------------------------------------------------------------------------------------


# Which targets apply where, relative ones worked out from their base campaign: campaigns/kpis/targets.py.


# Regions an update adds up by a code-prefix filter each; past this many, it reads every cell.
MAX_PREFIX_FILTERS = 200


# --- Locking ---------------------------------------------------------------------------------------

# The first key of the PostgreSQL advisory locks taken by KPI recounts (the second is the campaign).
KPI_LOCK = 4_754_2017


def lock_runs_of(campaign_id: int) -> None:
    """Make a second recount of the same campaign wait for the first, then work from committed data.
    An advisory lock rather than the campaign's row, which the case and training services lock
    briefly to keep their writes inside the campaign's period: they need not wait for a recount."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [KPI_LOCK, campaign_id])
    else:  # SQLite serialises writers anyway; other databases lock the row
        list(Campaign.objects.select_for_update().filter(pk=campaign_id).values_list("pk"))


def width_of(code: str) -> int:
    """The level of a region code as a prefix width: 000000 → 0, 130000 → 2, 130100 → 4, 130102 → 6."""
    return 0 if code == "000000" else 2 if code.endswith("0000") else 4 if code.endswith("00") else 6


# --- Recounting ------------------------------------------------------------------------------------


def compute_campaign(campaign_id: int) -> int:
    """The full count of a campaign; returns how many snapshot rows it has."""
    recount(campaign_id, Touched(everything=True))
    return KpiSnapshot.objects.filter(campaign_id=campaign_id).count()


def recount(campaign_id: int, touched: Touched) -> Result:
    """Bring a campaign's stored figures up to date with its data, for what `touched` names."""
    with transaction.atomic():
        lock_runs_of(campaign_id)
        campaign = Campaign.objects.select_related("region").filter(pk=campaign_id).first()
        if campaign is None:
            return Result()
        first = not KpiState.objects.filter(campaign=campaign, verified_at__isnull=False).exists()
        if first:  # never counted in full: there are no cells to add up yet
            touched = Touched(everything=True, targets=touched.targets)
        return Recount(campaign, touched, first=first).run()


class Recount:
    """One recount of one campaign; see `recount`."""

    def __init__(self, campaign: Campaign, touched: Touched, *, first: bool = False):
        self.campaign = campaign
        self.first = first  # a first count corrects nothing: there was nothing to correct
        self.touched = touched
        self.full = touched.everything
        self.widths = [width for width in LEVELS.values() if width >= len(campaign.region.prefix)]
        self.sources = sources(campaign)
        within = Region.objects.filter(code__startswith=campaign.region.prefix)
        self.regions = {region.code: region for region in within}
        # What each source says about each snapshot key it recounted, and the keys it may speak of.
        self.recounted: dict[str, dict[tuple, dict]] = {}
        self.domains: dict[str, callable] = {}
        self.affected_places: set[str] = set()

    def run(self) -> Result:
        names = list(self.sources) if self.full else [name for name in self.touched.cells if name in self.sources]
        for name in names:
            source = self.sources[name]
            if source.distinct:
                self.recount_distinct(source)
            else:
                self.recount_additive(source)
        if self.full or self.touched.targets:
            self.affected_places |= set(self.regions)
        return self.write()

    def codes(self, name: str) -> set[str]:
        """The region codes a source was touched under (whatever the months: a code's cells are few,
        and recounting them all keeps its to-date breakdowns right)."""
        return {code for code, _month in self.touched.cells.get(name, set())}

    def recount_additive(self, source: Source) -> None:
        cells = KpiCell.objects.filter(campaign=self.campaign, source=source.name)
        codes = None if self.full else self.codes(source.name)
        if codes is not None:
            cells = cells.filter(code__in=sorted(codes))
        # (pk, values) by key: plain rows, not model instances, for tens of thousands of cells.
        existing = {(code, period, breakdown, key): (pk, values) for pk, code, period, breakdown, key, values
                    in cells.values_list("pk", "code", "period", "breakdown", "key", "values")}
        fresh = {key: {name: stored(name, value) for name, value in values.items()}
                 for key, values in additive_cells(source, codes).items()}
        self.write_cells(source, existing, fresh)
        affected = set(self.regions) if codes is None else {place for code in codes
                                                           for place in places(code, self.widths)}
        self.recounted[source.name] = self.add_up_cells(source, None if codes is None else affected)
        self.affected_places |= affected
        self.domains[source.name] = lambda key, affected=affected: key[0] in affected

    def add_up_cells(self, source: Source, wanted: set[str] | None) -> dict[tuple, dict]:
        """The source's cells added up, by the database, for every region above them (those in
        `wanted`, None: all), to date, per month and per breakdown key."""
        sums = {name: Sum(Cast(KeyTextTransform(name, "values"), BigIntegerField())) for name in source.measures}
        found: dict[tuple, dict] = {}
        for width in self.widths:
            cells = KpiCell.objects.filter(campaign=self.campaign, source=source.name).order_by()
            if width in OWN_CODE_OF_WIDER:  # a row filed under a city's (the province's) own code is no county's
                cells = cells.exclude(code__endswith=OWN_CODE_OF_WIDER[width])
            place = place_of("code", width)
            if wanted is not None:
                prefixes = {code[:width] for code in wanted if width_of(code) == width}
                if not prefixes:
                    continue
                # A few regions: only their cells are read. Many (an import touching every county):
                # one OR per region would pass SQLite's expression depth; all are read, the wanted kept.
                if len(prefixes) <= MAX_PREFIX_FILTERS:
                    cells = cells.filter(reduce(operator.or_, (Q(code__startswith=prefix) for prefix in prefixes)))
            cells = cells.annotate(place=place)
            for row in cells.values("place", "period", "breakdown", "key").annotate(**sums):
                if wanted is not None and row["place"] not in wanted:
                    continue
                found[(row["place"], row["period"], row["breakdown"], row["key"])] = {
                    name: None if row[name] is None else int(row[name]) for name in source.measures}
            for row in cells.filter(breakdown="").values("place").annotate(**sums):
                if wanted is not None and row["place"] not in wanted:
                    continue
                found[(row["place"], "", "", "")] = {
                    name: None if row[name] is None else int(row[name]) for name in source.measures}
        return found

    def write_cells(self, source: Source, existing: dict, fresh: dict) -> None:
        gone = [pk for key, (pk, _values) in existing.items() if key not in fresh]
        changed = []
        for key, values in fresh.items():
            cell = existing.get(key)
            if cell is None or cell[1] != values:
                code, period, breakdown, bkey = key
                changed.append(KpiCell(campaign=self.campaign, source=source.name, code=code, period=period,
                                       breakdown=breakdown, key=bkey, values=values))
        if gone:
            KpiCell.objects.filter(pk__in=gone).delete()
        if changed:
            KpiCell.objects.bulk_create(changed, batch_size=1000, update_conflicts=True,
                                        unique_fields=["campaign", "source", "code", "period", "breakdown", "key"],
                                        update_fields=["values"])

    def recount_distinct(self, source: Source) -> None:
        affected = set(self.regions) if self.full else {
            place for code in self.codes(source.name) for place in places(code, self.widths)}
        found = distinct_figures(source, self.widths, None if self.full else affected)
        self.recounted[source.name] = found
        self.affected_places |= affected
        self.domains[source.name] = lambda key, affected=affected: key[0] in affected

    def write(self) -> Result:
        result = Result()
        rows = KpiSnapshot.objects.filter(campaign=self.campaign)
        if not self.full:
            rows = rows.filter(region_id__in=sorted(self.affected_places))
        existing = {(row.region_id, row.period, row.breakdown, row.key): row for row in
                    (StoredRow(*values) for values in rows.values_list("pk", "region_id", "period", "breakdown", "key",
                                                                      "figures", "measures"))}
        keys = set(existing)
        for recounted in self.recounted.values():
            keys |= set(recounted)
        keys |= {(code, "", "", "") for code in self.affected_places}
        targets = targets_by_region(self.campaign, self.regions.values())
        now = timezone.now()
        changed, gone = [], []
        merged = {}  # every key's measures first: a breakdown row's shares divide by its totals' figures
        for key in keys:
            if key[0] not in self.regions:  # a firm filed under a code no longer in the division list
                continue
            row = existing.get(key)
            measures = dict(row.measures) if row is not None else {}
            for name, recounted in self.recounted.items():
                if not self.domains[name](key):
                    continue
                for measure in self.sources[name].measures:
                    measures.pop(measure, None)
                measures.update(recounted.get(key, {}))
            merged[key] = measures
        for key, measures in merged.items():
            code, period, breakdown, bkey = key
            region = self.regions[code]
            row = existing.get(key)
            total = period == "" and breakdown == ""
            if not total and not has_data(measures):
                if row is not None:
                    gone.append(row.pk)
                continue
            figures = self.figures(measures, key, targets.get(code, {"targets": {}}), merged)
            if row is not None and row.figures == figures and row.measures == measures:
                continue
            if row is None:
                result.corrections += 1
            else:
                result.corrections += sum(1 for name in figures.keys() | row.figures.keys()
                                          if figures.get(name) != row.figures.get(name))
            changed.append(KpiSnapshot(campaign=self.campaign, region=region, level=region.level, period=period,
                                       breakdown=breakdown, key=bkey, figures=figures, measures=measures,
                                       computed_at=now))
        result.corrections += len(gone)
        if gone:
            KpiSnapshot.objects.filter(pk__in=gone).delete()
        if changed:
            KpiSnapshot.objects.bulk_create(
                changed, batch_size=1000, update_conflicts=True,
                unique_fields=["campaign", "region", "period", "breakdown", "key"],
                update_fields=["level", "figures", "measures", "computed_at"])
        result.written, result.deleted = len(changed), len(gone)
        if not self.full or self.first:
            result.corrections = 0
        if (result.written or result.deleted) and (self.full or self.touched.cells):
            dependants_changed(self.campaign.pk)
        self.note(result, now)
        return result

    def figures(self, measures: dict, key: tuple, targets: dict, merged: dict) -> dict:
        code, period, breakdown, _key = key
        figures = derive(measures)
        if period:
            # Firms certified in a month over firms whose case opened that month is no share.
            figures.pop("certified_share", None)
            figures.pop("surveyed_certified_share", None)
        elif breakdown:
            shares_of_total(figures, measures, breakdown, merged.get((code, "", "", ""), {}))
        if period == "" and breakdown == "":
            for name in COUNTED:
                if figures.get(name) is None:
                    figures[name] = 0
            for name in MONEY_AND_HOURS:
                figures[name] = figures.get(name) or 0.0
            figures.update(targets)  # "targets", and "target_bases" where a target is relative
            # A target of one scheme or service area: its actual, from the breakdown row, beside it.
            for figure in {**targets.get("targets", {}), **targets.get("target_bases", {})}:
                if ":" in figure:
                    metric, target_key = figure.split(":", 1)
                    breakdown_of = CampaignTarget.breakdown_of(metric)
                    row = (code, "", breakdown_of, target_key)
                    # No firm of that scheme or area (on that side) yet is 0, and 0% of the whole.
                    none_yet = {part: 0 for part, _whole in SHARES_OF_TOTAL[breakdown_of].values()}
                    row_measures = {**none_yet, **merged.get(row, {})}
                    figures[figure] = self.figures(row_measures, row, {}, merged).get(metric)
        return figures

    def note(self, result: Result, now) -> None:
        state, _ = KpiState.objects.get_or_create(campaign=self.campaign)
        if self.full:
            state.verified_at, state.corrections = now, result.corrections
            if result.corrections:
                logger.warning("KPI full count of campaign %s corrected %d figures", self.campaign.pk,
                               result.corrections)
        if result.written or result.deleted:
            state.updated_at = now
        state.save()
