"""Measure entering a national survey campaign after the fact: 14,267 firms with their cases and
follow-up surveys, imported as three spreadsheets, on the configured database (SQLite or PostgreSQL).

    DATABASE_URL=sqlite:///bench.sqlite3 python manage.py benchmark_campaign_import
    DATABASE_URL=postgres://.../portal_bench python manage.py benchmark_campaign_import

It builds a campaign over the whole country that ended a month ago and a national regulator, then
times, through the services the pages call:

1. the registry import of N firms spread over every province (the job the worker runs);
2. the import of their cases, a row per visit (one or two each), closed with their outcomes;
3. the import of their follow-up surveys;
4. what the KPI worker then does with the one note each import left: the campaign's full count;
5. a single write (a case opened, a visit logged) while the campaign is empty and once it holds
   every case, to show a write's own time does not grow with the campaign (the figures follow
   from the outbox, after the commit).

Everything it created is deleted at the end unless --keep is given.
"""

import csv
import random
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from django.core.files import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from campaigns import importing as survey_importing
from campaigns.cases import importing as case_importing
from campaigns.cases import services as case_services
from campaigns.models import Campaign
from enterprises import importing as registry_importing
from enterprises.models import Enterprise, ImportJob
from enterprises.uscc import generate_uscc
from portal import outbox
from portal.benchmarking import BenchmarkCommand, remove_accounts
from portal.kpi_notes import TOPIC
from portal.models import Region, User

PREFIX = "bench_import_"
MODES = ("现场", "远程", "流动诊所")


class Command(BenchmarkCommand):
    help = "Benchmark importing a national campaign's firms, cases and follow-up surveys."

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=14_267, help="firms surveyed (14267)")
        parser.add_argument("--writes", type=int, default=10, help="single writes timed at each size (10)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--keep", action="store_true", help="leave the data in the database")

    def handle(self, *args, **options):
        self.rng = random.Random(options["seed"])
        self.workdir = Path(tempfile.mkdtemp(prefix="benchmark_campaign_import_"))
        count = options["firms"]
        self.heading(f"Entering a national campaign after the fact: {count:,} firms ({connection.vendor})")
        # The worker's part is timed on its own (step 4): nothing drains behind the imports' backs.
        with override_settings(DEBUG=False, CELERY_TASK_ALWAYS_EAGER=False):
            self.set_up()
            try:
                before = self.time_writes(options["writes"], "before the import (campaign empty)")
                self.measure(count)
                after = self.time_writes(options["writes"], "after the import")
                self.say(f"\n  a write's median time: {before * 1000:.0f} ms with an empty campaign, "
                         f"{after * 1000:.0f} ms with {count:,} cases")
            finally:
                if not options["keep"]:
                    self.clean_up()

    def set_up(self) -> None:
        today = timezone.localdate()
        self.user = User.objects.create(username=f"{PREFIX}{time.time_ns()}", role=User.Role.REGULATOR,
                                        region_id="000000", full_name="国家局补录员")
        self.campaign = Campaign.objects.create(
            name=f"{PREFIX}小微企业质量管理体系认证提升行动", organiser="国家市场监督管理总局", region_id="000000",
            starts_on=today - timedelta(days=3 * 365), ends_on=today - timedelta(days=30))
        self.counties = list(Region.objects.filter(level=Region.Level.COUNTY).values_list("code", flat=True))

    def measure(self, count: int) -> None:
        codes, total = [], 0.0
        header = [column.header for column in registry_importing.COLUMNS]
        firms_csv = self.write("firms.csv", header, self.firm_rows(count, codes))
        started = time.perf_counter()
        with firms_csv.open("rb") as handle:
            job = registry_importing.import_job_create(user=self.user, upload=File(handle, name=firms_csv.name),
                                                       enqueue=False)
        registry_importing.import_job_process(job_id=job.pk)
        took = time.perf_counter() - started
        total += took
        job.refresh_from_db()
        self.job = job
        self.say(f"  1. registry import: {job.created_count:,} firms created, status {job.status}: {took:.1f} s")
        self.show_problems(job.errors)

        cases_csv = self.write("cases.csv", [c.header for c in case_importing.COLUMNS], self.case_rows(codes))
        started = time.perf_counter()
        report = case_importing.case_import(user=self.user, campaign=self.campaign, upload=self.upload(cases_csv))
        took = time.perf_counter() - started
        total += took
        self.say(f"  2. case import: {report.total_rows:,} rows, {report.cases_created:,} cases, "
                 f"{report.visits_created:,} visits, {len(report.problems)} problems: {took:.1f} s")
        self.show_problems(report.problems)

        surveys_csv = self.write("surveys.csv", [c.header for c in survey_importing.COLUMNS], self.survey_rows(codes))
        started = time.perf_counter()
        report = survey_importing.survey_import(user=self.user, campaign=self.campaign,
                                                upload=self.upload(surveys_csv))
        took = time.perf_counter() - started
        total += took
        self.say(f"  3. survey import: {report.created:,} follow-up surveys, {len(report.problems)} problems: "
                 f"{took:.1f} s")
        self.show_problems(report.problems)
        verdict = "under" if total < 120 else self.style.ERROR("OVER")
        self.say(f"  imports in all: {total:.1f} s ({verdict} 2 minutes)")

        started = time.perf_counter()
        while outbox.drain(TOPIC):
            pass
        took = time.perf_counter() - started
        if connection.vendor == "postgresql":
            # What autovacuum does soon after a bulk load: the planner's statistics see the new rows.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.say(f"  4. the KPI worker's update of the campaign's figures after the imports: {took:.1f} s")
        again = time.perf_counter()
        report = case_importing.case_import(user=self.user, campaign=self.campaign, upload=self.upload(cases_csv))
        self.say(f"  importing the case list again: {report.cases_created} cases created, "
                 f"{report.visits_created} visits: {time.perf_counter() - again:.1f} s")

    def show_problems(self, problems: list[dict]) -> None:
        for problem in problems[:3]:
            self.say(self.style.ERROR(f"     line {problem['line']}, {problem.get('column')}: {problem['code']} "
                                      f"{problem.get('params')}"))

    def time_writes(self, count: int, label: str) -> float:
        """A case opened after the fact and a visit logged on it, committed, `count` times: the median."""
        county = Region.objects.get(code="130102")
        times = []
        for _ in range(count):
            firm = Enterprise.objects.create(uscc=self.new_code(county.code), name=f"{PREFIX}单笔写入企业",
                                             region=county, industry_id="13", size="small")
            started = time.perf_counter()
            with transaction.atomic():
                case = case_services.case_open(user=self.user, campaign=self.campaign, enterprise=firm, title="补录",
                                               opened_on=self.campaign.starts_on + timedelta(days=10))
            case_services.visit_log(user=self.user, case=case, visited_on=self.campaign.starts_on + timedelta(days=20),
                                    mode="on_site", hours=2, people_present="国家局")
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        self.say(f"  5. a write {label}: median {median * 1000:.0f} ms over {count}")
        while outbox.drain(TOPIC):
            pass
        return median

    def new_code(self, county: str) -> str:
        while True:
            code = generate_uscc(county, self.rng)
            if not Enterprise.objects.filter(uscc=code).exists():
                return code

    def firm_rows(self, count: int, codes: list[str]) -> list[list]:
        seen = set()
        rows = []
        while len(rows) < count:
            county = self.rng.choice(self.counties)
            code = generate_uscc(county, self.rng)
            if code in seen:
                continue
            seen.add(code)
            codes.append(code)
            division = self.rng.choice(["13", "14", "29", "34", "39", "51"])
            rows.append([code, f"{PREFIX}小微企业{len(rows)}", county, division,
                         self.rng.choice(["微型", "小型"]), "", "", "", "", self.rng.randint(3, 90), "", "否", "否",
                         "否", "否"])
        return rows

    def case_rows(self, codes: list[str]) -> list[list]:
        start = self.campaign.starts_on
        rows = []
        for code in codes:
            opened = start + timedelta(days=self.rng.randint(0, 500))
            closed = opened + timedelta(days=self.rng.randint(60, 300))
            outcome = [self.rng.choice(["是", "否"]), "否", "否", "否", self.rng.choice(["", "20000"]),
                       self.rng.choice(["一次性", "每年"])]
            for visit in range(self.rng.choice([1, 1, 2])):
                day = opened + timedelta(days=10 + 20 * visit)
                rows.append([code, "", opened, "一企一策", day, self.rng.choice(MODES), 2, "认证机构专家", "",
                             closed, "已解决", *outcome])
        return rows

    def survey_rows(self, codes: list[str]) -> list[list]:
        end = self.campaign.ends_on
        return [[code, "", "跟踪", end - timedelta(days=self.rng.randint(1, 60)), "",
                 "是" if self.rng.random() < 0.9046 else "否", "是" if self.rng.random() < 0.9695 else "否",
                 round(self.rng.gauss(12, 5), 2), round(self.rng.gauss(13, 5), 2), round(self.rng.gauss(10, 4), 2)]
                for code in codes]

    def write(self, name: str, header: list[str], rows: list[list]) -> Path:
        path = self.workdir / name
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    def upload(self, path: Path) -> SimpleUploadedFile:
        return SimpleUploadedFile(path.name, path.read_bytes(), content_type="text/csv")

    def clean_up(self) -> None:
        from campaigns.cases.models import AssistanceCase
        from enterprises.models import NeedsSurvey

        self.heading("Removing the benchmark's data")
        with transaction.atomic():
            # By the prefix: also what an earlier run that stopped half-way left behind.
            campaigns = Campaign.objects.filter(name__startswith=PREFIX)
            NeedsSurvey.objects.filter(campaign__in=campaigns).delete()
            AssistanceCase.objects.filter(campaign__in=campaigns).delete()
            campaigns.delete()
            Enterprise.objects.filter(name__startswith=PREFIX).delete()
            for job in ImportJob.objects.filter(uploaded_by=self.user):
                job.file.delete(save=False)
                job.delete()
        while outbox.drain(TOPIC):
            pass
        remove_accounts(PREFIX)
        for path in self.workdir.iterdir():
            path.unlink()
        self.workdir.rmdir()
