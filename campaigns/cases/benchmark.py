"""The cases benchmark's synthetic pool, firms, cases and visits, and what it measures: the case and
visit lists (pages and API) at two page sizes and expert matching, with the plan of its query."""

import statistics
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from campaigns.cases.matching import suggest_experts
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, CaseRating, Visit, VisitAttachment
from campaigns.cases.ratings import expert_rating_records_rebuild
from campaigns.cases.selectors import cases_visible_to, visits_visible_to
from campaigns.models import Campaign
from enterprises.demo import GIVEN, NAME_STEMS, SURNAMES, TRADE_WORDS
from enterprises.models import Enterprise, NeedEvent, NeedRequest
from enterprises.uscc import generate_uscc
from experts.models import Expert
from experts.selectors import experts_visible_to
from portal.benchmarking import remove_accounts
from portal.models import Region, ServiceArea, Specialty, User, enclosing_codes

USER_PREFIX = "benchmark_cases_"
CAMPAIGN_NAME = "benchmark_cases 河北省质量提升行动（合成数据）"
EXPERT_CODE_PREFIX = "BENCH-"
FIRM_MARK = "benchmark_cases synthetic firm"  # in the address: how the clean-up finds them
CITY, PROVINCE = "130100", "130000"
CHUNK = 5_000
Status = AssistanceCase.Status
OPEN_STATUSES = [Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS]
EMPLOYER_KINDS = [kind for kind, _label in Expert.EmployerKind.choices]


class CaseMeasures:
    """Builds the synthetic data, measures, prints and removes it; a mixin of the benchmark_cases command."""

    def make_users(self) -> tuple[User, User, User, dict[str, User]]:
        def user(name: str, role: str, region: str | None) -> User:
            account, _created = User.objects.update_or_create(
                username=USER_PREFIX + name,
                defaults={"role": role, "region_id": region, "full_name": f"benchmark {name}", "is_active": True},
            )
            return account

        cities = Region.objects.filter(level=Region.Level.CITY, code__startswith=PROVINCE[:2]).values_list("code",
                                                                                                         flat=True)
        leads = {code[:4]: user(f"lead_{code}", User.Role.REGULATOR, code) for code in cities}
        return (user("city", User.Role.REGULATOR, CITY), user("province", User.Role.SUPERVISOR, PROVINCE),
                user("sme", User.Role.SME, None), leads)

    def build(self, expert_count: int, case_count: int, visits_per_case: int) -> None:
        self.heading(f"Adding {expert_count:,} experts and {case_count:,} cases with {visits_per_case} visits each")
        today = timezone.localdate()
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=PROVINCE[:2])
                        .values_list("code", flat=True))
        self.campaign = Campaign.objects.create(
            name=CAMPAIGN_NAME, organiser="河北省市场监督管理局", region_id=PROVINCE,
            starts_on=today - timedelta(days=400), ends_on=today + timedelta(days=365),
        )
        self.campaign.service_areas.set(ServiceArea.objects.all())
        with self.timed(f"{expert_count:,} experts with their specialties and regions served"):
            self.make_experts(expert_count, counties)
        firm_count = max(case_count // 2, 100)
        with self.timed(f"{firm_count:,} firms"):
            firms = self.make_firms(firm_count, counties)
        with self.timed(f"{case_count:,} cases, {case_count * visits_per_case:,} visits, assignments and ratings"):
            self.make_cases(case_count, visits_per_case, firms, today)
        # Statistics as autovacuum would have them on a live database.
        with self.timed("ANALYZE"), connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        open_cases = AssistanceCase.objects.filter(campaign=self.campaign).exclude(status=Status.CLOSED).count()
        active = CaseAssignment.objects.filter(case__campaign=self.campaign, active=True).count()
        self.say(f"  {open_cases:,} open cases, {active:,} active assignments "
                 f"(a mean load of {active / max(expert_count, 1):.1f} per expert)")

    def make_experts(self, count: int, counties: list[str]) -> None:
        specialties = list(Specialty.objects.values_list("code", flat=True))
        cities = sorted({code[:4] + "00" for code in counties})
        experts = []
        for number in range(count):
            # A quarter in Shijiazhuang's pool, a tenth in the province's, the rest across the cities.
            roll = self.rng.random()
            pool = CITY if roll < 0.25 else PROVINCE if roll < 0.35 else self.rng.choice(cities)
            experts.append(Expert(
                code=f"{EXPERT_CODE_PREFIX}{number:06d}", name=self.rng.choice(SURNAMES) + self.rng.choice(GIVEN),
                employer="合成专家单位", employer_kind=self.rng.choice(EMPLOYER_KINDS), region_id=pool,
                capacity=self.rng.randint(2, 5), is_active=self.rng.random() > 0.05,
            ))
        Expert.objects.bulk_create(experts, batch_size=CHUNK)
        served_rows, specialty_rows = [], []
        self.serving: dict[str, list[int]] = defaultdict(list)
        self.capacity = {expert.pk: expert.capacity for expert in experts if expert.is_active}
        for expert in experts:
            pool = expert.region_id
            roll = self.rng.random()
            if pool == PROVINCE or roll < 0.1:
                served = [PROVINCE]
            elif roll < 0.35:
                served = self.rng.sample([c for c in counties if c.startswith(pool[:4])] or [pool], k=1)
            else:
                served = [pool]
            if self.rng.random() < 0.15:
                served.append(self.rng.choice(counties)[:4] + "00")  # also a neighbouring city
            for code in dict.fromkeys(served):
                served_rows.append(Expert.regions_served.through(expert_id=expert.pk, region_id=code))
                if expert.is_active:
                    self.serving[code].append(expert.pk)
            for code in self.rng.sample(specialties, k=self.rng.randint(1, 3)):
                specialty_rows.append(Expert.specialties.through(expert_id=expert.pk, specialty_id=code))
        Expert.regions_served.through.objects.bulk_create(served_rows, batch_size=CHUNK)
        Expert.specialties.through.objects.bulk_create(specialty_rows, batch_size=CHUNK)

    def make_firms(self, count: int, counties: list[str]) -> list[Enterprise]:
        city_counties = [code for code in counties if code.startswith(CITY[:4])]
        divisions = list(TRADE_WORDS)
        codes: set[str] = set()
        firms = []
        for _ in range(count):
            county = self.rng.choice(city_counties if self.rng.random() < 0.25 else counties)
            while (code := generate_uscc(county, self.rng)) in codes:
                pass
            codes.add(code)
            division = self.rng.choice(divisions)
            firms.append(Enterprise(
                uscc=code, region_id=county, industry_id=division, size="small",
                name=f"合成{self.rng.choice(NAME_STEMS)}{self.rng.choice(TRADE_WORDS[division])}有限公司",
                contact_name=self.rng.choice(SURNAMES) + self.rng.choice(GIVEN), address=FIRM_MARK,
            ))
        Enterprise.objects.bulk_create(firms, batch_size=CHUNK)
        return firms

    def candidates(self, county: str) -> list[int]:
        return [pk for code in enclosing_codes(county) for pk in self.serving.get(code, ())]

    def make_cases(self, count: int, visits_per_case: int, firms: list[Enterprise], today) -> None:
        now = timezone.now()
        load: dict[int, int] = defaultdict(int)
        # One open case per firm in a campaign: open cases take firms in turn, closed ones any firm.
        free_firms = iter(self.rng.sample(firms, k=len(firms)))
        for start in range(0, count, CHUNK):
            cases, plans = [], []
            for _ in range(min(CHUNK, count - start)):
                is_open = self.rng.random() < 0.2
                firm = next(free_firms, None) if is_open else None
                if firm is None:
                    is_open, firm = False, self.rng.choice(firms)
                age = self.rng.randint(5, 390)
                opened = now - timedelta(days=age, hours=self.rng.randint(0, 10))
                closed = opened + timedelta(days=self.rng.randint(3, max(age - 1, 3))) if not is_open else None
                status = self.rng.choice(OPEN_STATUSES) if is_open else Status.CLOSED
                last_day = (closed.date() if closed else today - timedelta(days=1))
                first_day = min(opened.date() + timedelta(days=1), last_day)
                span = (last_day - first_day).days
                days = sorted(first_day + timedelta(days=self.rng.randint(0, span)) for _ in range(visits_per_case))
                follow_up = days[-1] + timedelta(days=14) if days and is_open else None
                cases.append(AssistanceCase(
                    campaign=self.campaign, enterprise_id=firm.pk, title=f"{firm.name}·质量帮扶",
                    lead=self.leads[firm.region_id[:4]], status=status,
                    resolution="" if is_open else self.rng.choices(["resolved", "unresolved"], [85, 15])[0],
                    diagnosis="合成诊断" if status != Status.OPEN else "", opened_by=self.city_user,
                    opened_at=opened, closed_at=closed, last_visit_on=days[-1] if days else None,
                    next_follow_up_on=follow_up, certificate_obtained=not is_open and self.rng.random() < 0.2,
                ))
                plans.append((firm, days))
            AssistanceCase.objects.bulk_create(cases, batch_size=CHUNK)
            visits, assignments, ratings = [], [], []
            for case, (firm, days) in zip(cases, plans, strict=True):
                for number, day in enumerate(days):
                    visits.append(Visit(
                        case_id=case.pk, visited_on=day, mode=self.rng.choice(["on_site", "on_site", "remote"]),
                        hours=Decimal("2.0"), people_present="专家、监管人员、企业质量负责人",
                        problems_found="合成问题", actions_recommended="合成建议", logged_by_id=case.lead_id,
                        next_follow_up_on=days[number + 1] if number + 1 < len(days) and days[number + 1] > day
                        else None,
                    ))
                pool = self.candidates(firm.region_id)
                chosen: set[int] = set()
                for _ in range(1 if self.rng.random() < 0.7 else 2):
                    for _attempt in range(4):  # regulators pass over experts already at capacity
                        if not pool:
                            break
                        pk = self.rng.choice(pool)
                        if pk not in chosen and (case.is_closed or load[pk] < self.capacity[pk]):
                            chosen.add(pk)
                            break
                for pk in chosen:
                    if not case.is_closed:
                        load[pk] += 1
                    assignments.append(CaseAssignment(case_id=case.pk, expert_id=pk, assigned_by_id=case.lead_id,
                                                      assigned_at=case.opened_at, active=not case.is_closed))
                if case.is_closed and self.rng.random() < 0.8:
                    ratings.append(CaseRating(case_id=case.pk, score=self.rng.choices([5, 4, 3, 2, 1],
                                                                                      [50, 30, 12, 5, 3])[0],
                                              rated_by=self.sme_user, rated_at=case.closed_at))
            Visit.objects.bulk_create(visits, batch_size=CHUNK)
            CaseAssignment.objects.bulk_create(assignments, batch_size=CHUNK)
            CaseRating.objects.bulk_create(ratings, batch_size=CHUNK)
            expert_rating_records_rebuild(Expert.objects.filter(code__startswith=EXPERT_CODE_PREFIX))

    def make_need(self) -> NeedRequest:
        """The need matched in the measurements: metrology in a Shijiazhuang county."""
        firm = (Enterprise.objects.filter(cases__campaign=self.campaign, region__code__startswith=CITY[:4])
                .order_by("pk").first())
        need = NeedRequest.objects.filter(enterprise=firm, submitted_by=self.sme_user).first()
        return need or NeedRequest.objects.create(
            enterprise=firm, service_area_id=2, title="计量器具校准", description="benchmark",
            submitted_by=self.sme_user,
        )

    def url(self, name: str, **kwargs) -> str | None:
        try:
            return reverse(name, kwargs=kwargs or None)
        except NoReverseMatch:
            self.say(self.style.WARNING(f"  {name} does not exist yet: its measurement is skipped."))
            return None

    def measure(self, client: Client, url: str, params: dict) -> tuple[float, int, int]:
        """(median ms, queries, status) of `runs` GETs after one warm-up."""
        client.get(url, params)
        with CaptureQueriesContext(connection) as captured:
            status = client.get(url, params).status_code
        queries = len(captured)
        times = []
        for _ in range(self.runs):
            started = time.perf_counter()
            client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), queries, status

    def measure_lists(self) -> None:
        self.heading(f"Lists: median of {self.runs} requests")
        endpoints = [("cases page", "cases:list", "per_page", cases_visible_to),
                     ("visits page", "visits:list", "per_page", visits_visible_to),
                     ("cases API", "api:case-list", "page_size", cases_visible_to),
                     ("visits API", "api:visit-list", "page_size", visits_visible_to)]
        for label, name, size_param, selector in endpoints:
            url = self.url(name)
            if url is None:
                self.results.append((label, "—", "—", "not built yet", "not built yet"))
                continue
            for user in (self.city_user, self.province_user):
                client = Client()
                client.force_login(user)
                rows = selector(user).count()
                cells = []
                for size in (25, 100):
                    median, queries, status = self.measure(client, url, {size_param: size})
                    cells.append(f"{median:.0f} ms ({queries} q)" if status == 200 else f"HTTP {status}")
                who = f"{user.role} {user.region_id}"
                self.results.append((f"{label} `{name}`", who, f"{rows:,}", *cells))
                self.say(f"  {label} as {who}: {rows:,} rows — 25: {cells[0]}, 100: {cells[1]}")

    def suggest(self) -> list:
        return suggest_experts(user=self.city_user, enterprise=self.need.enterprise,
                               service_area_ids=[self.need.service_area_id])

    def time_suggest(self) -> tuple[float, int, list]:
        """(median ms, queries, suggestions) of `runs` calls after one warm-up."""
        self.suggest()
        with CaptureQueriesContext(connection) as captured:
            suggestions = self.suggest()
        times = []
        for _ in range(self.runs):
            started = time.perf_counter()
            self.suggest()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), len(captured), suggestions

    def measure_matching(self) -> None:
        self.heading(f"Matching for one need (metrology, firm in {self.need.enterprise.region_id}) "
                     f"as the city regulator")
        firm = self.need.enterprise
        pool = experts_visible_to(self.city_user).filter(is_active=True)
        candidates = pool.filter(regions_served__code__in=enclosing_codes(firm.region_id)).distinct().count()
        self.say(f"  pool visible to the city regulator: {pool.count():,} active experts; "
                 f"candidates serving the firm's region (scored in SQL): {candidates:,}")
        with connection.cursor() as cursor:
            cursor.execute("SHOW jit")
            jit = cursor.fetchone()[0]
        median, queries, suggestions = self.time_suggest()
        top = suggestions[0] if suggestions else None
        self.say(f"  suggest_experts (jit {jit}): {median:.0f} ms, {queries} queries, {len(suggestions)} shown"
                 + (f"; best: {top.expert.code} score {top.score} ({'; '.join(top.reasons)})" if top else ""))
        if median > 150:
            self.say(self.style.WARNING("  matching is slower than 150 ms: see --explain"))
        self.results.append((f"`suggest_experts` (one need, jit {jit})", "regulator 130100",
                             f"{candidates:,} candidates", f"{median:.0f} ms ({queries} q)", "—"))
        if jit == "on":
            # PostgreSQL compiles a query whose estimated cost passes jit_above_cost before running it;
            # for a web request that compilation can cost more than the query itself.
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
            median, queries, _suggestions = self.time_suggest()
            with connection.cursor() as cursor:
                cursor.execute("RESET jit")
            self.say(f"  suggest_experts (jit off for this session): {median:.0f} ms")
            self.results.append(("`suggest_experts` (one need, jit off)", "regulator 130100",
                                 f"{candidates:,} candidates", f"{median:.0f} ms ({queries} q)", "—"))
        client = Client()
        client.force_login(self.city_user)
        for label, name, kwargs in [("need-experts page", "cases:need-experts", {"need_pk": self.need.pk}),
                                    ("need suggestions API", "api:need-suggestions", {"pk": self.need.pk})]:
            url = self.url(name, **kwargs)
            if url is None:
                self.results.append((label, "—", "—", "not built yet", "—"))
                continue
            median, queries, status = self.measure(client, url, {})
            cell = f"{median:.0f} ms ({queries} q)" if status == 200 else f"HTTP {status}"
            self.results.append((f"{label} `{name}`", "regulator 130100", f"{candidates:,} candidates", cell, "—"))
            self.say(f"  {label}: {cell}")

    def print_table(self) -> None:
        self.heading("Results (Markdown)")
        self.say("| measurement | as | rows | page size 25 | page size 100 |")
        self.say("|---|---|---:|---:|---:|")
        for row in self.results:
            self.say("| " + " | ".join(row) + " |")

    def explain_matching(self) -> None:
        with CaptureQueriesContext(connection) as captured:
            self.suggest()
        statements = [q["sql"] for q in captured.captured_queries if 'FROM "experts_expert"' in q["sql"]]
        if not statements:
            self.say(self.style.ERROR("  the matching query was not found among the captured queries"))
            return
        self.heading("EXPLAIN (ANALYZE, BUFFERS) of the matching query")
        self.explain(statements[0])

    def clean_up(self) -> None:
        """Plain DELETEs in dependency order: the ORM's cascade would load every visit first."""
        self.heading("Removing the synthetic data")
        campaigns = Campaign.objects.filter(name=CAMPAIGN_NAME)
        experts = Expert.objects.filter(code__startswith=EXPERT_CODE_PREFIX)
        firms = Enterprise.objects.filter(address=FIRM_MARK)
        doomed = [
            CaseRating.objects.filter(case__campaign__in=campaigns),
            CaseAssignment.objects.filter(case__campaign__in=campaigns),
            CaseEvent.objects.filter(case__campaign__in=campaigns),
            AssistanceCase.needs.through.objects.filter(assistancecase__campaign__in=campaigns),
            VisitAttachment.objects.filter(visit__case__campaign__in=campaigns),
            Visit.objects.filter(case__campaign__in=campaigns),
            AssistanceCase.objects.filter(campaign__in=campaigns),
            Campaign.service_areas.through.objects.filter(campaign__in=campaigns),
            campaigns,
            Expert.regions_served.through.objects.filter(expert__in=experts),
            Expert.specialties.through.objects.filter(expert__in=experts),
            experts,
            NeedEvent.objects.filter(need__enterprise__in=firms),
            NeedRequest.objects.filter(enterprise__in=firms),
            firms,
        ]
        with self.timed("cases, visits, assignments, ratings, experts, firms and users"), transaction.atomic():
            with connection.cursor() as cursor:
                for queryset in doomed:
                    model = queryset.model
                    sql, params = queryset.values("pk").query.sql_with_params()
                    quote = connection.ops.quote_name
                    cursor.execute(f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} "
                                   f"IN (SELECT * FROM ({sql}) AS doomed)", params)
            remove_accounts(USER_PREFIX)
