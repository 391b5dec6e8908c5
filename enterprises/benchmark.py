"""The registry benchmark's synthetic firms and what it measures: the list page and API with each
filter, the export, and importing a large file through the background job."""

import csv
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path

from django.core.files import File
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from enterprises import exporting, importing
from enterprises.demo import GIVEN, NAME_STEMS, SURNAMES, TRADE_WORDS, short_name
from enterprises.filters import EnterpriseFilterSet
from enterprises.models import Certification, Enterprise, ImportJob, NeedRequest
from enterprises.selectors import enterprises_visible_to
from enterprises.uscc import generate_uscc
from portal.benchmarking import remove_accounts
from portal.imports.reading import MAX_BYTES
from portal.models import Region, ServiceArea, User

USER_PREFIX = "benchmark_registry_"
PROVINCES = ("13", "44", "34")  # Hebei, Guangdong, Anhui
CITY, PROVINCE = "130100", "130000"  # Shijiazhuang and Hebei: the two signed-in personas
SIZES = [("micro", "微型", 0.45), ("small", "小型", 0.35), ("medium", "中型", 0.17), ("large", "大型", 0.03)]
SCHEMES = [scheme for scheme, _label in Certification.Scheme.choices]
INDEX_PATTERN = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")


class QueryCounter:
    """A connection.execute_wrapper that counts statements without keeping their SQL."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class ProgressWatcher(threading.Thread):
    """Reads the job's progress every 0.1 s from its own connection, as the page's poll would."""

    def __init__(self, job_id: int):
        super().__init__(daemon=True)
        self.job_id = job_id
        self.snapshots: list[tuple[str, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        try:
            while not self._stop_event.wait(0.1):
                snapshot = ImportJob.objects.filter(pk=self.job_id).values_list("status", "processed_rows").first()
                if snapshot and (not self.snapshots or self.snapshots[-1] != snapshot):
                    self.snapshots.append(snapshot)
        finally:
            connections.close_all()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


class RegistryMeasures:
    """Builds the synthetic registry, measures, prints and removes it; a mixin of the benchmark_registry command."""

    def make_users(self) -> tuple[User, User, User]:
        def user(name: str, role: str, region: str | None) -> User:
            account, _created = User.objects.update_or_create(
                username=USER_PREFIX + name,
                defaults={"role": role, "region_id": region, "full_name": f"benchmark {name}", "is_active": True},
            )
            return account

        return (user("city", User.Role.REGULATOR, CITY), user("province", User.Role.SUPERVISOR, PROVINCE),
                user("sme", User.Role.SME, None))

    def new_code(self, region: str) -> str:
        while True:
            code = generate_uscc(region, self.rng)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def firm_name(self, county: Region, division: str) -> str:
        return f"{short_name(county)}{self.rng.choice(NAME_STEMS)}{self.rng.choice(TRADE_WORDS[division])}有限公司"

    def make_registry(self, count: int) -> None:
        self.heading(f"Adding {count:,} synthetic enterprises")
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__regex=r"^(13|44|34)"))
        city_counties = [county for county in counties if county.code.startswith(CITY[:4])]
        divisions = list(TRADE_WORDS)
        with self.timed("firms"):
            firms = []
            for _ in range(count):
                # A quarter in Shijiazhuang, so the city regulator's pages have thousands of rows.
                county = self.rng.choice(city_counties if self.rng.random() < 0.25 else counties)
                division = self.rng.choice(divisions)
                size = self.rng.choices(SIZES, weights=[s[2] for s in SIZES])[0][0]
                employees = self.rng.randint(3, 900)
                firms.append(Enterprise(
                    uscc=self.new_code(county.code), name=self.firm_name(county, division), region_id=county.code,
                    industry_id=division, size=size, employees=employees,
                    annual_revenue=round(employees * self.rng.uniform(30, 120), 2),
                    contact_name=self.rng.choice(SURNAMES) + self.rng.choice(GIVEN),
                    contact_phone=f"13{self.rng.randint(100000000, 999999999)}",
                    is_key=self.rng.random() < 0.15, is_specialized=self.rng.random() < 0.08,
                    is_exporter=self.rng.random() < 0.12, in_industrial_park=self.rng.random() < 0.3,
                ))
            Enterprise.objects.bulk_create(firms, batch_size=5_000)
        ids = [firm.pk for firm in firms]
        with self.timed("certifications on ~10%"):
            Certification.objects.bulk_create([
                Certification(enterprise_id=pk, scheme=self.rng.choice(SCHEMES), number=f"BENCH-{pk}",
                              body="中国质量认证中心", issued_on=timezone.localdate().replace(year=2023))
                for pk in self.rng.sample(ids, count // 10)
            ], batch_size=5_000)
        with self.timed("open needs on ~5%"):
            areas = list(ServiceArea.objects.values_list("pk", flat=True))
            NeedRequest.objects.bulk_create([
                NeedRequest(enterprise_id=pk, service_area_id=self.rng.choice(areas), title="计量器具校准",
                            description="benchmark", status=self.rng.choice(NeedRequest.OPEN_STATUSES),
                            submitted_by=self.sme_user)
                for pk in self.rng.sample(ids, count // 20)
            ], batch_size=5_000)
        # Statistics as autovacuum would have them on a live database, reference tables included:
        # a never-analysed portal_industry makes the section filter's plan 10x slower.
        with self.timed("ANALYZE"), connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.say(f"  registry now holds {Enterprise.objects.count():,} enterprises; "
                 f"{Enterprise.objects.filter(region__code__startswith=CITY[:4]).count():,} in Shijiazhuang")

    def filters(self, user: User) -> list[tuple[str, dict]]:
        region = "130102" if user.is_regulator else CITY
        return [
            ("no filter", {}), (f"region={region}", {"region": region}), ("industry=13", {"industry": "13"}),
            ("industry=C (section)", {"industry": "C"}), ("size=small", {"size": "small"}),
            ("is_key", {"is_key": "true"}), ("is_specialized", {"is_specialized": "true"}),
            ("is_exporter", {"is_exporter": "true"}), ("in_industrial_park", {"in_industrial_park": "true"}),
            ("certification=iso9001", {"certification": "iso9001"}), ("has_open_needs", {"has_open_needs": "true"}),
            ("q=name fragment 恒泰", {"q": "恒泰"}), ("q=name fragment 恒泰食品", {"q": "恒泰食品"}),
            ("q=code prefix 91130102", {"q": "91130102"}),
        ]

    def endpoints(self) -> list[tuple[str, str, str]]:
        found = []
        for label, name, size_param in [("page", "enterprises:list", "per_page"), ("API", "api:enterprise-list",
                                                                                     "page_size")]:
            try:
                found.append((label, reverse(name), size_param))
            except NoReverseMatch:
                self.say(self.style.WARNING(f"  {name} does not exist yet: its measurements are skipped."))
        return found

    def measure(self, client: Client, url: str, params: dict) -> tuple[float, int, int]:
        """(median ms, queries, status) of `runs` GETs after one warm-up."""
        client.get(url, params)
        with CaptureQueriesContext(connection) as captured:
            status = client.get(url, params).status_code
        queries = len(captured)  # now: the next request's request_started signal empties the log
        times = []
        for _ in range(self.runs):
            started = time.perf_counter()
            client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times), queries, status

    def measure_pages(self) -> None:
        endpoints = self.endpoints()
        if not endpoints:
            return
        for user in (self.city_user, self.province_user):
            client = Client()
            client.force_login(user)
            self.heading(f"As the {user.role} of {user.region_id} {user.region.name}: median of "
                         f"{self.runs} requests, ms (queries)")
            self.say(f"  {'filter':<28}{'rows':>8}" + "".join(f"{f'{label} 25':>16}{f'{label} 100':>16}"
                                                           for label, _url, _param in endpoints))
            for label, params in self.filters(user):
                rows = EnterpriseFilterSet(params, queryset=enterprises_visible_to(user)).qs.count()
                line = f"  {label:<28}{rows:>8,}"
                for _name, url, size_param in endpoints:
                    counts = []
                    for size in (25, 100):
                        median, queries, status = self.measure(client, url, {**params, size_param: size})
                        counts.append(queries)
                        cell = f"{median:.0f} ({queries})" if status == 200 else f"HTTP {status}"
                        line += f"{cell:>16}"
                    if counts[0] != counts[1]:
                        line += self.style.ERROR("  queries differ by page size")
                self.say(line)

    def explain_filters(self) -> None:
        """EXPLAIN (ANALYZE) of the page's own queries: the count and the page of firms."""
        endpoints = self.endpoints()
        if not endpoints:
            return
        _name, url, size_param = endpoints[0]
        client = Client()
        client.force_login(self.city_user)
        self.heading(f"EXPLAIN (ANALYZE) of {url} as the city regulator: indexes used by each query on the registry")
        for label, params in self.filters(self.city_user):
            with CaptureQueriesContext(connection) as captured:
                client.get(url, {**params, size_param: 25})
            statements = [sql for sql in (q["sql"] for q in captured.captured_queries)
                          if 'FROM "enterprises_enterprise"' in sql and sql.lstrip().upper().startswith("SELECT")]
            self.say(f"  {label}")
            for sql in statements:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + sql)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                kind = "count" if "COUNT(" in sql.upper() else "page"
                indexes = sorted(set(INDEX_PATTERN.findall(plan)))
                seq = " + Seq Scan on enterprises_enterprise" if "Seq Scan on enterprises_enterprise" in plan else ""
                took = re.search(r"Execution Time: ([0-9.]+) ms", plan)
                self.say(f"    {kind:<6}{took.group(1) if took else '?':>9} ms  "
                         f"{', '.join(indexes) or '(no index)'}{seq}")

    def measure_export(self) -> None:
        """The export of the province supervisor's whole registry, through the code the export view runs."""
        enterprises = EnterpriseFilterSet({}, queryset=enterprises_visible_to(self.province_user)).qs
        rows = enterprises.count()
        self.heading(f"Export of the province supervisor's registry ({rows:,} firms)")
        started = time.perf_counter()
        size = sum(len(chunk) for chunk in exporting.csv_chunks(enterprises))
        took = time.perf_counter() - started
        self.say(f"  CSV  {took:5.1f} s = {rows / took:8,.0f} rows/s, {size / 2**20:.1f} MB (streamed)")
        with tempfile.TemporaryFile() as spool:
            started = time.perf_counter()
            exporting.write_xlsx(enterprises, spool)
            took = time.perf_counter() - started
            size = spool.tell()
        self.say(f"  XLSX {took:5.1f} s = {rows / took:8,.0f} rows/s, {size / 2**20:.1f} MB")

    def import_rows(self, count: int) -> list[list]:
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=CITY[:4]))
        rows = []
        for _ in range(count):
            county = self.rng.choice(counties)
            division = self.rng.choice(list(TRADE_WORDS))
            flags = ["是" if self.rng.random() < p else "否" for p in (0.15, 0.08, 0.1, 0.3)]
            email = f"qa{self.rng.randint(1000, 99999)}@example.cn" if self.rng.random() < 0.3 else ""
            rows.append([
                self.new_code(county.code), self.firm_name(county, division), county.code, division,
                self.rng.choices(SIZES, weights=[s[2] for s in SIZES])[0][1],
                f"{county.name}{self.rng.choice(['建设', '中山', '人民', '工业'])}路{self.rng.randint(1, 399)}号",
                self.rng.choice(SURNAMES) + self.rng.choice(GIVEN), f"13{self.rng.randint(100000000, 999999999)}",
                email, self.rng.randint(3, 900), round(self.rng.uniform(50, 90000), 2), *flags,
            ])
        return rows

    def write_csv(self, rows: list[list]) -> Path:
        path = self.workdir / "enterprises.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([column.header for column in importing.COLUMNS])
            writer.writerows(rows)
        return path

    def write_xlsx(self, rows: list[list]) -> Path:
        from openpyxl import Workbook

        path = self.workdir / "enterprises.xlsx"
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("企业名录")
        sheet.append([column.header for column in importing.COLUMNS])
        for row in rows:
            sheet.append(row)
        workbook.save(path)
        return path

    def measure_import(self, count: int) -> None:
        self.heading(f"Bulk import of {count:,} rows as the city regulator "
                     "(the services enterprises.tasks.import_job_run calls)")
        for fmt in ("csv", "xlsx"):
            rows = self.import_rows(count)
            with self.timed(f"writing the {fmt.upper()} file"):
                path = self.write_csv(rows) if fmt == "csv" else self.write_xlsx(rows)
            size = path.stat().st_size
            limit = "within" if size <= MAX_BYTES else "OVER"
            self.say(f"  {path.name}: {size / 1024 / 1024:.1f} MB ({limit} the {MAX_BYTES // 2**20} MB "
                     "upload limit)")
            for run, expect in (("first import", "creates"), ("second import", "updates")):
                self.import_once(path, count, run, expect)

    def import_once(self, path: Path, count: int, run: str, expect: str) -> None:
        with path.open("rb") as handle:
            started = time.perf_counter()
            # enqueue=False: the phases below are what the task runs, timed one by one.
            job = importing.import_job_create(user=self.city_user, upload=File(handle, name=path.name), enqueue=False)
            upload_check = time.perf_counter() - started
        self.jobs.append(job.pk)
        watcher = ProgressWatcher(job.pk)
        watcher.start()
        queries = QueryCounter()
        try:
            with connection.execute_wrapper(queries):
                started = time.perf_counter()
                importing.import_job_validate(job_id=job.pk)
                validated = time.perf_counter()
                validate_queries = queries.count
                importing.import_job_import(job_id=job.pk)
                imported = time.perf_counter()
        finally:
            watcher.stop()
        job.refresh_from_db()
        validate_s, import_s = validated - started, imported - validated
        self.say(f"  {path.suffix[1:].upper()} {run} ({expect}): status {job.status}, "
                 f"created {job.created_count:,}, updated {job.updated_count:,}, problems {job.error_count:,}")
        self.say(f"    upload check (in the request) {upload_check:5.1f} s")
        self.say(f"    validation {validate_s:7.1f} s = {count / validate_s:8,.0f} rows/s, {validate_queries} queries")
        self.say(f"    import     {import_s:7.1f} s = {count / import_s:8,.0f} rows/s, "
                 f"{queries.count - validate_queries} queries")
        self.say(f"    total      {validate_s + import_s:7.1f} s = {count / (validate_s + import_s):8,.0f} rows/s")
        phases = {status: [rows for s, rows in watcher.snapshots if s == status]
                  for status in (ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING)}
        for status, seen in phases.items():
            middle = [rows for rows in seen if 0 < rows < count]
            verdict = "saved as it went" if len(middle) >= 2 else self.style.ERROR("NOT seen moving")
            shown = ", ".join(f"{rows:,}" for rows in middle[:4]) + (" …" if len(middle) > 4 else "")
            self.say(f"    progress while {status}: {len(middle)} intermediate values seen from another "
                     f"connection ({shown}) — {verdict}")
        expected = (count, 0) if expect == "creates" else (0, count)
        if (job.status, job.created_count, job.updated_count) != ("done", *expected):
            self.say(self.style.ERROR(f"    expected done with created/updated {expected}"))

    def clean_up(self) -> None:
        self.heading("Removing the synthetic data")
        codes = list(self.codes)
        with self.timed(f"{len(codes):,} firms (with their certifications and needs), "
                        f"{len(self.jobs)} import jobs and files, 3 users"):
            for start in range(0, len(codes), 5_000):
                with transaction.atomic():
                    Enterprise.objects.filter(uscc__in=codes[start:start + 5_000]).delete()
            for job in ImportJob.objects.filter(pk__in=self.jobs):
                job.file.delete(save=False)
                job.delete()
            NeedRequest.objects.filter(submitted_by__username__startswith=USER_PREFIX).delete()
            remove_accounts(USER_PREFIX)  # the import's uploader keeps its audit entries
        for path in self.workdir.iterdir():
            path.unlink()
        self.workdir.rmdir()
