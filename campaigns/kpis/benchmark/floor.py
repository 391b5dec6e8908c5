"""The engine timed against one hand-written statement (the floor), and checked equal to it."""

import re
import statistics
import time
from collections import defaultdict

from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.kpis import engine as kpis
from campaigns.kpis.benchmark.worker import seconds
from campaigns.kpis.models import KpiCell, KpiSnapshot, KpiState
from campaigns.models import Campaign
from portal.models import Region

# The table a statement reads or writes; Django aliases the tables of a subquery U0, U1 ...
TABLE_PATTERN = re.compile(r'(?:FROM|INTO) "(\w+)"(?! U\d)')
# The floor: every figure the engine stores (campaigns/kpis/engine.py), every to-date and monthly
# total and every breakdown, in one statement. Additive figures are summed per region code, month
# and breakdown key first; the distinct ones (firms assisted, surveyed, certified, wanting a service
# area; key industries) go through row by row. GROUPING SETS then place every row under its
# province, its city (unless the code is the province's own) and its county (unless the code is a
# city's or the province's own), to date and per month; breakdowns to date only, as the engine
# keeps them.
FLOOR_SQL = """
WITH
cases AS (
    SELECT ac.id, ac.enterprise_id, ac.opened_at, ac.closed_at, ac.status, ac.resolution, ac.certificate_obtained,
           ac.standard_drafted, ac.excellence_model_adopted, ac.lab_set_up, ac.money_saved,
           e.region_id AS code, e.is_key, e.industry_id, e.size, i.parent_id AS section
    FROM campaigns_assistancecase ac JOIN enterprises_enterprise e ON e.id = ac.enterprise_id
    JOIN portal_industry i ON i.code = e.industry_id
    WHERE ac.campaign_id = %(campaign)s
),
case_first_visits AS (
    SELECT v.case_id, min(v.visited_on) AS first_visit
    FROM campaigns_visit v WHERE v.case_id IN (SELECT id FROM cases) GROUP BY v.case_id
),
answered AS (  -- each need a campaign case answers, once, with the first visit of any such case
    SELECT cn.needrequest_id AS need_id, min(f.first_visit) AS first_visit
    FROM campaigns_assistancecase_needs cn JOIN case_first_visits f ON f.case_id = cn.assistancecase_id
    GROUP BY cn.needrequest_id
),
-- The additive sources, each read once at its finest grain (code, month and its breakdown keys).
visits AS (
    SELECT c.code, date_trunc('month', v.visited_on::timestamp)::date AS month, c.section, c.size,
           count(*) AS visits, count(*) FILTER (WHERE v.mode = 'on_site') AS on_site,
           count(*) FILTER (WHERE v.mode IN ('remote', 'mobile_clinic')) AS consultations, sum(v.hours) AS hours
    FROM campaigns_visit v JOIN cases c ON c.id = v.case_id GROUP BY 1, 2, 3, 4
),
needs AS (
    SELECT e.region_id AS code, date_trunc('month', n.submitted_at AT TIME ZONE %(tz)s)::date AS month,
           i.parent_id AS section, e.size, n.service_area_id AS area,
           count(*) AS received, count(*) FILTER (WHERE n.status = 'fulfilled') AS fulfilled,
           count(*) FILTER (WHERE n.status = 'declined') AS declined
    FROM enterprises_needrequest n JOIN enterprises_enterprise e ON e.id = n.enterprise_id
    JOIN portal_industry i ON i.code = e.industry_id
    WHERE e.region_id LIKE %(prefix)s
      AND (n.submitted_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
      AND (%(areas)s::integer[] IS NULL OR n.service_area_id = ANY (%(areas)s::integer[]))
    GROUP BY 1, 2, 3, 4, 5
),
sessions AS (
    SELECT region_id AS code, date_trunc('month', held_on::timestamp)::date AS month, service_area_id AS area,
           count(*) AS sessions
    FROM campaigns_trainingsession WHERE campaign_id = %(campaign)s GROUP BY 1, 2, 3
),
attendance AS (
    SELECT t.region_id AS code, date_trunc('month', t.held_on::timestamp)::date AS month, i.parent_id AS section,
           e.size, count(*) AS firm_times, sum(a.persons) AS person_times
    FROM campaigns_trainingattendance a JOIN campaigns_trainingsession t ON t.id = a.session_id
    JOIN enterprises_enterprise e ON e.id = a.enterprise_id JOIN portal_industry i ON i.code = e.industry_id
    WHERE t.campaign_id = %(campaign)s GROUP BY 1, 2, 3, 4
),
certified AS (
    SELECT e.region_id AS code, date_trunc('month', ce.issued_on::timestamp)::date AS month, i.parent_id AS section,
           e.size, ce.scheme, ce.enterprise_id
    FROM enterprises_certification ce JOIN enterprises_enterprise e ON e.id = ce.enterprise_id
    JOIN portal_industry i ON i.code = e.industry_id
    WHERE ce.enterprise_id IN (SELECT enterprise_id FROM cases) AND ce.issued_on BETWEEN %(start)s AND %(end)s
),
surveyed AS (  -- every survey answered for the campaign, either kind
    SELECT sv.id, sv.enterprise_id, sv.kind, e.region_id AS code,
           date_trunc('month', sv.answered_at AT TIME ZONE %(tz)s)::date AS month
    FROM enterprises_needssurvey sv JOIN enterprises_enterprise e ON e.id = sv.enterprise_id
    WHERE sv.campaign_id = %(campaign)s
),
surveyed_certified AS (
    SELECT e.region_id AS code, date_trunc('month', ce.issued_on::timestamp)::date AS month, ce.scheme,
           ce.enterprise_id
    FROM enterprises_certification ce JOIN enterprises_enterprise e ON e.id = ce.enterprise_id
    WHERE ce.enterprise_id IN (SELECT enterprise_id FROM surveyed) AND ce.issued_on BETWEEN %(start)s AND %(end)s
),
designations AS (
    SELECT region_id AS code, date_trunc('month', designated_on::timestamp)::date AS month,
           count(*) FILTER (WHERE kind = 'park') AS parks, count(*) FILTER (WHERE kind = 'product') AS products
    FROM enterprises_keydesignation
    WHERE region_id LIKE %(prefix)s AND designated_on BETWEEN %(start)s AND %(end)s
    GROUP BY 1, 2
),
-- Every figure as (code, month, breakdown, key, measure, amount or item): breakdown '' is the total.
facts (code, month, breakdown, bkey, measure, amount, item) AS (
    SELECT c.code, date_trunc('month', c.opened_at AT TIME ZONE %(tz)s)::date, b.breakdown, b.bkey, m.measure,
           m.amount, m.item
    FROM cases c
    CROSS JOIN LATERAL (VALUES ('', ''), ('industry', c.section), ('size', c.size)) AS b (breakdown, bkey)
    CROSS JOIN LATERAL (VALUES ('cases', 1::numeric, NULL::text), ('firms_assisted', NULL, c.enterprise_id::text),
                               ('key_firms_assisted', NULL, CASE WHEN c.is_key THEN c.enterprise_id::text END),
                               ('key_industries', NULL, CASE WHEN c.is_key THEN c.industry_id END))
        AS m (measure, amount, item)
    UNION ALL
    SELECT s.code, s.month, '', '', m.measure, m.amount, NULL FROM (
        SELECT code, date_trunc('month', closed_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS closed,
               count(*) FILTER (WHERE resolution = 'resolved') AS resolved,
               count(*) FILTER (WHERE certificate_obtained) AS certificates,
               count(*) FILTER (WHERE standard_drafted) AS standards,
               count(*) FILTER (WHERE excellence_model_adopted) AS excellence,
               count(*) FILTER (WHERE lab_set_up) AS labs, sum(money_saved) AS money
        FROM cases WHERE status = 'closed' GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('cases_closed', s.closed::numeric), ('cases_resolved', s.resolved),
                                   ('certificates_obtained', s.certificates), ('standards_drafted', s.standards),
                                   ('excellence_models', s.excellence), ('labs_set_up', s.labs),
                                   ('money_saved', s.money)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, b.breakdown, b.bkey, m.measure, m.amount, NULL FROM visits s
    CROSS JOIN LATERAL (VALUES ('', ''), ('industry', s.section), ('size', s.size)) AS b (breakdown, bkey)
    CROSS JOIN LATERAL (VALUES ('visits', s.visits::numeric), ('on_site_visits', s.on_site),
                               ('consultations', s.consultations), ('visit_hours', s.hours)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, b.breakdown, b.bkey, m.measure, m.amount, NULL FROM needs s
    CROSS JOIN LATERAL (VALUES ('', ''), ('industry', s.section), ('size', s.size),
                               ('service_area', s.area::text)) AS b (breakdown, bkey)
    CROSS JOIN LATERAL (VALUES ('needs_received', s.received::numeric), ('needs_fulfilled', s.fulfilled),
                               ('needs_declined', s.declined)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, '', '', m.measure, m.amount, NULL FROM (
        SELECT e.region_id AS code, date_trunc('month', n.submitted_at AT TIME ZONE %(tz)s)::date AS month,
               count(*) AS answered, sum(a.first_visit - (n.submitted_at AT TIME ZONE %(tz)s)::date) AS wait_days
        FROM answered a JOIN enterprises_needrequest n ON n.id = a.need_id
        JOIN enterprises_enterprise e ON e.id = n.enterprise_id
        GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('needs_visited', s.answered::numeric), ('wait_days', s.wait_days))
        AS m (measure, amount)
    UNION ALL
    SELECT c.code, c.month, b.breakdown, b.bkey, 'firms_certified', NULL, c.enterprise_id::text FROM certified c
    CROSS JOIN LATERAL (VALUES ('', ''), ('industry', c.section), ('size', c.size), ('scheme', c.scheme))
        AS b (breakdown, bkey)
    UNION ALL
    SELECT s.code, s.month, '', '', 'firms_surveyed', NULL, s.enterprise_id::text FROM surveyed s
    UNION ALL
    SELECT s.code, s.month, '', '', 'baseline_surveys', NULL, s.enterprise_id::text FROM surveyed s
    WHERE s.kind = 'baseline'
    UNION ALL
    SELECT s.code, s.month, 'service_area', w.servicearea_id::text, 'firms_wanting', NULL, s.enterprise_id::text
    FROM surveyed s JOIN enterprises_needssurvey_services_wanted w ON w.needssurvey_id = s.id
    WHERE s.kind = 'baseline'
    UNION ALL
    SELECT c.code, c.month, b.breakdown, b.bkey, 'surveyed_certified', NULL, c.enterprise_id::text
    FROM surveyed_certified c CROSS JOIN LATERAL (VALUES ('', ''), ('scheme', c.scheme)) AS b (breakdown, bkey)
    UNION ALL
    SELECT s.code, s.month, '', '', m.measure, m.amount, NULL FROM designations s
    CROSS JOIN LATERAL (VALUES ('key_parks', s.parks::numeric), ('key_products', s.products)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, '', '', m.measure, m.amount, NULL FROM (
        SELECT c.code, date_trunc('month', r.rated_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS ratings,
               sum(r.score) AS score_sum, count(*) FILTER (WHERE r.score >= 4) AS satisfied
        FROM campaigns_caserating r JOIN cases c ON c.id = r.case_id GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('ratings', s.ratings::numeric), ('rating_sum', s.score_sum),
                                   ('satisfied', s.satisfied)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, '', '', m.measure, m.amount, NULL FROM (
        SELECT e.region_id AS code, date_trunc('month', sv.answered_at AT TIME ZONE %(tz)s)::date AS month,
               count(*) AS surveys, count(*) FILTER (WHERE sv.awareness_improved) AS awareness,
               count(*) FILTER (WHERE sv.performance_improved) AS performance,
               count(sv.revenue_change_pct) AS revenue_n, sum(sv.revenue_change_pct) AS revenue,
               count(sv.output_change_pct) AS output_n, sum(sv.output_change_pct) AS output,
               count(sv.profit_margin_change_pct) AS margin_n, sum(sv.profit_margin_change_pct) AS margin
        FROM enterprises_needssurvey sv JOIN enterprises_enterprise e ON e.id = sv.enterprise_id
        WHERE sv.campaign_id = %(campaign)s AND sv.kind = 'follow_up'
        GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('surveys', s.surveys::numeric), ('awareness_up', s.awareness),
                                   ('performance_up', s.performance), ('revenue_answers', s.revenue_n),
                                   ('revenue_sum', s.revenue), ('output_answers', s.output_n),
                                   ('output_sum', s.output), ('margin_answers', s.margin_n),
                                   ('margin_sum', s.margin)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, b.breakdown, b.bkey, 'training_sessions', s.sessions::numeric, NULL FROM sessions s
    CROSS JOIN LATERAL (VALUES ('', ''), ('service_area', s.area::text)) AS b (breakdown, bkey)
    UNION ALL
    SELECT s.code, s.month, b.breakdown, b.bkey, m.measure, m.amount, NULL FROM attendance s
    CROSS JOIN LATERAL (VALUES ('', ''), ('industry', s.section), ('size', s.size)) AS b (breakdown, bkey)
    CROSS JOIN LATERAL (VALUES ('firm_times', s.firm_times::numeric), ('person_times', s.person_times))
        AS m (measure, amount)
),
placed AS (
    SELECT left(f.code, 2) || '0000' AS province,
           CASE WHEN f.code NOT LIKE '__0000' THEN left(f.code, 4) || '00' END AS city,
           CASE WHEN f.code NOT LIKE '____00' THEN f.code END AS county,
           f.month, f.breakdown, coalesce(f.bkey, '') AS bkey, f.measure, f.amount, f.item
    FROM facts f
)
SELECT coalesce(province, city, county) AS code, coalesce(to_char(month, 'YYYY-MM'), '') AS period,
       breakdown, bkey, measure, sum(amount) AS amount, count(DISTINCT item) AS items
FROM placed
GROUP BY GROUPING SETS ((province, breakdown, bkey, measure), (province, month, breakdown, bkey, measure),
                        (city, breakdown, bkey, measure), (city, month, breakdown, bkey, measure),
                        (county, breakdown, bkey, measure), (county, month, breakdown, bkey, measure))
HAVING coalesce(province, city, county) IS NOT NULL AND (breakdown = '' OR month IS NULL)
"""
DISTINCT_MEASURES = {"firms_assisted", "key_firms_assisted", "key_industries", "firms_certified", "firms_surveyed",
                     "surveyed_certified", "baseline_surveys", "firms_wanting"}


class FloorMeasures:
    """The engine's time and queries, the floor's, the figure-by-figure check and the slowest query's plan."""

    def measure_engine(self) -> None:
        """A first full count (nothing stored yet: every row and cell written), then the full count
        the schedule runs (everything recounted and compared; only what changed is written)."""
        self.heading(f"(a) The engine's full count: a first one, then {self.runs} reconciling run(s)")
        KpiSnapshot.objects.filter(campaign=self.campaign).delete()
        KpiCell.objects.filter(campaign=self.campaign).delete()
        KpiState.objects.filter(campaign=self.campaign).delete()
        started = time.perf_counter()
        written = kpis.compute_campaign(self.campaign.pk)
        self.first_time = time.perf_counter() - started
        cells = KpiCell.objects.filter(campaign=self.campaign).count()
        self.say(f"  first: {seconds(self.first_time)}, {written:,} snapshots and {cells:,} cells written")
        times = []
        for run in range(self.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                result = kpis.recount(self.campaign.pk, kpis.Touched(everything=True))
                times.append(time.perf_counter() - started)
            self.engine_queries = captured.captured_queries
            self.say(f"  run {run + 1}: {seconds(times[-1])}, {len(self.engine_queries)} queries, "
                     f"{result.written:,} rows written, {result.corrections} figures corrected")
        self.engine_time = statistics.median(times)
        by_table: dict[str, float] = defaultdict(float)
        for query in self.engine_queries:
            match = TABLE_PATTERN.search(query["sql"])
            by_table[match.group(1) if match else "?"] += float(query["time"])
        self.say("  time by the table a query reads (last run): " + ", ".join(
            f"{table} {seconds(spent)}" for table, spent in sorted(by_table.items(), key=lambda item: -item[1])))
        self.results.append(("(a) engine: first full count", seconds(self.first_time), "—",
                             f"{written:,} snapshots, {cells:,} cells written", "nothing stored before"))
        self.results.append(("(a) engine: full count (the schedule's)", seconds(self.engine_time),
                             str(len(self.engine_queries)), f"{result.written:,} rows written",
                             "median of " + ", ".join(seconds(t) for t in times)
                             + f"; {result.corrections} figures corrected"))

    def floor_params(self) -> dict:
        campaign = Campaign.objects.select_related("region").get(pk=self.campaign.pk)
        areas = list(campaign.service_areas.values_list("code", flat=True))
        return {"campaign": campaign.pk, "tz": settings.TIME_ZONE, "prefix": campaign.region.prefix + "%",
                "start": campaign.starts_on, "end": campaign.ends_on, "areas": areas or None}

    def measure_floor(self) -> None:
        self.heading(f"(b) The floor: one hand-written statement, {self.runs} run(s)")
        params = self.floor_params()
        times = []
        for _ in range(self.runs):
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute(FLOOR_SQL, params)
                rows = cursor.fetchall()
            times.append(time.perf_counter() - started)
        self.floor_time = statistics.median(times)
        self.floor_rows = rows
        ratio = self.engine_time / self.floor_time if self.floor_time else float("inf")
        self.say(f"  {seconds(self.floor_time)} ({len(rows):,} rows: region × period × breakdown key × figure); "
                 f"the engine's full count takes {ratio:.2f}× the floor")
        self.results.append(("(b) floor: one `WITH … GROUPING SETS` statement", seconds(self.floor_time), "1",
                             f"{len(rows):,} figure rows",
                             f"engine ÷ floor = {ratio:.2f}× (every figure, breakdowns included)"))

    def check_floor(self) -> None:
        """Every figure of every region, period and breakdown key: the floor's against the engine's.

        Counts and sums compare with a missing figure as 0 (the engine leaves a source's figures out
        of a month it has no rows in, and writes 0 for an empty sum to date). A rate or mean is
        compared wherever the engine gives one; those it leaves out of a row on purpose (a monthly
        certified share) are listed, not counted as mismatches.
        """
        self.heading("(b) Floor check: the engine's snapshots against the floor, figure by figure")
        campaign = Campaign.objects.select_related("region").get(pk=self.campaign.pk)
        known = set(Region.objects.filter(code__startswith=campaign.region.prefix).values_list("code", flat=True))
        additive = {name for source in kpis.sources(campaign).values() for name in source.measures} | DISTINCT_MEASURES
        raw: dict[tuple, dict] = defaultdict(dict)
        for code, period, breakdown, bkey, measure, amount, items in self.floor_rows:
            raw[(code, period, breakdown, bkey)][measure] = items if measure in DISTINCT_MEASURES else amount
        for code in known:
            raw.setdefault((code, "", "", ""), {})
        expected = {}
        for key, values in raw.items():
            if key[0] in known:
                # The floor's own mean, whatever the engine passes to derive() for it (a mean or a sum).
                days, visited = values.pop("wait_days", None), values.get("needs_visited")
                # As the engine keeps them: decimal sums in their smallest unit (kpis.SCALE).
                measures = {name: kpis.stored(name, value) for name, value in values.items()}
                figures = kpis.derive(measures)
                if key[2] and not key[1]:  # a scheme's or service area's share of the region's whole
                    kpis.shares_of_total(figures, measures, key[2], raw.get((key[0], "", "", ""), {}))
                figures["days_to_first_visit"] = (round(float(days) / float(visited), 1)
                                                  if days is not None and visited else None)
                expected[key] = figures
        actual = {(row.region_id, row.period, row.breakdown, row.key): row.figures
                  for row in KpiSnapshot.objects.filter(campaign=campaign)}
        names = {name for figures in expected.values() for name in figures}
        engine_names = {name for figures in actual.values() for name in figures} - {"targets"}
        if engine_names - names:
            self.say(self.style.WARNING("  figures the floor does not compute (not checked): "
                                        + ", ".join(sorted(engine_names - names))))
        mismatches, left_out = [], defaultdict(int)
        for key in sorted(set(expected) | set(actual)):
            if key not in actual or key not in expected:
                mismatches.append((key, "the row", "present" if key in actual else "missing",
                                   "present" if key in expected else "missing"))
                continue
            for name in sorted(names):
                engine, floor = actual[key].get(name), expected[key].get(name)
                if name in additive:
                    engine, floor = engine or 0, floor or 0
                elif name not in actual[key]:
                    left_out[name, "to date" if key[1] == "" else "monthly"] += 1
                    continue
                same = (engine is None and floor is None) or (
                    engine is not None and floor is not None and abs(float(engine) - float(floor)) <= 1e-6)
                if not same:
                    mismatches.append((key, name, engine, floor))
        checked = len(set(expected) & set(actual))
        breakdown_rows = sum(1 for key in set(expected) & set(actual) if key[2])
        self.say(f"  {checked:,} rows ({breakdown_rows:,} of them breakdowns) × {len(names)} figures compared; "
                 f"{len(mismatches)} mismatches")
        if left_out:
            self.say("  left out of the engine's rows, so not compared: " + ", ".join(
                f"{name} ({rows:,} {kind} rows)" for (name, kind), rows in sorted(left_out.items())))
        for (code, period, breakdown, bkey), name, engine, floor in mismatches[:40]:
            where = f"{code} {period or 'to date'}" + (f" {breakdown}={bkey}" if breakdown else "")
            self.say(self.style.ERROR(f"  {where} {name}: engine {engine}, floor {floor}"))
        if len(mismatches) > 40:
            self.say(self.style.ERROR(f"  … and {len(mismatches) - 40} more"))
        by_figure: dict[str, int] = defaultdict(int)
        for _key, name, _engine, _floor in mismatches:
            by_figure[name] += 1
        if mismatches:
            self.say(self.style.ERROR("  mismatches by figure: " + ", ".join(
                f"{name} {number}" for name, number in sorted(by_figure.items(), key=lambda item: -item[1]))))
            self.failures.append("the floor and the engine disagree")
        verdict = ("passed: 0 mismatches" if not mismatches else
                   f"FAILED: {len(mismatches):,} mismatches in {len(by_figure)} figures (see above)")
        self.results.append(("(b) floor check: engine snapshots = floor", "—", "—",
                             f"{checked:,} rows ({breakdown_rows:,} breakdowns) × {len(names)} figures", verdict))

    def explain_slowest(self) -> None:
        selects = [q for q in self.engine_queries if q["sql"].lstrip().upper().startswith("SELECT")]
        if not selects:
            self.say(self.style.ERROR("  no engine query was captured"))
            return
        ranked = sorted(selects, key=lambda q: -float(q["time"]))
        self.heading("The engine's five slowest queries (last run)")
        for query in ranked[:5]:
            match = TABLE_PATTERN.search(query["sql"])
            grouped = re.search(r"GROUP BY (.*)$", query["sql"])
            self.say(f"  {float(query['time']):.2f} s  {match.group(1) if match else '?'}  "
                     f"{len(query['sql']):,} chars, GROUP BY {grouped.group(1)[:40] if grouped else '—'}")
        self.heading("EXPLAIN (ANALYZE, BUFFERS) of the engine's slowest query")
        self.say("```sql")
        self.say(ranked[0]["sql"])
        self.say("```")
        self.explain(ranked[0]["sql"])

    def print_table(self) -> None:
        self.heading("Results (Markdown)")
        self.say(f"Data: {self.data_line}.\n")
        self.say("| measurement | time | queries | rows | notes |")
        self.say("|---|---:|---:|---:|---|")
        for row in self.results:
            self.say("| " + " | ".join(row) + " |")
