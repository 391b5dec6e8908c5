"""The registry benchmark's synthetic firms and what it measures: the list page and API with each
filter, the export, and importing a large file through the background job."""

import csv
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.core.files import File
from django.db import connection, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enterprises import importing
from enterprises.demo import GIVEN, NAME_STEMS, SURNAMES, TRADE_WORDS, short_name
from enterprises.filters import SORTS
from enterprises.models import Certification, Enterprise, ImportJob, NeedRequest
from enterprises.selectors import enterprises_in, enterprises_visible_to
from enterprises.uscc import generate_uscc
from portal.benchmarking import Copier, ServedPortal, peak_rss_mb, remove_accounts, session_cookie
from portal.models import NATIONAL_CODE, Region, ServiceArea, User
from portal.pagination import encode_cursor

USER_PREFIX = "benchmark_registry_"
MARKER = "benchmark@registry.invalid"  # the contact e-mail of every synthetic firm
STREETS = ["建设", "中山", "人民", "工业", "解放", "和平"]
# The registry table's indexes that no constraint owns: dropped before COPY, built again after.
INDEXES_SQL = """SELECT i.indexname, i.indexdef FROM pg_indexes i
    JOIN pg_class c ON c.relname = i.indexname
    WHERE i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)"""
PROVINCES = ("13", "44", "34")  # Hebei, Guangdong, Anhui
CITY, PROVINCE = "130100", "130000"  # Shijiazhuang and Hebei: the two signed-in personas
SIZES = [("micro", "微型", 0.45), ("small", "小型", 0.35), ("medium", "中型", 0.17), ("large", "大型", 0.03)]
SCHEMES = [scheme for scheme, _label in Certification.Scheme.choices]
# The largest workbook measured: a list of this shape holds about five distinct texts a firm, and a
# workbook of more than 1,000,000 distinct texts is refused (portal/uploads.py).
XLSX_ROWS = 150_000
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

    @staticmethod
    def account(name: str, role: str, region: str | None) -> User:
        account, _created = User.objects.update_or_create(
            username=USER_PREFIX + name,
            defaults={"role": role, "region_id": region, "full_name": f"benchmark {name}", "is_active": True},
        )
        return account

    def make_users(self) -> tuple[User, User, User]:
        return (self.account("city", User.Role.REGULATOR, CITY),
                self.account("province", User.Role.SUPERVISOR, PROVINCE), self.account("sme", User.Role.SME, None))

    def new_code(self, region: str) -> str:
        while True:
            code = generate_uscc(region, self.rng)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def import_code(self, region: str) -> str:
        code = self.new_code(region)
        self.import_codes.add(code)
        return code

    def firm_name(self, county: Region, division: str) -> str:
        return f"{short_name(county)}{self.rng.choice(NAME_STEMS)}{self.rng.choice(TRADE_WORDS[division])}有限公司"

    def make_registry(self, count: int, *, reuse: bool) -> None:
        existing = Enterprise.objects.filter(contact_email=MARKER).count()
        if reuse and existing >= count:
            self.heading(f"Reusing the {existing:,} synthetic enterprises already in the database")
            return
        if existing:
            self.remove_registry()
        self.heading(f"Adding {count:,} synthetic enterprises (COPY, indexes built afterwards)")
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__regex=r"^(13|44|34)"))
        city_counties = [county for county in counties if county.code.startswith(CITY[:4])]
        names = dict(Region.objects.values_list("code", "name"))
        divisions = list(TRADE_WORDS)
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute(INDEXES_SQL, [Enterprise._meta.db_table])
            indexes = cursor.fetchall()
        try:
            with self.timed(f"dropping {len(indexes)} indexes of the registry table"), connection.cursor() as cursor:
                for name, _definition in indexes:
                    cursor.execute(f'DROP INDEX "{name}"')
            with self.timed("firms written with COPY (derived columns computed as Enterprise.derive does)"):
                copier = Copier(Enterprise, now=now)
                for _ in range(count):
                    # A quarter in Shijiazhuang, so the city regulator's pages have thousands of rows.
                    county = self.rng.choice(city_counties if self.rng.random() < 0.25 else counties)
                    division = self.rng.choice(divisions)
                    employees = self.rng.randint(3, 900)
                    firm = Enterprise(
                        uscc=self.new_code(county.code), name=self.firm_name(county, division), region_id=county.code,
                        address=f"{county.name}{self.rng.choice(STREETS)}路{self.rng.randint(1, 399)}号",
                        contact_name=self.rng.choice(SURNAMES) + self.rng.choice(GIVEN),
                        contact_phone=f"13{self.rng.randint(100000000, 999999999)}",
                    )
                    firm.derive(names)
                    copier.add(
                        uscc=firm.uscc, name=firm.name, region_id=firm.region_id, industry_id=division,
                        size=self.rng.choices(SIZES, weights=[s[2] for s in SIZES])[0][0], employees=employees,
                        annual_revenue=round(employees * self.rng.uniform(30, 120), 2), address=firm.address,
                        contact_name=firm.contact_name, contact_phone=firm.contact_phone, contact_email=MARKER,
                        is_key=self.rng.random() < 0.15, is_specialized=self.rng.random() < 0.08,
                        is_exporter=self.rng.random() < 0.12, in_industrial_park=self.rng.random() < 0.3,
                        province_code=firm.province_code, city_code=firm.city_code, search_text=firm.search_text,
                        search_pairs=firm.search_pairs,
                        created_at=now - timedelta(minutes=self.rng.randint(0, 5 * 365 * 24 * 60)),
                    )
                copier.flush()
        finally:
            with self.timed("indexes built again"), connection.cursor() as cursor:
                # Inside a transaction (a test) the foreign keys' deferred checks must run first.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for _name, definition in indexes:
                    cursor.execute(definition)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        with (self.timed("certifications on ~10% (and the firms' certification_schemes), open needs on ~5% "
                         "(set-based SQL)"), connection.cursor() as cursor):
            schemes = "ARRAY[" + ", ".join(f"'{scheme}'" for scheme in SCHEMES) + "]"
            cursor.execute(
                "INSERT INTO enterprises_certification (enterprise_id, scheme, number, body, issued_on) "
                f"SELECT id, ({schemes})[1 + mod(id, {len(SCHEMES)})], 'BENCH-' || id, '中国质量认证中心', "
                "DATE '2023-06-01' FROM enterprises_enterprise WHERE contact_email = %s AND random() < 0.1",
                [MARKER])
            area = ServiceArea.objects.values_list("pk", flat=True).first()
            cursor.execute(
                "INSERT INTO enterprises_needrequest (enterprise_id, service_area_id, title, description, urgency, "
                "status, decline_reason, submitted_by_id, submitted_at, created_at, updated_at) "
                "SELECT id, %s, '计量器具校准', 'benchmark', 'normal', 'submitted', '', %s, now(), now(), now() "
                "FROM enterprises_enterprise WHERE contact_email = %s AND random() < 0.05",
                [area, self.sme_user.pk, MARKER])
            cursor.execute(
                "UPDATE enterprises_enterprise e SET certification_schemes = held.schemes FROM "
                "(SELECT enterprise_id, string_agg(DISTINCT scheme, ' ' ORDER BY scheme) AS schemes "
                "FROM enterprises_certification WHERE number LIKE 'BENCH-%%' GROUP BY enterprise_id) held "
                "WHERE e.id = held.enterprise_id")
            cursor.execute("UPDATE enterprises_enterprise SET has_open_needs = true WHERE id IN "
                           "(SELECT enterprise_id FROM enterprises_needrequest WHERE submitted_by_id = %s)",
                           [self.sme_user.pk])
        # Statistics and visibility map as autovacuum would leave them on a live database.
        with self.timed("VACUUM ANALYZE"), connection.cursor() as cursor:
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")
        self.say(f"  registry now holds {Enterprise.objects.count():,} enterprises; "
                 f"{Enterprise.objects.filter(city_code=CITY[:4]).count():,} in Shijiazhuang, "
                 f"{Enterprise.objects.filter(province_code=PROVINCE[:2]).count():,} in Hebei")

    def remove_registry(self) -> None:
        with self.timed("removing the synthetic enterprises of an earlier run"), connection.cursor() as cursor:
            cursor.execute("DELETE FROM enterprises_certification WHERE number LIKE %s", ["BENCH-%"])
            cursor.execute("DELETE FROM enterprises_needrequest WHERE enterprise_id IN "
                           "(SELECT id FROM enterprises_enterprise WHERE contact_email = %s)", [MARKER])
            cursor.execute("DELETE FROM enterprises_enterprise WHERE contact_email = %s", [MARKER])

    def filters(self, user: User) -> list[tuple[str, dict]]:
        """Every filter, sort and form of search of the issue, as `user` would use them."""
        visible = enterprises_visible_to(user).order_by("name", "id")
        sample = visible[min(1234, max(visible.count() - 1, 0))] if visible.exists() else None
        code_piece = sample.uscc[6:14] if sample else "MA0CYARJ"
        regions = [("county 130102", "130102")] + ([("city 130100", CITY), ("province 130000", PROVINCE)]
                                                   if not user.is_regulator else [])
        found = [
            ("no filter (by name)", {}), ("sort newest first", {"sort": "-created"}),
            ("sort by region", {"sort": "region"}),
            *((f"region {label}", {"region": code}) for label, code in regions),
            ("industry C (section)", {"industry": "C"}), ("industry 13", {"industry": "13"}),
            ("size small", {"size": "small"}), ("is_key", {"is_key": "true"}),
            ("is_specialized", {"is_specialized": "true"}), ("is_exporter", {"is_exporter": "true"}),
            ("in_industrial_park", {"in_industrial_park": "true"}), ("has_open_needs", {"has_open_needs": "true"}),
            ("certification iso9001", {"certification": "iso9001"}),
            ("q one word 恒泰", {"q": "恒泰"}), ("q two words 石家庄 恒泰", {"q": "石家庄 恒泰"}),
            ("q other order 食品 恒泰", {"q": "食品 恒泰"}), ("q full-width 恒泰\u3000食品", {"q": "恒泰\u3000食品"}),
            ("q traditional 恆泰", {"q": "恆泰"}), (f"q code infix {code_piece}", {"q": code_piece}),
            ("q pinyin initials htsp", {"q": "htsp"}),
        ]
        if sample is not None:
            ordering = SORTS["name"]
            deep = visible[min(200_000, visible.count() // 2)]
            found.append((f"deep page (row {min(200_000, visible.count() // 2):,})",
                          {"after": encode_cursor(deep, ordering)}))
        return found

    def endpoints(self) -> list[tuple[str, str, str]]:
        return [("page", reverse("enterprises:list"), "per_page"), ("API", reverse("api:enterprise-list"), "page_size")]

    def queries(self, client: Client, url: str, params: dict) -> tuple[int, int]:
        """(queries, status) of one GET in this process."""
        client.get(url, params)
        with CaptureQueriesContext(connection) as captured:
            status = client.get(url, params).status_code
        return len(captured), status

    def measure_served(self, *, requests: int, sizes: tuple[int, ...]) -> None:
        """Each filter as the city regulator and the province supervisor, against gunicorn (2 workers)
        with 4 concurrent clients, beside /api/me/ on the same server in the same run."""
        me_url = reverse("api:me")
        with ServedPortal(self.workdir, workers=2) as server:
            for user in (self.province_user, self.city_user):
                headers = {**session_cookie(user, server), "Accept-Language": "zh-hans"}
                me = server.load(me_url, headers, requests=requests * 2)
                visible = Enterprise.objects.filter(enterprises_in(user.region.prefix)).count()
                self.heading(f"As the {user.role} of {user.region_id} {user.region.name} ({visible:,} firms), "
                             f"gunicorn 2 workers, 4 concurrent clients, {requests} requests each")
                self.say(f"  /api/me/: p50 {me.p50:.0f} ms, p95 {me.p95:.0f} ms, {me.per_second:.0f} req/s\n")
                self.say("| filter | rows (约 = estimate, 超过 = more than) | endpoint | size | queries | p50 ms "
                         "| p95 ms | req/s | p95 / me p95 |")
                self.say("|---|---|---|---|---|---|---|---|---|")
                client = Client()
                client.force_login(user)
                worst = 0.0
                for label, params in self.filters(user):
                    body = client.get(reverse("api:enterprise-list"), {**params, "page_size": 1}).json()
                    rows = (f"{'约 ' if body.get('count_is_estimate') else ''}"
                            f"{'超过 ' if body.get('count_is_lower_bound') else ''}{body.get('count', 0):,}")
                    for name, url, size_param in self.endpoints():
                        counts = {size: self.queries(client, url, {**params, size_param: size})[0]
                                  for size in (25, 100)}
                        for size in sizes:
                            path = f"{url}?{urlencode({**params, size_param: size})}"
                            load = server.load(path, headers, requests=requests)
                            ratio = load.p95 / me.p95
                            worst = max(worst, ratio)
                            bad = "" if set(load.statuses) == {200} else f" HTTP {load.statuses}"
                            same = "" if counts[25] == counts[100] else " (differs by size!)"
                            self.say(f"| {label} | {rows} | {name} | {size} | {counts[size]}{same} | {load.p50:.0f} "
                                     f"| {load.p95:.0f} | {load.per_second:.0f} | {ratio:.1f}x{bad} |")
                again = server.load(me_url, headers, requests=requests * 2)
                self.say(f"\n  /api/me/ again after the filters: p50 {again.p50:.0f} ms, p95 {again.p95:.0f} ms, "
                         f"{again.per_second:.0f} req/s; worst p95 ratio {worst:.1f}x (target: within 3x)")

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

    def measure_export(self, *, separate_process: bool) -> None:
        """The export of the whole registry through the export view by a national supervisor, CSV
        and XLSX; in a process of its own (separate_process), so its peak memory is the export's."""
        rows = Enterprise.objects.count()
        self.heading(f"Export of the whole registry ({rows:,} firms) by a national supervisor through the export view")
        for fmt in ("csv", "xlsx"):
            if separate_process:
                command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "benchmark_registry",
                           "--export-only", fmt]
                done = subprocess.run(command, capture_output=True, text=True, check=True)
                self.say(done.stdout.rstrip())
            else:
                self.export_once(fmt, rows)

    def export_once(self, fmt: str, rows: int) -> None:
        client = Client()
        client.force_login(self.account("national", User.Role.SUPERVISOR, NATIONAL_CODE))
        started = time.perf_counter()
        response = client.get(reverse("enterprises:export", args=[fmt]))
        size = sum(len(chunk) for chunk in response.streaming_content)
        took = time.perf_counter() - started
        self.say(f"  {fmt.upper():<4} {took:6.1f} s = {rows / took:8,.0f} rows/s, {size / 2**20:6.1f} MB, "
                 f"peak RSS of the exporting process {peak_rss_mb():.0f} MB")

    def import_rows(self, count: int) -> list[list]:
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=CITY[:4]))
        rows = []
        for _ in range(count):
            county = self.rng.choice(counties)
            division = self.rng.choice(list(TRADE_WORDS))
            flags = ["是" if self.rng.random() < p else "否" for p in (0.15, 0.08, 0.1, 0.3)]
            email = f"qa{self.rng.randint(1000, 99999)}@example.cn" if self.rng.random() < 0.3 else ""
            rows.append([
                self.import_code(county.code), self.firm_name(county, division), county.code, division,
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

    def measure_import(self, count: int, *, separate_process: bool) -> None:
        """A CSV of `count` rows and a workbook of at most XLSX_ROWS, each imported twice (creating,
        then updating) through the services the task calls; in a process of its own per import
        (separate_process), so the peak memory printed is the import's."""
        self.heading(f"Bulk import as the city regulator (the services enterprises.tasks.import_job_run calls), "
                     f"limits {importing.MAX_ROWS:,} rows and {importing.MAX_BYTES // 2**20} MB")
        # A stream of its own: the registry's seed would draw the registry's own credit codes again
        # when it was kept from an earlier run, and the import would update those firms.
        self.rng = random.Random(f"import {self.rng.random()}")
        for fmt, rows_in_file in (("csv", count), ("xlsx", min(count, XLSX_ROWS))):
            rows = self.import_rows(rows_in_file)
            with self.timed(f"writing the {fmt.upper()} file of {rows_in_file:,} rows"):
                path = self.write_csv(rows) if fmt == "csv" else self.write_xlsx(rows)
            del rows
            size = path.stat().st_size
            limit = "within" if size <= importing.MAX_BYTES else "OVER"
            self.say(f"  {path.name}: {size / 1024 / 1024:.1f} MB ({limit} the {importing.MAX_BYTES // 2**20} MB "
                     "upload limit)")
            for run, expect in (("first import", "creates"), ("second import", "updates")):
                if not separate_process:
                    self.import_once(path, rows_in_file, run, expect)
                    continue
                command = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "benchmark_registry",
                           "--import-only", str(path), "--import-run", f"{run}|{expect}|{rows_in_file}"]
                done = subprocess.run(command, capture_output=True, text=True)
                self.say(done.stdout.rstrip())
                if done.returncode:
                    self.say(self.style.ERROR(done.stderr.strip()[-2000:]))
        self.jobs += list(ImportJob.objects.filter(uploaded_by=self.city_user).values_list("pk", flat=True))

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
        self.say(f"    total      {validate_s + import_s:7.1f} s = {count / (validate_s + import_s):8,.0f} rows/s; "
                 f"peak RSS of the importing process {peak_rss_mb():.0f} MB")
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

    def clean_up(self, *, registry: bool = True) -> None:
        self.heading("Removing the synthetic data")
        codes = list(self.import_codes)
        with self.timed(f"{'the synthetic registry, ' if registry else ''}{len(codes):,} imported firms, "
                        f"{len(set(self.jobs))} import jobs and files{', 3 users' if registry else ''}"):
            if registry:
                self.remove_registry()
            for start in range(0, len(codes), 5_000):
                with transaction.atomic():
                    Enterprise.objects.filter(uscc__in=codes[start:start + 5_000]).delete()
            for job in ImportJob.objects.filter(pk__in=self.jobs):
                job.file.delete(save=False)
                job.delete()
            if registry:  # else the registry's needs and the personas stay with it
                NeedRequest.objects.filter(submitted_by__username__startswith=USER_PREFIX).delete()
                remove_accounts(USER_PREFIX)  # the import's uploader keeps its audit entries
        shutil.rmtree(self.workdir, ignore_errors=True)
