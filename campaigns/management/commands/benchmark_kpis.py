"""Measure the KPI engine at scale on PostgreSQL: against a hand-written floor and through a real worker.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://127.0.0.1:6379/14 \\
        python manage.py benchmark_kpis --explain --keep

It adds one synthetic Hebei province campaign to the configured database (defaults: 100,000 firms
across Hebei's cities and counties, 100,000 cases over most of them, 1,000,000 visits, 200,000
needs in and out of cases, 20,000 training sessions with their attendance, certificates, ratings
and follow-up surveys), written with COPY in chunks of 10,000 rows, then measures side by side:

a. the engine: `kpis.compute_campaign` (median of --runs), its queries and the snapshots written;
b. the floor: ONE hand-written `WITH ... SELECT` with GROUPING SETS over region prefixes and months
   computing every to-date and monthly total (counts and sums; the industry, size and service-area
   breakdowns are left out), timed the same way, and then checked figure by figure against the
   engine's snapshots for every region and period. A mismatch fails the command;
c. a real Celery worker (`celery -A portal worker --pool solo`, on a queue of its own so no other
   worker on the broker can take the task): one visit logged through `services.visit_log` in a
   transaction, and the time until the county's snapshot counts it, split into the debounce,
   the computation and the write, then the county's dashboard page (when it exists);
d. the campaign dashboard (`dashboards:campaign`) as the province supervisor and a city
   regulator, when that page exists: time and queries.

The results are printed as a Markdown table; --explain adds EXPLAIN (ANALYZE, BUFFERS) of the
engine's slowest query. Synthetic rows are marked (users benchmark_kpis_*, the campaign's name,
the firms' address, certificate numbers BENCH-KPI-*) and deleted at the end unless --keep is
given; --reuse measures the data of an earlier --keep run, --clean only removes it. The audit
trail is append-only: the entries of the one logged visit stay, and so does the (deactivated)
account that logged it.
"""

import io
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, CaseRating, Visit, VisitAttachment
from campaigns.kpis import engine as kpis
from campaigns.kpis import tasks
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign, CampaignTarget
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.demo import GIVEN, NAME_STEMS, SIZES, SURNAMES, TRADE_WORDS
from enterprises.models import Certification, Enterprise, NeedEvent, NeedRequest, NeedsSurvey
from enterprises.uscc import generate_uscc
from portal.benchmarking import BenchmarkCommand, remove_accounts
from portal.celery import app as celery_app
from portal.models import Industry, Region, User

USER_PREFIX = "benchmark_kpis_"
CAMPAIGN_NAME = "benchmark_kpis 河北省中小企业质量提升行动（合成数据）"
FIRM_MARK = "benchmark_kpis synthetic firm"  # in the address: how the clean-up finds the firms
CERTIFICATE_PREFIX = "BENCH-KPI-"
PROVINCE, CITY = "130000", "130100"
CHUNK = 10_000
CAMPAIGN_DAYS = 420  # the campaign started this long ago: about 14 months of monthly rows
IN_SCOPE = list(range(1, 10))  # service area 10 is outside the campaign, so its needs must not count
CLOSED_SHARE, RATED_SHARE, REOPENED_SHARE, KEY_SHARE = 0.40, 0.80, 0.08, 0.10
Status = AssistanceCase.Status
OPEN_STATUSES = ([Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS], [10, 20, 25, 45])
NeedStatus = NeedRequest.Status
# The table a statement reads or writes; Django aliases the tables of a subquery U0, U1 ...
TABLE_PATTERN = re.compile(r'(?:FROM|INTO) "(\w+)"(?! U\d)')
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
TOPICS = ["ISO 9001质量管理体系宣贯", "计量器具管理与校准", "企业标准自我声明公开", "食品生产许可与HACCP",
          "卓越绩效模式导入", "产品质量安全主体责任", "出口产品技术性贸易措施", "质量成本与精益生产",
          "小微企业认证提升", "特种设备安全管理"]
PROBLEMS = ["检验记录不全", "计量器具未按期校准", "无企业标准", "来料检验缺失", "质量目标未分解", "不合格品处置不规范"]

# The floor: every to-date and monthly total of the engine (campaigns/kpis.py) in one statement.
# Decomposable figures are summed per region code and month first; the distinct ones (firms,
# key industries, certified firms) go through row by row. GROUPING SETS then place every row under
# its province, its city (unless the code is the province's own) and its county (unless the code
# is a city's or the province's own), to date and per month.
FLOOR_SQL = """
WITH
cases AS (
    SELECT ac.id, ac.enterprise_id, ac.opened_at, ac.closed_at, ac.status, ac.resolution, ac.certificate_obtained,
           ac.standard_drafted, ac.excellence_model_adopted, ac.lab_set_up, ac.money_saved,
           e.region_id AS code, e.is_key, e.industry_id
    FROM campaigns_assistancecase ac JOIN enterprises_enterprise e ON e.id = ac.enterprise_id
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
monthly (code, month, measure, amount) AS (
    SELECT code, date_trunc('month', opened_at AT TIME ZONE %(tz)s)::date, 'cases', count(*)::numeric
    FROM cases GROUP BY 1, 2
    UNION ALL
    SELECT s.code, s.month, m.measure, m.amount FROM (
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
    SELECT s.code, s.month, m.measure, m.amount FROM (
        SELECT c.code, date_trunc('month', v.visited_on::timestamp)::date AS month, count(*) AS visits,
               count(*) FILTER (WHERE v.mode = 'on_site') AS on_site,
               count(*) FILTER (WHERE v.mode IN ('remote', 'mobile_clinic')) AS consultations, sum(v.hours) AS hours
        FROM campaigns_visit v JOIN cases c ON c.id = v.case_id GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('visits', s.visits::numeric), ('on_site_visits', s.on_site),
                                   ('consultations', s.consultations), ('visit_hours', s.hours)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, m.measure, m.amount FROM (
        SELECT e.region_id AS code, date_trunc('month', n.submitted_at AT TIME ZONE %(tz)s)::date AS month,
               count(*) AS received, count(*) FILTER (WHERE n.status = 'fulfilled') AS fulfilled,
               count(*) FILTER (WHERE n.status = 'declined') AS declined
        FROM enterprises_needrequest n JOIN enterprises_enterprise e ON e.id = n.enterprise_id
        WHERE e.region_id LIKE %(prefix)s
          AND (n.submitted_at AT TIME ZONE %(tz)s)::date BETWEEN %(start)s AND %(end)s
          AND (%(areas)s::integer[] IS NULL OR n.service_area_id = ANY (%(areas)s::integer[]))
        GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('needs_received', s.received::numeric), ('needs_fulfilled', s.fulfilled),
                                   ('needs_declined', s.declined)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, m.measure, m.amount FROM (
        SELECT e.region_id AS code, date_trunc('month', n.submitted_at AT TIME ZONE %(tz)s)::date AS month,
               count(*) AS answered, sum(a.first_visit - (n.submitted_at AT TIME ZONE %(tz)s)::date) AS wait_days
        FROM answered a JOIN enterprises_needrequest n ON n.id = a.need_id
        JOIN enterprises_enterprise e ON e.id = n.enterprise_id
        GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('needs_visited', s.answered::numeric), ('wait_days', s.wait_days))
        AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, m.measure, m.amount FROM (
        SELECT c.code, date_trunc('month', r.rated_at AT TIME ZONE %(tz)s)::date AS month, count(*) AS ratings,
               sum(r.score) AS score_sum, count(*) FILTER (WHERE r.score >= 4) AS satisfied
        FROM campaigns_caserating r JOIN cases c ON c.id = r.case_id GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('ratings', s.ratings::numeric), ('rating_sum', s.score_sum),
                                   ('satisfied', s.satisfied)) AS m (measure, amount)
    UNION ALL
    SELECT s.code, s.month, m.measure, m.amount FROM (
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
    SELECT region_id, date_trunc('month', held_on::timestamp)::date, 'training_sessions', count(*)::numeric
    FROM campaigns_trainingsession WHERE campaign_id = %(campaign)s GROUP BY 1, 2
    UNION ALL
    SELECT s.code, s.month, m.measure, m.amount FROM (
        SELECT t.region_id AS code, date_trunc('month', t.held_on::timestamp)::date AS month,
               count(*) AS firm_times, sum(a.persons) AS person_times
        FROM campaigns_trainingattendance a JOIN campaigns_trainingsession t ON t.id = a.session_id
        WHERE t.campaign_id = %(campaign)s GROUP BY 1, 2
    ) s CROSS JOIN LATERAL (VALUES ('firm_times', s.firm_times::numeric), ('person_times', s.person_times))
        AS m (measure, amount)
),
distinct_facts (code, month, measure, item) AS (
    SELECT code, date_trunc('month', opened_at AT TIME ZONE %(tz)s)::date, 'firms_assisted', enterprise_id::text
    FROM cases
    UNION ALL
    SELECT c.code, date_trunc('month', c.opened_at AT TIME ZONE %(tz)s)::date, m.measure, m.item
    FROM cases c CROSS JOIN LATERAL (VALUES ('key_firms_assisted', c.enterprise_id::text),
                                            ('key_industries', c.industry_id::text)) AS m (measure, item)
    WHERE c.is_key
    UNION ALL
    SELECT e.region_id, date_trunc('month', ce.issued_on::timestamp)::date, 'firms_certified', ce.enterprise_id::text
    FROM enterprises_certification ce JOIN enterprises_enterprise e ON e.id = ce.enterprise_id
    WHERE ce.enterprise_id IN (SELECT enterprise_id FROM cases) AND ce.issued_on BETWEEN %(start)s AND %(end)s
),
placed AS (
    SELECT left(f.code, 2) || '0000' AS province,
           CASE WHEN f.code NOT LIKE '__0000' THEN left(f.code, 4) || '00' END AS city,
           CASE WHEN f.code NOT LIKE '____00' THEN f.code END AS county,
           f.month, f.measure, f.amount, f.item
    FROM (SELECT code, month, measure, amount, NULL::text AS item FROM monthly
          UNION ALL SELECT code, month, measure, NULL::numeric, item FROM distinct_facts) AS f
)
SELECT coalesce(province, city, county) AS code, to_char(month, 'YYYY-MM') AS period, measure,
       sum(amount) AS amount, count(DISTINCT item) AS items
FROM placed
GROUP BY GROUPING SETS ((province, measure), (province, month, measure), (city, measure), (city, month, measure),
                        (county, measure), (county, month, measure))
HAVING coalesce(province, city, county) IS NOT NULL
"""
DISTINCT_MEASURES = {"firms_assisted", "key_firms_assisted", "key_industries", "firms_certified"}


def copy_text(value) -> str:
    """A value in COPY's text format."""
    if value is None:
        return r"\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(COPY_ESCAPES)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


class Copier:
    """Rows for one table, sent with COPY every CHUNK rows: far quicker than INSERTs for a million.

    Columns the caller leaves out take the field's default (auto_now fields: the build's time),
    so every NOT NULL column gets a value without listing it at each call.
    """

    def __init__(self, model, *, now: datetime, with_pk: bool = False):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.defaults = {
            f.attname: now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
            for f in self.fields
        }
        quote_name = connection.ops.quote_name
        columns = ", ".join(quote_name(f.column) for f in self.fields)
        self.sql = f"COPY {quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        self.lines: list[str] = []
        self.count = 0

    def add(self, **values) -> None:
        if not self.count and not self.lines and set(values) - set(self.defaults):
            raise CommandError(f"{self.model.__name__} has no {sorted(set(values) - set(self.defaults))}")
        defaults = self.defaults
        self.lines.append("\t".join(copy_text(values.get(name, default)) for name, default in defaults.items()))
        if len(self.lines) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.lines:
            return
        data = "\n".join(self.lines) + "\n"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            if hasattr(raw, "copy_expert"):  # psycopg2
                raw.copy_expert(self.sql, io.StringIO(data))
            else:  # psycopg 3
                with raw.copy(self.sql) as copy:
                    copy.write(data)
        self.count += len(self.lines)
        self.lines = []


class Ids:
    """Primary keys taken from the table's own sequence ahead of COPY, 10,000 at a time, so rows
    can point at rows not yet written (foreign keys are checked when the build commits)."""

    def __init__(self, model):
        self.table = model._meta.db_table
        self.reserved: list[int] = []

    def next(self) -> int:
        if not self.reserved:
            with connection.cursor() as cursor:
                cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                               [self.table, CHUNK])
                self.reserved = [row[0] for row in cursor.fetchall()][::-1]
        return self.reserved.pop()


def database_url() -> str:
    """The URL of the database this process uses, for the worker it starts."""
    config = connection.settings_dict
    user = quote(config["USER"] or "", safe="")
    password = f":{quote(config['PASSWORD'], safe='')}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    port = f":{config['PORT']}" if config["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{config['NAME']}"


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


class Command(BenchmarkCommand):
    help = "Benchmark the KPI engine against a one-statement floor and a real worker (PostgreSQL and Redis)."

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=100_000, help="synthetic enterprises (100000)")
        parser.add_argument("--cases", type=int, default=100_000, help="cases in the campaign (100000)")
        parser.add_argument("--visits", type=int, default=1_000_000, help="visits over the cases (1000000)")
        parser.add_argument("--needs", type=int, default=200_000, help="quality needs, in and out of cases (200000)")
        parser.add_argument("--sessions", type=int, default=20_000, help="training sessions (20000)")
        parser.add_argument("--runs", type=int, default=3, help="timed runs of the engine and the floor (3)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--worker-timeout", type=int, default=900,
                            help="seconds to wait for the worker's snapshot (900)")
        parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest engine query")
        parser.add_argument("--keep", action="store_true", help="leave the synthetic data in the database")
        parser.add_argument("--reuse", action="store_true", help="measure the data a --keep run left")
        parser.add_argument("--clean", action="store_true", help="only remove the data a --keep run left")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"benchmark_kpis measures PostgreSQL and refuses to run on {connection.vendor}; "
                "set DATABASE_URL=postgres://..."
            )
        if options["clean"]:
            self.clean_up()
            return
        self.broker = self.check_broker()
        self.rng = random.Random(options["seed"])
        self.runs = max(options["runs"], 1)
        self.options = options
        self.results: list[tuple[str, str, str, str, str]] = []
        self.failures: list[str] = []
        # DEBUG off: no query log growing through the build. "testserver" for the Client.
        with (override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]),
              translation.override("en")):
            try:
                self.users = self.make_users()
                existing = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
                if existing is not None and options["reuse"]:
                    self.campaign = existing
                    self.say(f"Reusing the synthetic data of an earlier --keep run (campaign #{existing.pk}).")
                else:
                    if existing is not None:
                        self.clean_up()
                        self.users = self.make_users()
                    self.build()
                self.describe_data()
                self.measure_engine()
                self.measure_floor()
                self.check_floor()
                try:
                    self.measure_worker()
                except CommandError as error:  # the other measurements still make their table
                    self.say(self.style.ERROR(f"  {error}"))
                    self.failures.append("the worker's refresh failed")
                    self.results.append(("(c) worker: `visit_log` → county snapshot", "—", "—", "—",
                                         f"FAILED: {str(error).splitlines()[0]}"))
                self.measure_dashboard()
                self.print_table()
                if options["explain"]:
                    self.explain_slowest()
            finally:
                if options["keep"] or options["reuse"]:
                    self.say(f"\nKept the synthetic data (users {USER_PREFIX}*, campaign {CAMPAIGN_NAME!r}); "
                             "--reuse measures it again, --clean removes it.")
                else:
                    self.clean_up()
        if self.failures:
            raise CommandError(" and ".join(self.failures).capitalize() + ": see above.")

    # --- output ----------------------------------------------------------------------------------

    # --- the broker -------------------------------------------------------------------------------

    def check_broker(self) -> str:
        """The Redis broker the worker and this process share; refuses to go on without one."""
        broker = settings.CELERY_BROKER_URL
        if not broker or not broker.startswith(("redis://", "rediss://")):
            raise CommandError("benchmark_kpis times a real Celery worker and needs a Redis broker: "
                               "set CELERY_BROKER_URL=redis://host:6379/db")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError("CELERY_TASK_ALWAYS_EAGER is on, so a refresh would run in this process rather "
                               "than in the worker; unset it")
        try:
            with celery_app.connection_for_write() as broker_connection:
                broker_connection.ensure_connection(max_retries=1)
        except Exception as error:  # kombu raises several kinds; any of them means no broker
            raise CommandError(f"The broker at {broker} does not answer: {error}") from None
        return broker

    # --- synthetic data ---------------------------------------------------------------------------

    def make_users(self) -> dict[str, User]:
        def user(name: str, role: str, region: str | None) -> User:
            account, _created = User.objects.update_or_create(
                username=USER_PREFIX + name,
                defaults={"role": role, "region_id": region, "full_name": f"benchmark {name}", "is_active": True},
            )
            return account

        cities = Region.objects.filter(code__startswith=PROVINCE[:2]).exclude(level=Region.Level.COUNTY)
        users = {f"lead_{code}": user(f"lead_{code}", User.Role.REGULATOR, code)
                 for code in cities.values_list("code", flat=True)}
        users["city"] = user("city", User.Role.REGULATOR, CITY)
        users["province"] = user("province", User.Role.SUPERVISOR, PROVINCE)
        users["sme"] = user("sme", User.Role.SME, None)
        return users

    def lead_for(self, code: str) -> int:
        lead = self.users.get(f"lead_{code[:4]}00") or self.users[f"lead_{PROVINCE}"]
        return lead.pk

    def build(self) -> None:
        sizes = {name: max(self.options[name], 0) for name in ("firms", "cases", "visits", "needs", "sessions")}
        self.heading("Adding {firms:,} firms, {cases:,} cases, {visits:,} visits, {needs:,} needs and "
                     "{sessions:,} training sessions".format(**sizes))
        self.today = timezone.localdate()
        self.now = timezone.now()
        self.start = self.today - timedelta(days=CAMPAIGN_DAYS)
        started = time.perf_counter()
        with transaction.atomic():
            self.campaign = Campaign.objects.create(
                name=CAMPAIGN_NAME, theme="服务零距离、质量零缺陷", organiser="河北省市场监督管理局",
                region_id=PROVINCE, starts_on=self.start, ends_on=self.today + timedelta(days=180),
            )
            self.campaign.service_areas.set(IN_SCOPE)
            self.make_targets()
            self.copiers = {model: Copier(model, now=self.now) for model in (
                Visit, CaseRating, NeedsSurvey, Certification, TrainingAttendance, AssistanceCase.needs.through)}
            for model in (Enterprise, AssistanceCase, NeedRequest, TrainingSession):
                self.copiers[model] = Copier(model, now=self.now, with_pk=True)
            self.ids = {model: Ids(model) for model in (Enterprise, AssistanceCase, NeedRequest, TrainingSession)}
            self.certificate_serial = 0
            with self.timed(f"{sizes['firms']:,} firms"):
                self.make_firms(sizes["firms"])
            with self.timed("cases with their visits, needs, ratings, surveys and certificates"):
                self.make_cases(sizes["cases"], sizes["visits"], sizes["needs"])
            with self.timed("needs outside cases"):
                self.make_loose_needs(sizes["needs"] - self.needs_made)
            with self.timed(f"{sizes['sessions']:,} training sessions with attendance"):
                self.make_sessions(sizes["sessions"])
            for copier in self.copiers.values():
                copier.flush()
            # Django's foreign keys are deferred to the commit; checking them here lets them be timed.
            with self.timed("foreign keys checked"), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        self.say(f"  total build: {time.perf_counter() - started:.1f} s")
        # Statistics and visibility maps as autovacuum would have them on a live database.
        with self.timed("VACUUM ANALYZE"), connection.cursor() as cursor:
            for model in (Enterprise, AssistanceCase, AssistanceCase.needs.through, Visit, NeedRequest, CaseRating,
                          NeedsSurvey, Certification, TrainingSession, TrainingAttendance):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")

    def make_targets(self) -> None:
        Metric, Scope = CampaignTarget.Metric, CampaignTarget.Scope
        CampaignTarget.objects.bulk_create([
            CampaignTarget(campaign=self.campaign, metric=Metric.KEY_FIRMS_ASSISTED, scope=Scope.EACH_CITY, value=50),
            CampaignTarget(campaign=self.campaign, metric=Metric.KEY_INDUSTRIES, scope=Scope.EACH_CITY, value=2),
            CampaignTarget(campaign=self.campaign, metric=Metric.PERSON_TIMES, value=200_000),
            CampaignTarget(campaign=self.campaign, metric=Metric.CERTIFIED_SHARE, value=20),
            CampaignTarget(campaign=self.campaign, metric=Metric.SATISFIED_SHARE, value=90),
            CampaignTarget(campaign=self.campaign, metric=Metric.FIRMS_ASSISTED, scope=Scope.REGION, region_id=CITY,
                           value=10_000),
        ])

    def local(self, day: date, *, hour: int = 9) -> datetime:
        return timezone.make_aware(datetime.combine(day, clock(hour, self.rng.randint(0, 59))))

    def make_firms(self, count: int) -> None:
        rng = self.rng
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=PROVINCE[:2])
                        .values_list("code", flat=True))
        cities = sorted({code[:4] + "00" for code in counties})
        manufacturing = list(Industry.objects.filter(level=Industry.Level.DIVISION, parent_id="C")
                             .values_list("code", flat=True))
        others = list(Industry.objects.filter(level=Industry.Level.DIVISION).exclude(parent_id="C")
                      .values_list("code", flat=True))
        trade_words = [word for words in TRADE_WORDS.values() for word in words]
        key_odds = {"micro": 0.05, "small": 0.08, "medium": 0.2, "large": 0.4}  # about 10% overall
        self.firms: list[tuple[int, str, bool]] = []
        self.firms_in: dict[str, list[int]] = defaultdict(list)  # region code or city prefix → firm ids
        codes: set[str] = set()
        copier = self.copiers[Enterprise]
        for _ in range(count):
            roll = rng.random()
            # Most firms are registered in a county; a few with a city's or the province's bureau.
            code = PROVINCE if roll < 0.005 else rng.choice(cities) if roll < 0.025 else rng.choice(counties)
            while (uscc := generate_uscc(code, rng)) in codes:
                pass
            codes.add(uscc)
            size, _share, (low, high) = rng.choices(SIZES, weights=[s[1] for s in SIZES])[0]
            industry = rng.choice(manufacturing if rng.random() < 0.7 else others)
            is_key = rng.random() < key_odds[size] * KEY_SHARE / 0.1
            employees = rng.randint(low, high)
            pk = self.ids[Enterprise].next()
            copier.add(
                id=pk, uscc=uscc, name=f"合成{rng.choice(NAME_STEMS)}{rng.choice(trade_words)}有限公司{pk}",
                region_id=code, industry_id=industry, size=size, address=FIRM_MARK,
                contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN), employees=employees,
                annual_revenue=Decimal(round(employees * rng.uniform(30, 120), 2)).quantize(Decimal("0.01")),
                is_key=is_key, is_specialized=rng.random() < 0.05, is_exporter=rng.random() < 0.1,
                in_industrial_park=rng.random() < 0.3,
            )
            self.firms.append((pk, code, is_key))
            self.firms_in[code].append(pk)
            self.firms_in[code[:4]].append(pk)
            self.firms_in[code[:2]].append(pk)

    def case_days(self) -> int:
        return max((self.today - self.start).days, 2)

    def make_cases(self, count: int, visits: int, needs: int) -> None:
        """Most firms get one case; some get a second after the first closed unresolved, and half
        of those carry the first case's open needs over, so some needs are answered by two cases."""
        rng = self.rng
        self.needs_made = 0
        reopened = min(round(count * REOPENED_SHARE), count // 2)
        first_count = min(len(self.firms), count - reopened)
        reopened = min(count - first_count, first_count)
        chosen = rng.sample(self.firms, k=first_count)
        reopen = set(rng.sample(range(first_count), k=reopened))
        others = first_count - reopened
        # Closed in all: CLOSED_SHARE; the first case of each reopened firm is closed, its second one
        # in three cases out of ten.
        close_odds = min(max((CLOSED_SHARE * count - reopened * 1.3) / others, 0), 1) if others else 0
        self.visit_mean = visits / count if count else 0
        self.needs_per_case = 0.6 * needs / count if count else 0
        span = self.case_days()
        for number, (firm, code, _is_key) in enumerate(chosen):
            if number in reopen:
                opened = rng.randint(0, max(span // 2, 1))
                closed = min(opened + rng.randint(10, 60), span - 2)
                first_needs = self.make_case(firm, code, opened, closed, resolved=rng.random() < 0.2)
                second_opened = min(closed + rng.randint(1, 30), span - 1)
                second_closed = min(second_opened + rng.randint(7, 120), span) if rng.random() < 0.3 else None
                carried = [need for need in first_needs if rng.random() < 0.5] if rng.random() < 0.5 else []
                self.make_case(firm, code, second_opened, second_closed, resolved=rng.random() < 0.85,
                               carried=carried)
            elif rng.random() < close_odds:
                opened = rng.randint(0, max(span - 8, 0))
                closed = min(opened + rng.randint(7, 180), span)
                self.make_case(firm, code, opened, closed, resolved=rng.random() < 0.85)
            else:
                self.make_case(firm, code, rng.randint(0, span - 1), None, resolved=False)
            self.make_old_certificates(firm)

    def make_case(self, firm: int, code: str, opened_day: int, closed_day: int | None, *, resolved: bool,
                  carried: list[int] = ()) -> list[int]:
        """One case of `firm`, opened and (maybe) closed so many days after the campaign started;
        returns the needs it leaves open."""
        rng = self.rng
        pk = self.ids[AssistanceCase].next()
        lead = self.lead_for(code)
        opened_at = self.local(self.start + timedelta(days=opened_day), hour=rng.randint(8, 17))
        closed_at = None
        if closed_day is not None:
            closed_at = max(self.local(self.start + timedelta(days=closed_day), hour=rng.randint(8, 17)),
                            opened_at + timedelta(hours=1))
            closed_at = min(closed_at, self.now - timedelta(minutes=5))
        is_closed = closed_at is not None
        status = Status.CLOSED if is_closed else rng.choices(*OPEN_STATUSES)[0]
        # Visits between the opening and the closing (or today).
        first_day = timezone.localtime(opened_at).date()
        last_day = timezone.localtime(closed_at).date() if is_closed else self.today
        mean = self.visit_mean
        visit_count = (rng.randint(max(round(mean / 2), 0), round(mean * 1.5)) if mean >= 1
                       else int(rng.random() < mean))
        span = (last_day - first_day).days
        days = sorted(first_day + timedelta(days=rng.randint(0, span)) for _ in range(visit_count)) if span >= 0 else []
        for index, day in enumerate(days):
            following = days[index + 1] if index + 1 < len(days) else None
            follow_up = following if following and following > day else (
                day + timedelta(days=14) if following is None and not is_closed else None)
            self.copiers[Visit].add(
                case_id=pk, visited_on=day, mode=rng.choices(["on_site", "remote", "mobile_clinic"], [60, 25, 15])[0],
                hours=rng.choice(["1.0", "1.5", "2.0", "2.5", "3.0", "4.0", "6.0"]), logged_by_id=lead,
                people_present="专家、监管人员、企业质量负责人", problems_found=rng.choice(PROBLEMS),
                actions_recommended="建立台账，按期复查", next_follow_up_on=follow_up,
                logged_at=self.local(day, hour=18), updated_at=self.local(day, hour=18),
            )
        outcomes = {}
        if is_closed:
            outcomes = {
                "certificate_obtained": rng.random() < 0.2, "standard_drafted": rng.random() < 0.08,
                "excellence_model_adopted": rng.random() < 0.05, "lab_set_up": rng.random() < 0.02,
                "money_saved": Decimal(rng.randint(50, 5000) * 100) if rng.random() < 0.3 else None,
            }
        self.copiers[AssistanceCase].add(
            id=pk, campaign_id=self.campaign.pk, enterprise_id=firm, title=f"一企一策·{firm}", lead_id=lead,
            status=status, resolution="" if not is_closed else "resolved" if resolved else "unresolved",
            diagnosis="" if status == Status.OPEN else "合成诊断：质量管理基础薄弱", opened_by_id=lead,
            opened_at=opened_at, closed_at=closed_at, last_visit_on=days[-1] if days else None,
            next_follow_up_on=days[-1] + timedelta(days=14) if days and not is_closed else None,
            updated_at=closed_at or opened_at, **outcomes,
        )
        # The needs it answers: submitted before it opened (some before the campaign started).
        still_open = []
        mean_needs = self.needs_per_case / 0.8
        count = 0 if rng.random() < 0.2 else max(int(mean_needs + rng.random()), 1)
        for need in carried:
            self.copiers[AssistanceCase.needs.through].add(assistancecase_id=pk, needrequest_id=need)
        for _ in range(count):
            if is_closed:
                status = (rng.choices([NeedStatus.FULFILLED, NeedStatus.IN_PROGRESS], [90, 10])[0] if resolved
                          else rng.choice([NeedStatus.DECLINED, NeedStatus.IN_PROGRESS]))
            else:
                status = rng.choice([NeedStatus.TRIAGED, NeedStatus.MATCHED, NeedStatus.IN_PROGRESS])
            need = self.make_need(firm, opened_at - timedelta(days=rng.randint(0, 45), hours=rng.randint(0, 8)),
                                  status, area=rng.choice(IN_SCOPE))
            self.copiers[AssistanceCase.needs.through].add(assistancecase_id=pk, needrequest_id=need)
            if status == NeedStatus.IN_PROGRESS:
                still_open.append(need)
        if is_closed and rng.random() < RATED_SHARE:
            self.copiers[CaseRating].add(
                case_id=pk, score=rng.choices([5, 4, 3, 2, 1], [50, 30, 12, 5, 3])[0], comment="",
                rated_by_id=self.users["sme"].pk,
                rated_at=min(closed_at + timedelta(days=rng.randint(0, 10), hours=rng.randint(0, 8)), self.now),
            )
        if is_closed and rng.random() < 0.6:
            self.make_survey(firm, min(closed_at + timedelta(days=rng.randint(1, 30)), self.now), follow_up=True)
        if rng.random() < 0.2:
            self.make_survey(firm, opened_at - timedelta(days=rng.randint(1, 20)), follow_up=False)
        if is_closed and outcomes["certificate_obtained"]:
            self.make_certificate(firm, first_day + timedelta(days=rng.randint(0, max(span, 0))))
        elif rng.random() < 0.1:  # certified during the campaign without the case's help, or before it opened
            self.make_certificate(firm, self.start + timedelta(days=rng.randint(0, self.case_days())))
        return still_open

    def make_need(self, firm: int, submitted_at: datetime, status: str, *, area: int) -> int:
        pk = self.ids[NeedRequest].next()
        self.copiers[NeedRequest].add(
            id=pk, enterprise_id=firm, service_area_id=area, title="质量技术帮扶需求",
            description="合成需求：希望专家上门诊断",
            urgency=self.rng.choice(["low", "normal", "normal", "high", "urgent"]),
            status=status, decline_reason="不在本次活动服务范围" if status == NeedStatus.DECLINED else "",
            submitted_by_id=self.users["sme"].pk, submitted_at=submitted_at, updated_at=submitted_at,
        )
        self.needs_made += 1
        return pk

    def make_loose_needs(self, count: int) -> None:
        """Needs answered by no case: waiting, declined, or fulfilled some other way; some from
        before the campaign, some in service area 10, which the campaign leaves out."""
        rng = self.rng
        if not self.firms:
            return
        statuses = ([NeedStatus.SUBMITTED, NeedStatus.TRIAGED, NeedStatus.MATCHED, NeedStatus.IN_PROGRESS,
                     NeedStatus.FULFILLED, NeedStatus.DECLINED], [20, 20, 10, 15, 15, 20])
        for _ in range(max(count, 0)):
            firm = rng.choice(self.firms)[0]
            submitted = self.now - timedelta(days=rng.randint(0, self.case_days() + 90), hours=rng.randint(0, 23))
            self.make_need(firm, submitted, rng.choices(*statuses)[0], area=rng.randint(1, 10))

    def make_survey(self, firm: int, answered_at: datetime, *, follow_up: bool) -> None:
        rng = self.rng

        def change(mean: float, spread: float):
            return None if rng.random() < 0.15 else Decimal(f"{max(min(rng.gauss(mean, spread), 1000), -100):.2f}")

        if follow_up:
            self.copiers[NeedsSurvey].add(
                enterprise_id=firm, kind=NeedsSurvey.Kind.FOLLOW_UP, campaign_id=self.campaign.pk,
                awareness_improved=rng.random() < 0.9, performance_improved=rng.random() < 0.96,
                revenue_change_pct=change(12, 8), output_change_pct=change(13, 8),
                profit_margin_change_pct=change(10, 6), answered_by_id=self.users["sme"].pk, answered_at=answered_at,
            )
        else:
            # A baseline names the campaign or none; the engine must count neither.
            self.copiers[NeedsSurvey].add(
                enterprise_id=firm, kind=NeedsSurvey.Kind.BASELINE,
                campaign_id=self.campaign.pk if rng.random() < 0.5 else None,
                answered_by_id=self.users["sme"].pk, answered_at=answered_at,
            )

    def make_certificate(self, firm: int, issued_on: date) -> None:
        issued_on = min(issued_on, self.today)
        self.certificate_serial += 1
        self.copiers[Certification].add(
            enterprise_id=firm, scheme=self.rng.choice(["iso9001", "iso9001", "iso14001", "iso22000", "haccp"]),
            number=f"{CERTIFICATE_PREFIX}{self.certificate_serial:08d}", body="中国质量认证中心",
            issued_on=issued_on, expires_on=issued_on + timedelta(days=3 * 365),
        )

    def make_old_certificates(self, firm: int) -> None:
        if self.rng.random() < 0.15:  # held from before the campaign: not "certified during" it
            self.make_certificate(firm, self.start - timedelta(days=self.rng.randint(30, 2000)))

    def make_sessions(self, count: int) -> None:
        """Mostly in counties; a quarter held by a city bureau and some by the province's, whose
        figures count in the city (or province) but in no county."""
        rng = self.rng
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=PROVINCE[:2])
                        .values_list("code", flat=True))
        cities = sorted({code[:4] + "00" for code in counties})
        modes = ([mode for mode, _label in TrainingSession.Mode.choices], [50, 20, 20, 10])
        span = self.case_days()
        for _ in range(count):
            roll = rng.random()
            code = PROVINCE if roll < 0.05 else rng.choice(cities) if roll < 0.30 else rng.choice(counties)
            # Firms come from the region the session was held in: a county's, a city's, the province's.
            pool = self.firms_in.get(code[:2] if code == PROVINCE else code[:4] if code.endswith("00") else code, [])
            pk = self.ids[TrainingSession].next()
            held_on = self.start + timedelta(days=rng.randint(0, span))
            self.copiers[TrainingSession].add(
                id=pk, campaign_id=self.campaign.pk, region_id=code, topic=rng.choice(TOPICS), held_on=held_on,
                place="市场监管局培训中心", mode=rng.choices(*modes)[0], organiser="市场监督管理局",
                service_area_id=rng.choice([7, 8, 8, 2, 1, None, None]), recorded_by_id=self.lead_for(code),
                recorded_at=self.local(held_on, hour=19), updated_at=self.local(held_on, hour=19),
            )
            for firm in rng.sample(pool, k=min(rng.randint(5, 20), len(pool))):
                self.copiers[TrainingAttendance].add(session_id=pk, enterprise_id=firm, persons=rng.randint(1, 5),
                                                     names="")

    def describe_data(self) -> None:
        campaign = self.campaign
        counts = {
            "firms": Enterprise.objects.filter(address=FIRM_MARK).count(),
            "cases": AssistanceCase.objects.filter(campaign=campaign).count(),
            "closed": AssistanceCase.objects.filter(campaign=campaign, status=Status.CLOSED).count(),
            "visits": Visit.objects.filter(case__campaign=campaign).count(),
            "needs": NeedRequest.objects.filter(enterprise__address=FIRM_MARK).count(),
            "needs in cases": NeedRequest.objects.filter(cases__campaign=campaign).distinct().count(),
            "needs in two cases": NeedRequest.objects.filter(cases__campaign=campaign).annotate(
                answered_by=Count("cases")).filter(answered_by__gt=1).count(),
            "sessions": TrainingSession.objects.filter(campaign=campaign).count(),
            "attendance rows": TrainingAttendance.objects.filter(session__campaign=campaign).count(),
            "certificates": Certification.objects.filter(enterprise__address=FIRM_MARK).count(),
            "ratings": CaseRating.objects.filter(case__campaign=campaign).count(),
            "follow-up surveys": NeedsSurvey.objects.filter(campaign=campaign, kind=NeedsSurvey.Kind.FOLLOW_UP).count(),
        }
        self.data_line = ", ".join(f"{value:,} {name}" for name, value in counts.items())
        self.heading("The data")
        self.say(f"  {self.data_line}")

    # --- (a) the engine ---------------------------------------------------------------------------

    def measure_engine(self) -> None:
        self.heading(f"(a) The engine: kpis.compute_campaign, {self.runs} run(s)")
        times = []
        for run in range(self.runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                written = kpis.compute_campaign(self.campaign.pk)
                times.append(time.perf_counter() - started)
            self.engine_queries = captured.captured_queries
            self.say(f"  run {run + 1}: {seconds(times[-1])}, {len(self.engine_queries)} queries, "
                     f"{written:,} snapshots")
        self.engine_time = statistics.median(times)
        by_table: dict[str, float] = defaultdict(float)
        for query in self.engine_queries:
            match = TABLE_PATTERN.search(query["sql"])
            by_table[match.group(1) if match else "?"] += float(query["time"])
        self.say("  time by the table a query reads (last run): " + ", ".join(
            f"{table} {seconds(spent)}" for table, spent in sorted(by_table.items(), key=lambda item: -item[1])))
        self.results.append(("(a) engine `kpis.compute_campaign`", seconds(self.engine_time),
                             str(len(self.engine_queries)), f"{written:,} snapshots written",
                             "median of " + ", ".join(seconds(t) for t in times)))

    # --- (b) the floor ----------------------------------------------------------------------------

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
        self.say(f"  {seconds(self.floor_time)} ({len(rows):,} rows: region × period × figure); "
                 f"the engine takes {ratio:.1f}× the floor")
        self.results.append(("(b) floor: one `WITH … GROUPING SETS` statement", seconds(self.floor_time), "1",
                             f"{len(rows):,} figure rows",
                             f"engine ÷ floor = {ratio:.1f}×; totals only, the breakdowns are not in the floor"))

    def check_floor(self) -> None:
        """Every to-date and monthly total of every region, the floor's against the engine's.

        Counts and sums compare with a missing figure as 0 (the engine leaves a source's figures out
        of a month it has no rows in, and writes 0 for an empty sum to date). A rate or mean is
        compared wherever the engine gives one; those it leaves out of a row on purpose (a monthly
        certified share) are listed, not counted as mismatches.
        """
        self.heading("(b) Floor check: the engine's snapshots against the floor, figure by figure")
        campaign = Campaign.objects.select_related("region").get(pk=self.campaign.pk)
        known = set(Region.objects.filter(code__startswith=campaign.region.prefix).values_list("code", flat=True))
        additive = {name for source in kpis.sources(campaign) for name, agg in source.measures.items()
                    if isinstance(agg, (Count, Sum))}
        raw: dict[tuple[str, str], dict] = defaultdict(dict)
        for code, period, measure, amount, items in self.floor_rows:
            raw[(code, period or "")][measure] = items if measure in DISTINCT_MEASURES else kpis.plain(amount)
        for code in known:
            raw.setdefault((code, ""), {})
        expected = {}
        for key, values in raw.items():
            if key[0] in known:
                # The floor's own mean, whatever the engine passes to derive() for it (a mean or a sum).
                days, visited = values.pop("wait_days", None), values.get("needs_visited")
                figures = kpis.derive(values)
                figures["days_to_first_visit"] = round(days / visited, 1) if days is not None and visited else None
                expected[key] = figures
        actual = {(row.region_id, row.period): row.figures for row in
                  KpiSnapshot.objects.filter(campaign=campaign, breakdown=KpiSnapshot.Breakdown.TOTAL)}
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
                    engine is not None and floor is not None and abs(float(engine) - float(floor)) <= 1e-9)
                if not same:
                    mismatches.append((key, name, engine, floor))
        checked = len(set(expected) & set(actual))
        self.say(f"  {checked:,} region-period rows × {len(names)} figures compared; {len(mismatches)} mismatches")
        if left_out:
            self.say("  left out of the engine's rows, so not compared: " + ", ".join(
                f"{name} ({rows:,} {kind} rows)" for (name, kind), rows in sorted(left_out.items())))
        for (code, period), name, engine, floor in mismatches[:40]:
            self.say(self.style.ERROR(f"  {code} {period or 'to date'} {name}: engine {engine}, floor {floor}"))
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
                             f"{checked:,} region-periods × {len(names)} figures", verdict))

    # --- (c) a real worker ------------------------------------------------------------------------

    def start_worker(self, queue: str, hostname: str, log: Path) -> subprocess.Popen:
        environment = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": self.broker,
                       "PYTHONUNBUFFERED": "1"}
        environment.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
        # The worker runs with the production settings; the test settings would make it compute eagerly.
        if environment["DJANGO_SETTINGS_MODULE"].endswith("settings_test"):
            environment["DJANGO_SETTINGS_MODULE"] = "portal.settings"
        command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo", "--concurrency", "1",
                   "--loglevel", "warning", "-Q", queue, "--hostname", hostname, "--without-gossip",
                   "--without-mingle"]
        with open(log, "wb") as handle:
            return subprocess.Popen(command, cwd=settings.BASE_DIR, env=environment, stdout=handle,
                                    stderr=subprocess.STDOUT)

    def stop_worker(self, worker: subprocess.Popen) -> None:
        if worker.poll() is None:
            worker.terminate()  # a warm shutdown: the worker finishes what it runs
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)

    def wait_for_ping(self, worker: subprocess.Popen, hostname: str, log: Path) -> float:
        started = time.perf_counter()
        while time.perf_counter() - started < 90:
            if worker.poll() is not None:
                raise CommandError(f"The worker exited with {worker.returncode}:\n{log.read_text(errors='replace')}")
            if celery_app.control.ping(destination=[hostname], timeout=0.5):
                return time.perf_counter() - started
        raise CommandError(f"The worker did not answer a ping within 90 s:\n{log.read_text(errors='replace')}")

    def measure_worker(self) -> None:
        self.heading("(c) A real worker: a new visit until the county's snapshot counts it")
        # An open case of a county firm, in Shijiazhuang if there is one: the county row is the one timed.
        open_cases = (AssistanceCase.objects.filter(campaign=self.campaign).exclude(status=Status.CLOSED)
                      .exclude(enterprise__region__code__endswith="00")
                      .select_related("enterprise", "lead", "campaign").order_by("pk"))
        case = open_cases.filter(enterprise__region__code__startswith=CITY[:4]).first() or open_cases.first()
        if case is None:
            self.say(self.style.WARNING("  no open case in a county: skipped"))
            self.results.append(("(c) worker: visit → snapshot", "—", "—", "—", "skipped: no open case"))
            return
        county = case.enterprise.region_id
        snapshot = KpiSnapshot.objects.filter(campaign=self.campaign, region_id=county, period="",
                                              breakdown=KpiSnapshot.Breakdown.TOTAL, key="")
        before = (snapshot.values_list("figures", flat=True).first() or {}).get("visits", 0)
        token = uuid.uuid4().hex[:12]
        queue, hostname = f"benchmark-kpis-{token}", f"benchmark-kpis-{token}@{socket.gethostname()}"
        log = Path(tempfile.gettempdir()) / f"{queue}.log"
        limit = self.options["worker_timeout"]
        worker = self.start_worker(queue, hostname, log)
        try:
            ready = self.wait_for_ping(worker, hostname, log)
            self.say(f"  worker {hostname} answered a ping after {ready:.1f} s")
            debounce = tasks.DEBOUNCE_SECONDS
            cache.delete(f"kpi-refresh:{self.campaign.pk}")  # a request of an earlier run must not swallow this one
            # The task goes to this run's queue: no other worker on the broker can take it.
            with override_settings(CELERY_TASK_DEFAULT_QUEUE=queue):
                with transaction.atomic():
                    services.visit_log(user=case.lead, case=case, visited_on=timezone.localdate(), mode="on_site",
                                       hours=Decimal("2.0"), people_present="专家、监管人员",
                                       problems_found="benchmark_kpis: 计时走访")
                committed_wall, committed = timezone.now(), time.perf_counter()
            self.say(f"  visit logged on case #{case.pk} (firm in {county}); its county had {before:,} visits")
            row = None
            while time.perf_counter() - committed < limit:
                if worker.poll() is not None:
                    raise CommandError(f"The worker exited with {worker.returncode}:\n"
                                       f"{log.read_text(errors='replace')}")
                row = snapshot.values_list("figures", "computed_at").first()
                if row and row[0].get("visits") == before + 1:
                    break
                time.sleep(0.1)
            else:
                raise CommandError(f"The snapshot did not count the visit within {limit} s:\n"
                                   f"{log.read_text(errors='replace')}")
            seen, seen_wall = time.perf_counter() - committed, timezone.now()
            computed_at = row[1]
            computing = (computed_at - committed_wall).total_seconds() - debounce
            writing = (seen_wall - computed_at).total_seconds()
            self.say(f"  seen after {seen:.2f} s: debounce {debounce} s, then {computing:.2f} s until the figures "
                     f"were computed (queue pick-up and the queries), {writing:.2f} s to write, commit and be seen")
            page = self.dashboard_url()
            note = f"debounce {debounce} s + compute {computing:.2f} s + write & commit {writing:.2f} s"
            if page is None:
                note += "; `dashboards:campaign` not built yet, so snapshot only"
            else:
                # The county's page of the dashboard, as the province supervisor drilling down to it.
                client = Client()
                client.force_login(self.users["province"])
                started = time.perf_counter()
                response = client.get(page, {"region": county})
                shown = time.perf_counter() - started
                text = response.content.decode(errors="replace")
                found = any(f"{before + 1:{style}}" in text for style in (",", ""))
                note += (f"; county dashboard GET {seconds(shown)} (HTTP {response.status_code}, "
                         f"{before + 1:,} {'shown' if found else 'not found in the page'})")
                seen += shown
            self.results.append(("(c) worker: `visit_log` → county snapshot (+ dashboard)", f"{seen:.2f} s", "—",
                                 f"visits {before:,} → {before + 1:,} in {county}", note))
        finally:
            self.stop_worker(worker)
            self.delete_queue(queue)
            if worker.returncode not in (0, None) and log.exists():
                self.say(log.read_text(errors="replace")[-3000:])
            log.unlink(missing_ok=True)

    def delete_queue(self, queue: str) -> None:
        """Remove this run's queue and its binding from the broker."""
        try:
            with celery_app.connection_for_write() as broker_connection:
                # kombu deletes only the bindings its channel has declared: declare, then delete.
                bound = celery_app.amqp.queues[queue](broker_connection.default_channel)
                bound.declare()
                bound.delete()
        except Exception as error:  # best effort: an empty queue left behind harms nobody
            self.say(self.style.WARNING(f"  could not delete the queue {queue}: {error}"))

    # --- (d) the dashboard ------------------------------------------------------------------------

    def dashboard_url(self) -> str | None:
        for kwargs in ({"pk": self.campaign.pk}, {"campaign_pk": self.campaign.pk}, {"campaign_id": self.campaign.pk}):
            try:
                return reverse("dashboards:campaign", kwargs=kwargs)
            except NoReverseMatch:
                continue
        return None

    def measure_dashboard(self) -> None:
        self.heading("(d) The campaign dashboard")
        url = self.dashboard_url()
        if url is None:
            self.say(self.style.WARNING("  dashboards:campaign does not exist yet: skipped"))
            self.results.append(("(d) dashboard `dashboards:campaign`", "—", "—", "—", "not built yet"))
            return
        for who in ("province", "city"):
            user = self.users[who]
            client = Client()
            client.force_login(user)
            client.get(url)
            with CaptureQueriesContext(connection) as captured:
                status = client.get(url).status_code
            # Read now: the next request empties the connection's query log the capture points into.
            queries = len(captured.captured_queries)
            times = []
            for _ in range(max(self.runs, 3)):
                started = time.perf_counter()
                client.get(url)
                times.append(time.perf_counter() - started)
            cell = seconds(statistics.median(times)) if status == 200 else f"HTTP {status}"
            self.say(f"  as {user.role} {user.region_id}: {cell}, {queries} queries")
            self.results.append((f"(d) dashboard `dashboards:campaign` as {user.role} {user.region_id}", cell,
                                 str(queries), "snapshots only", "queries must not grow with the data"))

    # --- the table and the plan -------------------------------------------------------------------

    def print_table(self) -> None:
        self.heading("Results (Markdown)")
        self.say(f"Data: {self.data_line}.\n")
        self.say("| measurement | time | queries | rows | notes |")
        self.say("|---|---:|---:|---:|---|")
        for row in self.results:
            self.say("| " + " | ".join(row) + " |")

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

    # --- clean-up ---------------------------------------------------------------------------------

    def clean_up(self) -> None:
        """Plain DELETEs in dependency order: the ORM's cascade would load every visit first."""
        self.heading("Removing the synthetic data")
        campaigns = Campaign.objects.filter(name=CAMPAIGN_NAME)
        firms = Enterprise.objects.filter(address=FIRM_MARK)
        surveys = NeedsSurvey.objects.filter(enterprise__in=firms) | NeedsSurvey.objects.filter(campaign__in=campaigns)
        doomed = [
            KpiSnapshot.objects.filter(campaign__in=campaigns),
            CampaignTarget.objects.filter(campaign__in=campaigns),
            TrainingAttendance.objects.filter(session__campaign__in=campaigns),
            TrainingAttendance.objects.filter(enterprise__in=firms),
            TrainingSession.objects.filter(campaign__in=campaigns),
            NeedsSurvey.services_wanted.through.objects.filter(needssurvey__in=surveys),
            surveys,
            CaseRating.objects.filter(case__campaign__in=campaigns),
            CaseAssignment.objects.filter(case__campaign__in=campaigns),
            CaseEvent.objects.filter(case__campaign__in=campaigns),
            AssistanceCase.needs.through.objects.filter(assistancecase__campaign__in=campaigns),
            VisitAttachment.objects.filter(visit__case__campaign__in=campaigns),
            Visit.objects.filter(case__campaign__in=campaigns),
            AssistanceCase.objects.filter(campaign__in=campaigns),
            Campaign.service_areas.through.objects.filter(campaign__in=campaigns),
            campaigns,
            Certification.objects.filter(enterprise__in=firms),
            NeedEvent.objects.filter(need__enterprise__in=firms),
            NeedRequest.objects.filter(enterprise__in=firms),
            Enterprise.users.through.objects.filter(enterprise__in=firms),
            firms,
        ]
        with self.timed("campaign, cases, visits, needs, sessions, firms and users"), transaction.atomic():
            with connection.cursor() as cursor:
                for queryset in doomed:
                    model = queryset.model
                    sql, params = queryset.values("pk").query.sql_with_params()
                    quote_name = connection.ops.quote_name
                    cursor.execute(f"DELETE FROM {quote_name(model._meta.db_table)} "
                                   f"WHERE {quote_name(model._meta.pk.column)} IN (SELECT * FROM ({sql}) AS doomed)",
                                   params)
            remove_accounts(USER_PREFIX)
