"""The benchmark's synthetic Hebei campaign, written with COPY in chunks, and its removal."""

import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, CaseRating, Visit, VisitAttachment
from campaigns.kpis.models import KpiCell, KpiSnapshot, KpiState
from campaigns.models import Campaign, CampaignTarget
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.demo import GIVEN, NAME_STEMS, SIZES, SURNAMES, TRADE_WORDS
from enterprises.models import Certification, Enterprise, KeyDesignation, NeedEvent, NeedRequest, NeedsSurvey
from enterprises.uscc import generate_uscc
from portal.benchmarking import Copier, Ids, remove_accounts
from portal.kpi_notes import TOPIC as KPI_TOPIC
from portal.models import Industry, OutboxEntry, Region, User

USER_PREFIX = "benchmark_kpis_"
CAMPAIGN_NAME = "benchmark_kpis 河北省中小企业质量提升行动（合成数据）"
FIRM_MARK = "benchmark_kpis synthetic firm"  # in the address: how the clean-up finds the firms
CERTIFICATE_PREFIX = "BENCH-KPI-"
DESIGNATION_MARK = "benchmark_kpis designation "
PROVINCE, CITY = "130000", "130100"
CHUNK = 10_000
CAMPAIGN_DAYS = 420  # the campaign started this long ago: about 14 months of monthly rows
CLOSED_SHARE, RATED_SHARE, REOPENED_SHARE, KEY_SHARE = 0.40, 0.80, 0.08, 0.10
Status = AssistanceCase.Status
NeedStatus = NeedRequest.Status
IN_SCOPE = list(range(1, 10))  # service area 10 is outside the campaign, so its needs must not count
OPEN_STATUSES = ([Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS], [10, 20, 25, 45])
TOPICS = ["ISO 9001质量管理体系宣贯", "计量器具管理与校准", "企业标准自我声明公开", "食品生产许可与HACCP",
          "卓越绩效模式导入", "产品质量安全主体责任", "出口产品技术性贸易措施", "质量成本与精益生产",
          "小微企业认证提升", "特种设备安全管理"]
PROBLEMS = ["检验记录不全", "计量器具未按期校准", "无企业标准", "来料检验缺失", "质量目标未分解", "不合格品处置不规范"]


class SyntheticCampaign:
    """Builds (and removes) one synthetic province campaign with firms, cases, visits, needs, sessions,
    certificates, ratings and surveys; a mixin of the benchmark_kpis command."""

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
            with self.timed("services wanted in the baseline surveys, key parks and products"):
                self.make_wants_and_designations()
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

    def make_wants_and_designations(self) -> None:
        """The baseline surveys' services wanted (7 in 8 want quality infrastructure, 1 in 3 training),
        in one statement; and key parks and products across the province, a few outside the campaign's
        period or jurisdiction, which it must not count."""
        through = NeedsSurvey.services_wanted.through
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(through._meta.db_table)} (needssurvey_id, servicearea_id) "
                "SELECT s.id, a.code FROM enterprises_needssurvey s CROSS JOIN (VALUES (2), (8)) AS a (code) "
                "WHERE s.kind = 'baseline' AND s.enterprise_id IN (SELECT id FROM enterprises_enterprise "
                "WHERE address = %s) AND ((a.code = 2 AND s.id %% 8 <> 0) OR (a.code = 8 AND s.id %% 3 = 0))",
                [FIRM_MARK])
        codes = list(Region.objects.filter(code__startswith=PROVINCE[:2]).exclude(level=Region.Level.PROVINCE)
                     .values_list("code", flat=True)) + ["440300"]
        count = max(len(self.firms) // 50, 20)
        KeyDesignation.objects.bulk_create(
            KeyDesignation(name=f"{DESIGNATION_MARK}{n}", region_id=self.rng.choice(codes),
                           kind=self.rng.choice(list(KeyDesignation.Kind.values)),
                           designated_on=self.today - timedelta(days=self.rng.randint(0, CAMPAIGN_DAYS + 200)),
                           designated_by=self.users["city"])
            for n in range(count))

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
            "baseline surveys": NeedsSurvey.objects.filter(campaign=campaign, kind=NeedsSurvey.Kind.BASELINE).count(),
            "key designations": KeyDesignation.objects.filter(name__startswith=DESIGNATION_MARK).count(),
        }
        self.data_line = ", ".join(f"{value:,} {name}" for name, value in counts.items())
        self.heading("The data")
        self.say(f"  {self.data_line}")

    def clean_up(self) -> None:
        """Plain DELETEs in dependency order: the ORM's cascade would load every visit first."""
        self.heading("Removing the synthetic data")
        campaigns = Campaign.objects.filter(name=CAMPAIGN_NAME)
        firms = Enterprise.objects.filter(address=FIRM_MARK)
        surveys = NeedsSurvey.objects.filter(enterprise__in=firms) | NeedsSurvey.objects.filter(campaign__in=campaigns)
        doomed = [
            KpiSnapshot.objects.filter(campaign__in=campaigns),
            KpiCell.objects.filter(campaign__in=campaigns),
            KpiState.objects.filter(campaign__in=campaigns),
            # Notes the timed visits left, if no worker drained them.
            OutboxEntry.objects.filter(topic=KPI_TOPIC, payload__campaign__in=list(campaigns.values_list("pk",
                                                                                                        flat=True))),
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
            KeyDesignation.objects.filter(name__startswith=DESIGNATION_MARK),
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
