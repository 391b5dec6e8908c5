"""What a campaign dashboard shows, read from the KPI snapshots (campaigns/kpis/engine.py) and nothing else.

`dashboard_for` settles which region the user looks at (404 outside the campaign's jurisdiction or
the user's), then reads in one query that region's snapshot rows (to date and per month, totals and
breakdowns) with the to-date totals of the regions one level below it. Two more queries name the
industry sections and the service areas (breakdowns, and targets of one service area). Nothing here
recomputes a figure: rates and means come as the engine stored them; only the attainment of targets
(actual ÷ target) is worked out here.
The page (campaigns/kpis/views.py) and its CSV / XLSX export read the same Dashboard.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Min, Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from campaigns.kpis.models import KpiSnapshot, KpiState
from campaigns.models import Campaign, CampaignTarget, key_label
from enterprises.models import Certification, Enterprise
from portal.kpi_notes import TOPIC as KPI_TOPIC
from portal.models import Industry, OutboxEntry, Region, ServiceArea, User, code_prefix, enclosing_codes
from portal.selectors import region_is_visible_to

Breakdown = KpiSnapshot.Breakdown
Metric = CampaignTarget.Metric
CHILD_LEVEL = {Region.Level.NATIONAL: Region.Level.PROVINCE, Region.Level.PROVINCE: Region.Level.CITY,
               Region.Level.CITY: Region.Level.COUNTY}
METRIC_LABELS = dict(Metric.choices)  # lazy: each label follows the language of the request
SCHEMES = dict(Certification.Scheme.choices)


@dataclass(frozen=True)
class Figure:
    """A figure of the engine as a dashboard names it. `unit`: "" a count, "%" a share, "±%" a
    mean change in percent, "yuan" money, "days" a duration, "score" a mean rating out of 5."""

    name: str
    label: str | Promise
    unit: str = ""


F = Figure
HEADLINE_GROUPS: list[tuple[str | Promise, list[Figure]]] = [
    (gettext_lazy("Assistance"), [
        F("firms_assisted", gettext_lazy("Firms assisted")),
        F("key_firms_assisted", gettext_lazy("Key enterprises assisted")),
        F("key_industries", gettext_lazy("Key industries covered")),
        F("visits", gettext_lazy("Visits")),
        F("consultations", gettext_lazy("Consultations (remote and mobile clinic)")),
    ]),
    (gettext_lazy("Training"), [
        F("training_sessions", gettext_lazy("Training sessions")),
        F("person_times", gettext_lazy("Person-times trained")),
        F("firm_times", gettext_lazy("Firm-times trained")),
    ]),
    (gettext_lazy("Needs"), [
        F("needs_received", gettext_lazy("Needs received")),
        F("needs_fulfilled", gettext_lazy("Needs fulfilled")),
        F("fulfilment_rate", gettext_lazy("Fulfilment rate"), "%"),
        F("days_to_first_visit", gettext_lazy("Days from need to first visit"), "days"),
    ]),
    (gettext_lazy("Certification and satisfaction"), [
        F("firms_certified", gettext_lazy("Firms certified")),
        F("certified_share", gettext_lazy("Share of assisted firms certified"), "%"),
        F("satisfaction_mean", gettext_lazy("Mean satisfaction (1-5)"), "score"),
        F("satisfied_share", gettext_lazy("Ratings of 4 or 5"), "%"),
    ]),
    (gettext_lazy("Survey outcomes"), [
        F("awareness_up_share", gettext_lazy("Quality awareness up"), "%"),
        F("performance_up_share", gettext_lazy("Quality performance up"), "%"),
        F("revenue_change_mean", gettext_lazy("Mean revenue change"), "±%"),
        F("output_change_mean", gettext_lazy("Mean output change"), "±%"),
        F("margin_change_mean", gettext_lazy("Mean profit-margin change"), "±%"),
    ]),
    (gettext_lazy("Surveys and certification"), [
        F("firms_surveyed", gettext_lazy("Firms surveyed")),
        F("surveyed_certified", gettext_lazy("Surveyed firms certified")),
        F("surveyed_certified_share", gettext_lazy("Share of surveyed firms certified"), "%"),
        F("baseline_surveys", gettext_lazy("Baseline surveys answered")),
    ]),
    (gettext_lazy("Key designations"), [
        F("key_parks", gettext_lazy("Key industrial parks")),
        F("key_products", gettext_lazy("Key products or services")),
    ]),
    (gettext_lazy("Results"), [
        F("labs_set_up", gettext_lazy("Labs set up")),
        F("excellence_models", gettext_lazy("Excellence-performance models adopted")),
        F("money_saved", gettext_lazy("Money saved (yuan)"), "yuan"),
        F("money_saved_once", gettext_lazy("of which one-off (yuan)"), "yuan"),
        F("money_saved_per_year", gettext_lazy("of which per year (yuan)"), "yuan"),
    ]),
]
HEADLINE = [figure for _group, figures in HEADLINE_GROUPS for figure in figures]
# Any headline figure can order the ranking of regions (?rank_by=), most first.
RANKABLE = {figure.name: figure for figure in HEADLINE}
DEFAULT_RANK_BY = "firms_assisted"
# The ranking table's columns and the monthly series, besides the targets.
RANKED = [F("firms_assisted", gettext_lazy("Firms assisted")),
          F("key_firms_assisted", gettext_lazy("Key enterprises")),
          F("visits", gettext_lazy("Visits")),
          F("person_times", gettext_lazy("Person-times")),
          F("needs_fulfilled", gettext_lazy("Needs fulfilled")),
          F("certified_share", gettext_lazy("Certified share"), "%"),
          F("satisfaction_mean", gettext_lazy("Satisfaction"), "score")]
# The ranking's columns a phone shows; the others appear from a tablet's width up.
PHONE_COLUMNS = {"firms_assisted", "person_times"}
TREND = [F("firms_assisted", gettext_lazy("Firms assisted")), F("visits", gettext_lazy("Visits")),
         F("person_times", gettext_lazy("Person-times"))]
MONTHLY = [*TREND,
           F("key_firms_assisted", gettext_lazy("Key enterprises assisted")),
           F("consultations", gettext_lazy("Consultations")),
           F("training_sessions", gettext_lazy("Training sessions")),
           F("firm_times", gettext_lazy("Firm-times")),
           F("needs_received", gettext_lazy("Needs received")),
           F("needs_fulfilled", gettext_lazy("Needs fulfilled")),
           F("cases_closed", gettext_lazy("Cases closed"))]
# Which figures each breakdown carries (the engine's sources that have that breakdown).
BREAKDOWN_FIGURES = {
    Breakdown.INDUSTRY: [F("firms_assisted", gettext_lazy("Firms assisted")), F("visits", gettext_lazy("Visits")),
                         F("needs_received", gettext_lazy("Needs received")),
                         F("firms_certified", gettext_lazy("Firms certified")),
                         F("firm_times", gettext_lazy("Firm-times")), F("person_times", gettext_lazy("Person-times"))],
    Breakdown.SIZE: [F("firms_assisted", gettext_lazy("Firms assisted")), F("visits", gettext_lazy("Visits")),
                     F("needs_received", gettext_lazy("Needs received")),
                     F("firms_certified", gettext_lazy("Firms certified")),
                     F("firm_times", gettext_lazy("Firm-times")), F("person_times", gettext_lazy("Person-times"))],
    Breakdown.SERVICE_AREA: [F("needs_received", gettext_lazy("Needs received")),
                             F("needs_fulfilled", gettext_lazy("Needs fulfilled")),
                             F("training_sessions", gettext_lazy("Training sessions")),
                             F("firms_wanting", gettext_lazy("Baseline firms wanting it")),
                             F("wanting_share", gettext_lazy("Share of baseline firms wanting it"), "%")],
    Breakdown.SCHEME: [F("firms_certified", gettext_lazy("Assisted firms certified")),
                       F("certified_share", gettext_lazy("Share of assisted firms"), "%"),
                       F("surveyed_certified", gettext_lazy("Surveyed firms certified")),
                       F("surveyed_certified_share", gettext_lazy("Share of surveyed firms"), "%")],
}
BASELINE_FIGURES = BREAKDOWN_FIGURES[Breakdown.SERVICE_AREA][-2:]  # firms wanting an area, and their share
TARGET_UNITS = {**dict.fromkeys(CampaignTarget.PERCENT_METRICS, "%"), Metric.SATISFACTION_MEAN: "score",
                Metric.REVENUE_CHANGE_MEAN: "±%", Metric.OUTPUT_CHANGE_MEAN: "±%", Metric.MARGIN_CHANGE_MEAN: "±%",
                Metric.MONEY_SAVED_ONCE: "yuan", Metric.MONEY_SAVED_PER_YEAR: "yuan"}


def display(value, unit: str = "") -> str:
    """A figure as a card or a table shows it: grouped digits, at most two decimals, "—" for none."""
    if value is None:
        return "—"
    # Grouped by thousands whatever the language: Django's Chinese number format does not group.
    text = f"{value:,.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else f"{value:,}"
    if unit == "%":
        return f"{text}%"
    if unit == "±%":
        return f"+{text}%" if value > 0 else f"{text}%"
    return str(text)


@dataclass
class TargetRow:
    """One target of a region against its actual figure."""

    metric: str
    label: str | Promise
    target: float | None  # None: a relative target whose base campaign has no figure here
    actual: float | None
    # A relative target: {"campaign": id, "campaign_name", "percent", "base"} (campaigns/kpis/targets.py).
    basis: dict | None = None

    @property
    def unit(self) -> str:
        return TARGET_UNITS.get(self.metric.split(":")[0], "")

    @property
    def has_target(self) -> bool:
        return self.target is not None

    @property
    def attainment(self) -> float | None:
        """Actual ÷ target in percent; a target of 0 is met, a figure with nothing to measure yet is not;
        None without a base figure to work the target out from."""
        if self.target is None:
            return None
        if not self.target:
            return 100.0
        return round(100 * (self.actual or 0) / self.target, 1)

    @property
    def bar(self) -> float:
        return min(self.attainment or 0.0, 100.0)

    @property
    def met(self) -> bool:
        return self.attainment is not None and self.attainment >= 100

    @property
    def target_display(self) -> str:
        if self.target is None:
            return _("no base figure")
        return display(self.target, self.unit)

    @property
    def basis_text(self) -> str:
        """"20% more than <campaign> (n)" for a relative target, "" for an absolute one."""
        if not self.basis:
            return ""
        percent = self.basis.get("percent") or 0
        percent_text = f"{percent:g}"
        base = self.basis.get("base")
        base_text = display(base, self.unit) if base is not None else _("no base figure")
        if percent < 0:
            text = _("%(percent)s%% less than %(campaign)s (%(base)s)") % {
                "percent": f"{-percent:g}", "campaign": self.basis.get("campaign_name"), "base": base_text}
        else:
            text = _("%(percent)s%% more than %(campaign)s (%(base)s)") % {
                "percent": percent_text, "campaign": self.basis.get("campaign_name"), "base": base_text}
        return text

    @property
    def actual_display(self) -> str:
        return display(self.actual, self.unit)


ORDER = {metric: position for position, metric in enumerate(Metric.values)}


def figure_order(figure: str) -> tuple[int, str]:
    """Targets in the order of the Metric choices; a metric's keyed targets (one scheme, one service
    area: "metric:key") after its own."""
    return ORDER.get(figure.split(":")[0], len(ORDER)), figure


def figure_label(figure: str, areas: dict[str, str] | None = None) -> str | Promise:
    """A target's figure as people read it: the metric's label, with the scheme or service area of a
    keyed one ("Share of baseline firms wanting a service area (%) · 2 质量基础设施升级")."""
    metric, _colon, key = figure.partition(":")
    label = METRIC_LABELS.get(metric, metric)
    if not key:
        return label
    if metric in CampaignTarget.SCHEME_METRICS:
        named = str(SCHEMES.get(key, key))
    elif areas is not None:
        named = areas.get(key, key)
    else:  # one target's label (the weekly pace notice): one query
        named = key_label(metric, key)
    return f"{label} · {named}"


def target_rows(figures: dict, areas: dict[str, str] | None = None) -> list[TargetRow]:
    """The targets a snapshot row carries, against its figures, in the order of the Metric choices
    (a metric's keyed targets after its own); a relative one with what it was worked out from, also
    when its base campaign has no figure here."""
    targets = figures.get("targets") or {}
    bases = figures.get("target_bases") or {}
    return [TargetRow(figure, figure_label(figure, areas), targets.get(figure), figures.get(figure), bases.get(figure))
            for figure in sorted(set(targets) | set(bases), key=figure_order)]


def attainment(targets: list[TargetRow]) -> float | None:
    """A region's attainment of its targets: the mean of each target's, each capped at 100%, so a
    target far overshot does not hide one missed. A target without a base figure is left out."""
    targets = [row for row in targets if row.has_target]
    if not targets:
        return None
    return round(sum(row.bar for row in targets) / len(targets), 1)


@dataclass
class ChildRow:
    """A region one level below the dashboard's, as the ranking shows it."""

    region: Region
    figures: dict
    url: str
    rank: int = 0
    targets: list[TargetRow] = field(default_factory=list)

    @property
    def attainment(self) -> float | None:
        return attainment(self.targets)

    def cells(self) -> list[tuple[str, bool]]:
        """Each ranking column's text, and whether a phone shows it."""
        return [(display(self.figures.get(figure.name), figure.unit), figure.name in PHONE_COLUMNS)
                for figure in RANKED]


@dataclass
class BreakdownRow:
    key: str
    label: str
    figures: dict


@dataclass
class Card:
    figure: Figure
    value: Any
    target: TargetRow | None

    @property
    def text(self) -> str:
        return display(self.value, self.figure.unit)


@dataclass
class Dashboard:
    campaign: Campaign
    region: Region
    trail: list[Region]  # province → city → county, only the levels the user may open
    child_level: str | None
    totals: dict | None  # None: not computed yet
    computed_at: datetime | None
    months: list[tuple[str, dict]]
    breakdowns: dict[str, list[BreakdownRow]]
    children: list[ChildRow]
    url: str
    # When each set of figures last changed or was last confirmed by a recount of the campaign.
    as_of: dict[str, datetime | None] = field(default_factory=dict)
    waiting: int = 0  # changes noted in the outbox and not yet counted
    waiting_since: datetime | None = None
    rank_by: str = DEFAULT_RANK_BY
    areas: dict[str, str] = field(default_factory=dict)  # service-area number → "number name"

    @property
    def computed(self) -> bool:
        return self.totals is not None

    @property
    def targets(self) -> list[TargetRow]:
        return target_rows(self.totals or {}, self.areas)

    def groups(self) -> list[tuple[str | Promise, list[Card]]]:
        totals = self.totals or {}
        targets = {row.metric: row for row in self.targets}
        return [(title, [Card(figure, totals.get(figure.name), targets.get(figure.name)) for figure in figures])
                for title, figures in HEADLINE_GROUPS]

    def figure_tables(self) -> list[tuple[str | Promise, list[Figure], list[tuple[str, list[str]]]]]:
        """The published figures read off a breakdown as tables (title, columns, rows of label and
        texts): certification per scheme, and the baseline survey's services wanted."""
        wanted = [row for row in self.breakdowns.get(Breakdown.SERVICE_AREA, []) if "firms_wanting" in row.figures]
        tables = []
        for title, figures, rows in (
            (gettext_lazy("Certification by scheme"), BREAKDOWN_FIGURES[Breakdown.SCHEME],
             self.breakdowns.get(Breakdown.SCHEME, [])),
            (gettext_lazy("Services wanted in the baseline survey"), BASELINE_FIGURES, wanted),
        ):
            if rows:
                tables.append((title, figures, [(row.label, [display(row.figures.get(figure.name), figure.unit)
                                                             for figure in figures]) for row in rows]))
        return tables

    def child_target_metrics(self) -> list[str]:
        """Every figure with a target in at least one region below, in the order of the Metric choices."""
        return sorted({row.metric for child in self.children for row in child.targets}, key=figure_order)

    def target_columns(self) -> list[tuple[str, str | Promise]]:
        return [(metric, figure_label(metric, self.areas)) for metric in self.child_target_metrics()]

    def target_matrix(self) -> list[tuple["ChildRow", list[TargetRow | None]]]:
        """Each region below with its target of each column's figure (None where it has none)."""
        metrics = self.child_target_metrics()
        matrix = []
        for child in self.children:
            targets = {row.metric: row for row in child.targets}
            matrix.append((child, [targets.get(metric) for metric in metrics]))
        return matrix


def dashboard_region(user: User, campaign: Campaign, code: str | None) -> str:
    """The region code the dashboard shows: the one asked for, else the user's jurisdiction when it
    lies inside the campaign's, else the campaign's. 404 outside either jurisdiction."""
    code = (code or "").strip()
    if not code:
        own = user.region_id if not user.is_administrator else None
        code = own if own and campaign.covers(own) else campaign.region_id
    if not (len(code) == 6 and code.isdigit() and campaign.covers(code) and region_is_visible_to(user, code)):
        raise Http404(_("This region is outside the campaign or your jurisdiction."))
    return code


def month_range(first: date, last: date) -> list[str]:
    months, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def dashboard_for(*, user: User, campaign: Campaign, code: str | None = None, rank_by: str | None = None
                  ) -> Dashboard:
    """The dashboard of `campaign` for `user` at region `code` (see dashboard_region), in four
    queries: the region with the levels above it, the snapshots, the industry sections and the
    service areas (chart labels)."""
    code = dashboard_region(user, campaign, code)
    trail_codes = [c for c in enclosing_codes(code) if campaign.covers(c) and region_is_visible_to(user, c)]
    trail = list(Region.objects.filter(code__in=trail_codes).order_by("code"))
    region = next((r for r in trail if r.code == code), None)
    if region is None:
        raise Http404(_("No such region."))
    child_level = CHILD_LEVEL.get(region.level)

    rows = KpiSnapshot.objects.filter(campaign=campaign, region_id=code)
    if child_level:
        children_rows = KpiSnapshot.objects.filter(campaign=campaign, level=child_level, period="",
                                                   breakdown=Breakdown.TOTAL,
                                                   region__code__startswith=code_prefix(code))
        rows = rows | children_rows
    url = reverse("dashboards:campaign", args=[campaign.pk])
    totals, computed_at, months, children = None, None, {}, []
    raw_breakdowns: dict[str, dict[str, dict]] = {key: {} for key in BREAKDOWN_FIGURES}
    changed: dict[str, datetime] = {}
    areas = {str(area.code): f"{area.code} {area.label}" for area in ServiceArea.objects.all()}
    for row in rows.select_related("region").order_by("region_id", "period", "breakdown", "key"):
        if row.region_id != code:
            children.append(ChildRow(row.region, row.figures, f"{url}?region={row.region_id}",
                                     targets=target_rows(row.figures, areas)))
            figure_set = "regions"
        elif row.breakdown:
            raw_breakdowns.setdefault(row.breakdown, {})[row.key] = row.figures
            figure_set = "breakdowns"
        elif row.period:
            months[row.period] = row.figures
            figure_set = "trend"
        else:
            totals, computed_at = row.figures, row.computed_at
            figure_set = "totals"
        changed[figure_set] = max(changed.get(figure_set, row.computed_at), row.computed_at)
        computed_at = computed_at or row.computed_at
    checked, waiting, waiting_since = freshness(campaign)
    as_of = {name: max(filter(None, [changed.get(name), checked]), default=None)
             for name in ("totals", "trend", "breakdowns", "regions")}

    if computed_at is not None:
        last = min(campaign.ends_on, timezone.localtime(computed_at).date())
        for period in month_range(campaign.starts_on, last):
            months.setdefault(period, {})
    rank_by = rank_by if rank_by in RANKABLE else DEFAULT_RANK_BY
    rank_children(children, rank_by)
    return Dashboard(campaign=campaign, region=region, trail=trail, child_level=child_level, totals=totals,
                     computed_at=as_of["totals"] or computed_at, months=sorted(months.items()),
                     breakdowns=label_breakdowns(raw_breakdowns, areas), children=children, url=url, as_of=as_of,
                     waiting=waiting, waiting_since=waiting_since, rank_by=rank_by, areas=areas)


def freshness(campaign: Campaign) -> tuple[datetime | None, int, datetime | None]:
    """When the campaign's figures were last recounted (an update or a full count), and the changes
    noted since and not yet counted: how many, and since when. Notes about a firm or a region (key
    designations) may concern any campaign; they count as waiting for each until drained (a second at
    most with a worker)."""
    state = KpiState.objects.filter(campaign=campaign).values_list("verified_at", "updated_at").first()
    checked = max(filter(None, state), default=None) if state else None
    notes = (OutboxEntry.objects.filter(topic=KPI_TOPIC)
             .filter(Q(payload__campaign=campaign.pk) | Q(payload__has_key="codes"))
             .aggregate(count=Count("pk"), since=Min("created_at")))
    return checked, notes["count"], notes["since"]


def rank_children(children: list[ChildRow], by: str = DEFAULT_RANK_BY) -> None:
    """Most of the figure `by` first (firms assisted unless told); a region without the figure (no
    rating yet) last; equal figures share a rank (1, 1, 3)."""
    children.sort(key=lambda child: (-(child.figures.get(by) or 0), child.region.code))
    previous = None
    for position, child in enumerate(children, start=1):
        value = child.figures.get(by) or 0
        child.rank = position if value != previous else children[position - 2].rank
        previous = value


def label_breakdowns(raw: dict[str, dict[str, dict]], areas: dict[str, str]) -> dict[str, list[BreakdownRow]]:
    """Breakdown rows with their labels, in the order of the sections, size classes, areas and schemes."""
    sections = {i.code: f"{i.code} {i.label}" for i in Industry.objects.filter(level=Industry.Level.SECTION)}
    sizes = dict(Enterprise.Size.choices)
    not_recorded = _("Not recorded")
    labelled = {}
    for breakdown, names, order in (
        (Breakdown.INDUSTRY, sections, list(sections)),
        (Breakdown.SIZE, sizes, list(sizes)),
        (Breakdown.SERVICE_AREA, areas, list(areas)),
        (Breakdown.SCHEME, SCHEMES, list(SCHEMES)),
    ):
        rows = raw.get(breakdown, {})
        keys = sorted(rows, key=lambda key: (order.index(key) if key in order else len(order), key))
        labelled[breakdown] = [BreakdownRow(key, str(names.get(key, key or not_recorded)), rows[key]) for key in keys]
    return labelled


def chart_data(dashboard: Dashboard) -> dict:
    """Everything static/portal/dashboard.js draws, for json_script: labels already translated."""
    children = dashboard.children
    metrics = dashboard.child_target_metrics()
    region_charts = []
    if Metric.FIRMS_ASSISTED not in metrics:  # else its target chart shows it
        region_charts.append({
            "title": _("Firms assisted by region"),
            "series": [{"name": _("Firms assisted"),
                        "data": [c.figures.get("firms_assisted") or 0 for c in children]}],
        })
    for metric in metrics:
        targets = [{row.metric: row for row in c.targets}.get(metric) for c in children]
        region_charts.append({
            "title": _("%(figure)s: actual against target") % {"figure": figure_label(metric, dashboard.areas)},
            "series": [
                {"name": _("Actual"), "data": [c.figures.get(metric) for c in children]},
                {"name": _("Target"), "data": [row.target if row else None for row in targets]},
            ],
        })
    breakdowns = dashboard.breakdowns
    # The charts leave out industries and size classes without a firm assisted (they have rows
    # for their visits, needs or trainees); the export keeps them.
    industries = [row for row in breakdowns[Breakdown.INDUSTRY] if row.figures.get("firms_assisted")]
    sizes = [row for row in breakdowns[Breakdown.SIZE] if row.figures.get("firms_assisted")]
    return {
        "regions": {"names": [c.region.name for c in children], "urls": [c.url for c in children],
                    "charts": region_charts if children else []},
        "monthly": {
            "months": [period for period, _figures in dashboard.months],
            "series": [{"name": str(figure.label),
                        "data": [figures.get(figure.name) or 0 for _period, figures in dashboard.months]}
                       for figure in TREND],
        },
        "industry": {
            "names": [row.label for row in industries],
            "series": [{"name": _("Firms assisted"), "data": [row.figures["firms_assisted"] for row in industries]}],
        },
        "size": [{"name": row.label, "key": row.key, "value": row.figures["firms_assisted"]} for row in sizes],
        "serviceArea": {
            "names": [row.label for row in breakdowns[Breakdown.SERVICE_AREA]],
            "series": [{"name": str(figure.label),
                        "data": [row.figures.get(figure.name) or 0 for row in breakdowns[Breakdown.SERVICE_AREA]]}
                       for figure in BREAKDOWN_FIGURES[Breakdown.SERVICE_AREA] if not figure.unit],
        },
        "text": {"noData": _("Nothing recorded yet."), "firmsAssisted": _("Firms assisted")},
    }
