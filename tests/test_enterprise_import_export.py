"""Bulk import of enterprise lists (CSV, XLSX) and export of the filtered registry."""

import csv
import io
import math
import random
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from enterprises import importing
from enterprises.importing import COLUMNS, problem_message
from enterprises.models import Enterprise, ImportJob
from enterprises.uscc import generate_uscc, validate_uscc
from portal.imports import jobs, reading
from portal.models import AuditEntry, Region
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

KEYS = [column.key for column in COLUMNS]
CHINESE = [column.header for column in COLUMNS]
rng = random.Random(4754)


def firm_row(region: str = "130102", **overrides) -> dict:
    row = {
        "uscc": generate_uscc(region or "130102", rng), "name": "石家庄恒泰食品有限公司", "region": region,
        "industry": "13", "size": "小型", "address": "石家庄市长安区建设路12号", "contact_name": "王芳",
        "contact_phone": "13900000000",
        "contact_email": "wangfang@example.cn", "employees": "35", "annual_revenue": "1200.50", "is_key": "是",
        "is_specialized": "否", "is_exporter": "no", "in_industrial_park": "1",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], *, keys: list[str] = KEYS, english: bool = False, encoding: str = "utf-8") -> bytes:
    """A CSV of `rows` with the columns `keys`, headed in Chinese (or by the English keys)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(keys if english else [importing.COLUMNS_BY_KEY[key].header for key in keys])
    for row in rows:
        writer.writerow([row.get(key, "") for key in keys])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def client_for(client_for, settings):
    """Signed in and switched to English (the switcher's cookie), so assertions read the msgids."""

    def sign_in(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def upload(client_for, django_capture_on_commit_callbacks):
    """upload(user, name, content) -> the response; the import task runs inline (eager Celery)."""

    def send(user, name: str, content: bytes, follow: bool = False):
        client = client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("enterprises:import"), {"file": SimpleUploadedFile(name, content)},
                               follow=follow)

    return send


@pytest.fixture
def decide(client_for, django_capture_on_commit_callbacks):
    def send(user, job: ImportJob, action: str):
        client = client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("enterprises:import-detail", args=[job.pk]), {"action": action})

    return send


def last_job() -> ImportJob:
    return ImportJob.objects.latest("pk")


class TestImport:
    def test_a_valid_csv_is_imported_and_a_reimport_updates_rather_than_duplicates(self, bob, upload):
        rows = [firm_row(), firm_row(name="石家庄华兴机械有限公司", industry="34", size="micro"),
                firm_row(region="", name="区划代码留空的企业")]
        response = upload(bob, "名录.csv", csv_bytes(rows))
        job = last_job()
        assert response.status_code == 302
        assert response.url == reverse("enterprises:import-detail", args=[job.pk])
        assert (job.status, job.total_rows, job.valid_rows) == ("done", 3, 3)
        assert (job.created_count, job.updated_count) == (3, 0)
        firm = Enterprise.objects.get(uscc=rows[0]["uscc"])
        assert (firm.name, firm.region_id, firm.industry_id) == ("石家庄恒泰食品有限公司", "130102", "13")
        assert (firm.size, firm.employees, firm.annual_revenue) == ("small", 35, Decimal("1200.50"))
        assert firm.contact_email == "wangfang@example.cn"
        assert (firm.is_key, firm.is_specialized, firm.is_exporter, firm.in_industrial_park) == (
            True, False, False, True)
        # An empty region takes the region named by characters 3-8 of the credit code.
        assert Enterprise.objects.get(uscc=rows[2]["uscc"]).region_id == "130102"

        first_updated_at = firm.updated_at
        rows[0]["name"] = "石家庄恒泰食品集团有限公司"
        upload(bob, "名录.csv", csv_bytes(rows))
        job = last_job()
        assert (job.status, job.created_count, job.updated_count) == ("done", 0, 3)
        assert Enterprise.objects.filter(uscc__in=[row["uscc"] for row in rows]).count() == 3
        firm.refresh_from_db()
        assert firm.name == "石家庄恒泰食品集团有限公司"
        assert firm.updated_at > first_updated_at

    def test_a_reimport_leaves_columns_missing_from_the_file_unchanged(self, bob, upload):
        firm = EnterpriseFactory(contact_name="李娜", employees=12, is_exporter=True)
        row = {"uscc": firm.uscc, "name": "新名称有限公司", "industry": "39", "size": "中型"}
        upload(bob, "short.csv", csv_bytes([row], keys=["uscc", "name", "industry", "size"]))
        assert last_job().status == "done"
        firm.refresh_from_db()
        assert (firm.name, firm.industry_id, firm.size) == ("新名称有限公司", "39", "medium")
        assert (firm.contact_name, firm.employees, firm.is_exporter, firm.region_id) == ("李娜", 12, True, "130102")

    @pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
    def test_csv_in_gb18030_or_utf8_with_or_without_bom_is_read(self, bob, upload, encoding):
        row = firm_row(name="石家庄鑫源纺织有限公司", address="长安区中山东路（北段）")
        upload(bob, "gbk.csv", csv_bytes([row], encoding=encoding))
        assert last_job().status == "done"
        firm = Enterprise.objects.get(uscc=row["uscc"])
        assert (firm.name, firm.address) == ("石家庄鑫源纺织有限公司", "长安区中山东路（北段）")

    def test_english_keys_are_accepted_as_headers(self, bob, upload):
        row = firm_row()
        upload(bob, "en.csv", csv_bytes([row], english=True))
        assert last_job().status == "done"
        assert Enterprise.objects.filter(uscc=row["uscc"]).exists()

    def test_an_xlsx_file_is_imported_with_numeric_cells(self, bob, upload):
        codes = [generate_uscc("130104", rng) for _ in range(2)]
        content = xlsx_bytes([
            CHINESE,
            [codes[0], "石家庄博远电子有限公司", 130104, 39, "中型", "桥西区", "张伟", 13812345678, None, 120, 3456.78,
             True, "是", "否", 0],
            [codes[1], "石家庄正阳食品有限公司", None, 13, "small", None, None, None, None, None, None, None, None,
             None, None],
        ])
        upload(bob, "名录.xlsx", content)
        job = last_job()
        assert (job.format, job.status, job.created_count) == ("xlsx", "done", 2)
        firm = Enterprise.objects.get(uscc=codes[0])
        assert (firm.region_id, firm.industry_id, firm.contact_phone) == ("130104", "39", "13812345678")
        assert (firm.employees, firm.annual_revenue) == (120, Decimal("3456.78"))
        assert (firm.is_key, firm.is_specialized, firm.is_exporter, firm.in_industrial_park) == (
            True, True, False, False)

    def test_a_file_with_bad_rows_imports_nothing_and_reports_each_line_and_reason(self, bob, upload, client_for):
        good = firm_row()
        wrong_check = good["uscc"][:17] + ("0" if good["uscc"][17] != "0" else "1")
        rows = [
            good,                                                  # line 2
            firm_row(uscc=wrong_check),                            # line 3
            firm_row(uscc="91130102MA0"),                          # line 4
            firm_row(region="999999"),                             # line 5
            firm_row(industry="99"),                               # line 6
            firm_row(size="巨型"),                                  # line 7
            firm_row(employees="三十"),                             # line 8
            firm_row(contact_email="not-an-email"),                # line 9
            firm_row(uscc=good["uscc"]),                           # line 10
            firm_row(is_key="maybe"),                              # line 11
            firm_row(annual_revenue="-5"),                         # line 12
            firm_row(name=""),                                     # line 13
            firm_row(industry="C"),                                # line 14
        ]
        before = Enterprise.objects.count()
        upload(bob, "bad.csv", csv_bytes(rows))
        job = last_job()
        assert (job.status, job.total_rows, job.valid_rows, job.error_count) == ("invalid", 13, 1, 12)
        assert Enterprise.objects.count() == before
        found = [(p["line"], p["column"], p["code"]) for p in job.errors]
        assert found == [
            (3, "统一社会信用代码", "uscc_check"),
            (4, "统一社会信用代码", "uscc_length"),
            (5, "行政区划代码", "region_unknown"),
            (6, "行业代码", "industry_unknown"),
            (7, "规模", "size_invalid"),
            (8, "从业人数", "integer_invalid"),
            (9, "电子邮箱", "email_invalid"),
            (10, "统一社会信用代码", "uscc_duplicate"),
            (11, "重点企业", "boolean_invalid"),
            (12, "营业收入(万元)", "number_negative"),
            (13, "企业名称", "name_required"),
            (14, "行业代码", "industry_section"),
        ]
        page = client_for(bob).get(reverse("enterprises:import-detail", args=[job.pk])).content.decode()
        assert "Nothing has been imported." in page
        assert "This credit code is already on line 2 of this file." in page
        assert "巨型 is not a size class" in page
        assert "999999 is not a known administrative division code" in page
        assert "Import only the 1 good row" in page

    def test_the_report_speaks_the_readers_language(self, bob, upload, client):
        upload(bob, "outside.csv", csv_bytes([firm_row(region="130203")]))
        job = last_job()
        client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)  # the portal's default: Simplified Chinese
        page = client.get(reverse("enterprises:import-detail", args=[job.pk])).content.decode()
        with translation.override("zh-hans"):
            chinese = problem_message(job.errors[0])
        assert chinese != "Region 130203 lies outside your jurisdiction."
        assert chinese in page

    def test_importing_only_the_good_rows_imports_exactly_those(self, bob, upload, decide):
        rows = [firm_row(), firm_row(size="巨型"), firm_row(name="石家庄利民商贸有限公司"), firm_row(industry="99")]
        upload(bob, "mixed.csv", csv_bytes(rows))
        job = last_job()
        assert job.status == "invalid"
        response = decide(bob, job, "import_valid_rows")
        assert response.status_code == 302
        job.refresh_from_db()
        assert (job.status, job.only_valid_rows, job.created_count, job.updated_count) == ("done", True, 2, 0)
        imported = set(Enterprise.objects.filter(uscc__in=[r["uscc"] for r in rows]).values_list("uscc", flat=True))
        assert imported == {rows[0]["uscc"], rows[2]["uscc"]}
        # The report of the skipped rows stays.
        assert [p["line"] for p in job.errors] == [3, 5]

    def test_discarding_an_import_imports_nothing_and_deletes_the_stored_file(self, bob, upload, decide):
        upload(bob, "mixed.csv", csv_bytes([firm_row(), firm_row(size="巨型")]))
        job = last_job()
        storage, name = job.file.storage, job.file.name
        assert storage.exists(name)
        response = decide(bob, job, "cancel")
        assert response.url == reverse("enterprises:import")
        job.refresh_from_db()
        assert job.status == "cancelled"
        assert not storage.exists(name)
        assert decide(bob, job, "import_valid_rows").status_code == 302
        job.refresh_from_db()
        assert (job.status, job.created_count) == ("cancelled", 0)

    def test_an_unknown_action_changes_nothing_and_says_so(self, bob, upload, client_for):
        upload(bob, "mixed.csv", csv_bytes([firm_row(), firm_row(size="巨型")]))
        job = last_job()
        response = client_for(bob).post(reverse("enterprises:import-detail", args=[job.pk]), {"action": "drop"},
                                        follow=True)
        assert response.redirect_chain == [(reverse("enterprises:import-detail", args=[job.pk]), 302)]
        assert "Choose whether to import the good rows or to discard the file." in response.content.decode()
        job.refresh_from_db()
        assert job.status == "invalid"

    def test_rows_outside_the_uploaders_jurisdiction_are_rejected(self, bob, upload):
        tangshan = EnterpriseFactory(region=Region.objects.get(code="130203"))
        rows = [firm_row(), firm_row(region="130203"), firm_row(uscc=tangshan.uscc, region="130102"),
                firm_row(uscc=generate_uscc("130203", rng), region="")]
        upload(bob, "outside.csv", csv_bytes(rows))
        job = last_job()
        assert job.status == "invalid"
        assert [(p["line"], p["code"]) for p in job.errors] == [
            (3, "region_outside"), (4, "enterprise_outside"), (5, "region_outside"),
        ]
        tangshan.refresh_from_db()
        assert tangshan.region_id == "130203"

    def test_an_administrator_imports_anywhere(self, admin_user, upload):
        row = firm_row(region="441900")
        upload(admin_user, "dg.csv", csv_bytes([row]))
        assert last_job().status == "done"
        assert Enterprise.objects.get(uscc=row["uscc"]).region_id == "441900"

    @pytest.mark.parametrize(("name", "content", "message"), [
        ("list.csv", b"code,company\n91130102MA00000000,x\n",
         "The header row (line 1) lacks the required columns: 统一社会信用代码、企业名称、行业代码、规模."),
        ("list.txt", b"uscc,name,industry,size\n", "Only .csv and .xlsx files can be imported."),
        ("list.csv", b"", "The submitted file is empty."),
        ("list.csv", b"\n\n", "The file is empty."),
        ("list.csv", "统一社会信用代码,企业名称,行业代码,规模\n".encode(),
         "The file has a header row but no enterprise rows."),
        ("list.xlsx", b"not a zip file at all", "The file cannot be read as an Excel (.xlsx) workbook."),
        ("list.csv", b"PK\x03\x04\x00\x00binary", "This is not a CSV text file."),
        ("list.csv", "统一社会信用代码,企业名称,企业名称,行业代码,规模\n".encode(),
         "The header row (line 1) has these columns more than once: 企业名称."),
    ])
    def test_a_file_of_the_wrong_shape_is_refused_with_a_message_and_creates_nothing(
        self, bob, upload, name, content, message
    ):
        before = Enterprise.objects.count()
        response = upload(bob, name, content)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert ImportJob.objects.count() == 0
        assert Enterprise.objects.count() == before

    def test_posting_no_file_asks_for_one(self, bob, client_for):
        response = client_for(bob).post(reverse("enterprises:import"), {})
        assert response.status_code == 200
        assert "Choose a file to import." in response.content.decode()

    def test_files_over_the_size_or_row_limits_are_refused(self, bob, upload, monkeypatch):
        monkeypatch.setattr(importing, "MAX_ROWS", 2)
        response = upload(bob, "long.csv", csv_bytes([firm_row(), firm_row(), firm_row()]))
        assert "The file has more than 2 rows" in response.content.decode()
        monkeypatch.setattr(importing, "MAX_BYTES", 100)
        response = upload(bob, "big.csv", csv_bytes([firm_row()]))
        assert "The file is larger than 0 MB" in response.content.decode()
        monkeypatch.setattr(importing, "MAX_BYTES", 20 * 2**20)
        monkeypatch.setattr(reading, "MAX_XLSX_INFLATED_BYTES", 1000)  # a zip bomb, in miniature
        row = firm_row()
        response = upload(bob, "bomb.xlsx", xlsx_bytes([CHINESE, [row[key] for key in KEYS]]))
        assert "The workbook would expand to more than 0 MB" in response.content.decode()
        assert ImportJob.objects.count() == 0

    def test_the_form_states_the_limits_a_province_registry_fits_in(self, client_for, bob):
        assert (importing.MAX_ROWS, importing.MAX_BYTES) == (1_000_000, 200 * 2**20)
        with translation.override("en"):
            page = client_for(bob).get(reverse("enterprises:import"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "at most 1,000,000 rows and 200 MB" in page

    @pytest.mark.parametrize("line_end", ["\r\n", "\n", "\r"])
    def test_a_csv_is_read_as_a_stream_across_chunk_boundaries(self, bob, upload, monkeypatch, line_end):
        # Chunks of 7 bytes cut three-byte characters, quoted line ends and \r\n pairs in two.
        monkeypatch.setattr(reading, "READ_CHUNK", 7)
        rows = [firm_row(), firm_row(address="石家庄市\n长安区", name="河北“恒泰”食品有限公司")]
        data = csv_bytes(rows).decode().replace("\r\n", line_end).encode("gb18030")
        upload(bob, "gbk.csv", data)
        job = last_job()
        assert (job.status, job.created_count, job.error_count) == ("done", 2, 0), job.errors
        firm = Enterprise.objects.get(uscc=rows[1]["uscc"])
        assert (firm.name, firm.address) == ("河北“恒泰”食品有限公司", "石家庄市\n长安区")

    def test_an_xlsx_longer_than_the_row_limit_fails_in_the_task_and_imports_nothing(self, bob, upload, monkeypatch):
        # openpyxl records the sheet's dimension, which the upload check reads; pretend it did not.
        monkeypatch.setattr(importing, "MAX_ROWS", 2)
        real_open = reading.open_xlsx

        def without_dimension(fileobj):
            table = real_open(fileobj)
            table.estimated_rows = None
            return table

        monkeypatch.setattr(reading, "open_xlsx", without_dimension)
        # The streaming pre-check (portal.uploads) counts rows at upload; this test is about the task's own guard.
        monkeypatch.setattr(reading, "check_table_file", lambda *args, **kwargs: None)
        rows = [firm_row() for _ in range(3)]
        upload(bob, "long.xlsx", xlsx_bytes([CHINESE, *[[row[key] for key in KEYS] for row in rows]]))
        job = last_job()
        assert (job.status, job.failure["code"]) == ("failed", "too_many_rows")
        assert not Enterprise.objects.filter(uscc__in=[row["uscc"] for row in rows]).exists()

    def test_unknown_columns_are_ignored_and_listed(self, bob, upload, client_for):
        row = firm_row()
        content = csv_bytes([row]).replace("园区企业\r\n".encode(), "园区企业,序号\r\n".encode())
        upload(bob, "extra.csv", content)
        job = last_job()
        assert (job.status, job.ignored_columns) == ("done", ["序号"])
        page = client_for(bob).get(reverse("enterprises:import-detail", args=[job.pk])).content.decode()
        assert "These columns are not known to the import" in page

    def test_stored_problem_messages_are_those_of_the_credit_code_validator(self):
        right = generate_uscc("130102", rng)
        wrong_check = right[:17] + next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != right[17])
        for code, expected in [("91130102MA0", "uscc_length"), ("91130102MA0O0000OO", "uscc_character"),
                               (wrong_check, "uscc_check")]:
            with pytest.raises(ValidationError) as caught:
                validate_uscc(code)
            error = caught.value
            assert error.code == expected
            assert problem_message({"code": error.code, "params": error.params}) == error.messages[0]


class TestImportTask:
    def make_job(self, user, rows: list[dict]) -> ImportJob:
        upload = SimpleUploadedFile("rows.csv", csv_bytes(rows))
        return importing.import_job_create(user=user, upload=upload, enqueue=False)

    @pytest.mark.parametrize("rows", [10, 100])
    def test_import_queries_grow_per_batch_not_per_row(self, bob, django_assert_num_queries, rows):
        job = self.make_job(bob, [firm_row() for _ in range(rows)])
        # SQLite binds at most 999 parameters per statement, so Django splits one batch into
        # INSERTs of 999 // 18 fields = 55 rows there (and audit entries into 999 // 9 = 111);
        # PostgreSQL sends each as one INSERT.
        fields = [f for f in Enterprise._meta.concrete_fields if not f.primary_key]
        inserts = math.ceil(rows / connection.ops.bulk_batch_size(fields, range(rows)))
        audit_fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
        audit_inserts = math.ceil(rows / connection.ops.bulk_batch_size(audit_fields, range(rows)))
        ContentType.objects.get_for_model(Enterprise)  # cached once per process, as in the worker
        # Checking: the job, region codes, industry codes, estimate saved, existing codes of the
        # batch, progress saved, result saved (7). Importing: the job, region codes, industry
        # codes, existing codes of the batch, savepoint, job locked, the batch's registered firms
        # read and locked for the audit, counters saved, savepoint released, job done (10), the
        # INSERT ... ON CONFLICT statements and the audit entries' INSERT statements. The check's result
        # and the job's end are each saved in a transaction with the uploader's notification (2 + 2), which
        # reads the job with its uploader, inserts the notification and reads their preferences inside a
        # savepoint (5). On PostgreSQL the batch also sets its transaction's commit and GIN pending
        # list (one statement), empties its temporary table and COPYs into it before the INSERT (two),
        # the audit entries go in by COPY, and the search indexes' pending lists are merged at the end (one).
        postgresql = 4 if connection.vendor == "postgresql" else 0
        with django_assert_num_queries(7 + 10 + 4 + 5 + inserts + audit_inserts + postgresql):
            importing.import_job_process(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.created_count) == ("done", rows)

    def test_each_batch_adds_a_fixed_number_of_queries(self, bob):
        from django.test.utils import CaptureQueriesContext

        counts = []
        for batches in (1, 3):
            job = self.make_job(bob, [firm_row() for _ in range(batches * 5)])
            with CaptureQueriesContext(connection) as queries:
                importing.import_job_process(job_id=job.pk, batch_size=5)
            counts.append(len(queries))
        # Per extra batch: checking (existing codes, progress) + importing (existing codes,
        # savepoint, lock, registered firms read for the audit, INSERT, audit INSERT, counters, release;
        # on PostgreSQL the SET LOCAL that relaxes the batch's commit, and the temporary table
        # emptied and filled by COPY before the INSERT).
        postgresql = 3 if connection.vendor == "postgresql" else 0
        assert counts[1] - counts[0] == 2 * (2 + 8 + postgresql)

    def test_running_the_task_twice_neither_duplicates_nor_double_counts(self, bob):
        rows = [firm_row() for _ in range(5)]
        job = self.make_job(bob, rows)
        importing.import_job_process(job_id=job.pk, batch_size=2)
        importing.import_job_process(job_id=job.pk, batch_size=2)
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_count, job.updated_count) == ("done", 5, 5, 0)
        assert Enterprise.objects.filter(uscc__in=[row["uscc"] for row in rows]).count() == 5

    def test_an_interrupted_import_resumes_after_the_last_committed_batch(self, bob, monkeypatch):
        rows = [firm_row() for _ in range(5)]
        job = self.make_job(bob, rows)
        real_upsert = importing.upsert
        calls = []

        def flaky_upsert(batch, *args):
            calls.append(len(batch))
            if len(calls) == 2:
                raise OperationalError("server closed the connection unexpectedly")
            return real_upsert(batch, *args)

        monkeypatch.setattr(importing, "upsert", flaky_upsert)
        with pytest.raises(OperationalError):
            importing.import_job_process(job_id=job.pk, batch_size=2)
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_count) == ("importing", 2, 2)

        monkeypatch.setattr(importing, "upsert", real_upsert)
        importing.import_job_process(job_id=job.pk, batch_size=2)  # the task's retry
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_count, job.updated_count) == ("done", 5, 5, 0)

    def test_an_import_longer_than_one_task_run_goes_on_in_the_next_run(self, bob, monkeypatch):
        from celery.exceptions import SoftTimeLimitExceeded

        from enterprises import tasks

        rows = [firm_row() for _ in range(5)]
        job = self.make_job(bob, rows)
        real_upsert = importing.upsert
        calls = []

        def slow_upsert(batch, *args):
            calls.append(len(batch))
            if len(calls) == 2:  # the run's time is up while it writes the second batch
                raise SoftTimeLimitExceeded()
            return real_upsert(batch, *args)

        monkeypatch.setattr(importing, "upsert", slow_upsert)
        monkeypatch.setattr(importing, "BATCH_SIZE", 2)
        monkeypatch.setattr(importing.import_job_process, "__defaults__", None)
        monkeypatch.setattr(importing.import_job_process, "__kwdefaults__", {"batch_size": 2})
        tasks.import_job_run.delay(job.pk)  # in this process: the next run starts inline
        job.refresh_from_db()
        assert calls == [2, 2, 2, 1]  # the interrupted batch is written again, once
        assert (job.status, job.processed_rows, job.created_count, job.updated_count) == ("done", 5, 5, 0)
        assert Enterprise.objects.filter(uscc__in=[row["uscc"] for row in rows]).count() == 5

    def test_an_unexpected_error_marks_the_job_failed_instead_of_leaving_it_running(self, bob, monkeypatch):
        job = self.make_job(bob, [firm_row()])

        def broken(batch, fields):
            raise RuntimeError("bug")

        monkeypatch.setattr(importing, "upsert", broken)
        importing.import_job_process(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.failure) == ("failed", {"code": "internal", "params": {"done": 0}})


class TestImportRun:
    """The import step of a checked job (portal.imports.jobs.job_import), run on its own as the worker
    runs it after the check or after the user's decision."""

    def checked_job(self, user, rows: list[dict]) -> ImportJob:
        job = importing.import_job_create(user=user, upload=SimpleUploadedFile("rows.csv", csv_bytes(rows)),
                                          enqueue=False)
        importing.import_job_validate(job_id=job.pk)
        job.refresh_from_db()
        return job

    def imported(self, rows: list[dict]) -> int:
        return Enterprise.objects.filter(uscc__in=[row["uscc"] for row in rows]).count()

    def test_a_job_that_does_not_exist_is_left_alone(self, bob):
        importing.import_job_import(job_id=0)
        assert not ImportJob.objects.exists()

    def test_a_limit_lowered_after_the_check_still_stops_the_import_before_any_row(self, bob, monkeypatch):
        rows = [firm_row() for _ in range(3)]
        job = self.checked_job(bob, rows)
        assert job.status == "importing"
        monkeypatch.setattr(importing, "MAX_ROWS", 2)
        importing.import_job_import(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.failure) == ("failed", {"code": "too_many_rows", "params": {"limit": 2}})
        assert self.imported(rows) == 0

    def test_a_file_of_exactly_the_row_limit_is_imported(self, bob, monkeypatch):
        monkeypatch.setattr(importing, "MAX_ROWS", 3)
        rows = [firm_row() for _ in range(3)]
        importing.import_job_import(job_id=self.checked_job(bob, rows).pk)
        assert last_job().status == "done" and self.imported(rows) == 3

    def test_rows_that_turned_bad_after_the_check_are_skipped_and_reported(self, bob):
        rows = [firm_row(), firm_row(uscc=generate_uscc("130203", rng)), firm_row()]
        job = self.checked_job(bob, rows)
        assert job.status == "importing"
        # Meanwhile the second firm is registered in Tangshan, outside Bob's city.
        EnterpriseFactory(uscc=rows[1]["uscc"], region=Region.objects.get(code="130203"))
        importing.import_job_import(job_id=job.pk, batch_size=2)
        job.refresh_from_db()
        assert (job.status, job.created_count, job.valid_rows, job.error_count) == ("done", 2, 2, 1)
        assert [(p["line"], p["code"]) for p in job.errors] == [(3, "enterprise_outside")]

    def test_importing_only_the_good_rows_keeps_the_checks_report_when_a_row_turned_bad(self, bob):
        rows = [firm_row(), firm_row(size="巨型"), firm_row(uscc=generate_uscc("130203", rng))]
        job = self.checked_job(bob, rows)
        assert (job.status, job.valid_rows, job.error_count) == ("invalid", 2, 1)
        EnterpriseFactory(uscc=rows[2]["uscc"], region=Region.objects.get(code="130203"))
        importing.import_job_import_valid_rows(user=bob, job=job)
        importing.import_job_import(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.created_count, job.valid_rows, job.error_count) == ("done", 1, 2, 1)
        assert [p["line"] for p in job.errors] == [3]

    def test_the_decision_moves_only_its_own_job_and_only_one_with_good_rows(self, bob):
        mixed = self.checked_job(bob, [firm_row(), firm_row(size="巨型")])
        other = self.checked_job(bob, [firm_row(), firm_row(size="巨型")])
        all_bad = self.checked_job(bob, [firm_row(size="巨型")])
        assert jobs.job_import_valid_rows(importing.REGISTRY, mixed) is True
        states = dict(ImportJob.objects.values_list("pk", "status"))
        assert (states[mixed.pk], states[other.pk], states[all_bad.pk]) == ("importing", "invalid", "invalid")
        with translation.override("en"):
            with pytest.raises(ValidationError) as refused:
                jobs.job_import_valid_rows(importing.REGISTRY, all_bad)
            assert refused.value.messages == ["No row of this file is good; there is nothing to import."]
            with pytest.raises(ValidationError) as refused:
                jobs.job_import_valid_rows(importing.REGISTRY, mixed)
            assert refused.value.messages == ["This import is not waiting for a decision any more."]
        all_bad.refresh_from_db()
        assert all_bad.status == "invalid"

    def test_the_decision_and_every_batch_count_as_progress_for_the_stale_job_watch(self, bob, monkeypatch):
        rows = [firm_row(), firm_row(size="巨型"), firm_row(), firm_row()]
        job = self.checked_job(bob, rows)
        an_hour_ago = timezone.now() - timedelta(hours=1)
        ImportJob.objects.filter(pk=job.pk).update(updated_at=an_hour_ago)
        importing.import_job_import_valid_rows(user=bob, job=job)
        assert job.updated_at > an_hour_ago and job.pk not in importing.stale_jobs()
        ImportJob.objects.filter(pk=job.pk).update(updated_at=an_hour_ago)
        real_upsert, seen = importing.upsert, []

        def upsert(batch, *args):
            seen.append(ImportJob.objects.get(pk=job.pk).updated_at)  # what the batch before saved
            return real_upsert(batch, *args)

        monkeypatch.setattr(importing, "upsert", upsert)
        importing.import_job_import(job_id=job.pk, batch_size=2)
        assert seen[0] == an_hour_ago and seen[1] > an_hour_ago

    def test_a_resumed_import_with_other_batches_writes_no_committed_row_twice(self, bob, monkeypatch):
        rows = [firm_row() for _ in range(5)]
        job = self.checked_job(bob, rows)
        real_upsert, calls = importing.upsert, []

        def flaky_upsert(batch, *args):
            calls.append(len(batch))
            if len(calls) == 2:
                raise OperationalError("server closed the connection unexpectedly")
            return real_upsert(batch, *args)

        monkeypatch.setattr(importing, "upsert", flaky_upsert)
        with pytest.raises(OperationalError):
            importing.import_job_import(job_id=job.pk, batch_size=2)
        monkeypatch.setattr(importing, "upsert", real_upsert)
        importing.import_job_import(job_id=job.pk, batch_size=3)  # the retry, in batches of another size
        job.refresh_from_db()
        assert (job.status, job.processed_rows, job.created_count, job.updated_count) == ("done", 5, 5, 0)

    @pytest.mark.parametrize("meanwhile", ["done", "failed"])
    def test_a_job_another_run_settled_meanwhile_gets_no_further_batch_and_keeps_its_status(
            self, bob, monkeypatch, meanwhile):
        rows = [firm_row() for _ in range(4)]
        job = self.checked_job(bob, rows)
        waiting = self.checked_job(bob, [firm_row()])
        real_upsert = importing.upsert

        def and_another_run_settles_the_job(batch, *args):
            created = real_upsert(batch, *args)
            ImportJob.objects.filter(pk=job.pk).update(status=meanwhile)
            return created

        monkeypatch.setattr(importing, "upsert", and_another_run_settles_the_job)
        importing.import_job_import(job_id=job.pk, batch_size=2)
        assert self.imported(rows) == 2
        states = dict(ImportJob.objects.values_list("pk", "status"))
        assert (states[job.pk], states[waiting.pk]) == (meanwhile, "importing")

    def test_a_job_failed_by_another_run_during_its_last_batch_is_not_marked_done(self, bob, monkeypatch):
        job = self.checked_job(bob, [firm_row(), firm_row()])
        real_upsert = importing.upsert

        def and_another_run_fails_the_job(batch, *args):
            ImportJob.objects.filter(pk=job.pk).update(status="failed")
            return real_upsert(batch, *args)

        monkeypatch.setattr(importing, "upsert", and_another_run_fails_the_job)
        importing.import_job_import(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.finished_at) == ("failed", None)

    def test_the_search_indexes_are_merged_once_after_the_last_batch(self, bob, monkeypatch):
        rows = [firm_row() for _ in range(5)]
        job = self.checked_job(bob, rows)
        merges = []
        monkeypatch.setattr(importing, "merge_search_pending_lists",
                            lambda: merges.append(ImportJob.objects.values_list("status", "processed_rows")
                                                  .get(pk=job.pk)))
        importing.import_job_import(job_id=job.pk, batch_size=2)
        assert merges == [("importing", 5)]  # after every row is written, before the job is done
        assert last_job().status == "done"

    def test_a_kind_of_import_with_nothing_to_do_afterwards_still_finishes(self, bob):
        class WithoutAfterwards:  # the registry's rules, without the optional after_import
            jobs, columns, max_rows = ImportJob, COLUMNS, importing.MAX_ROWS
            checker, write = importing.REGISTRY.checker, importing.REGISTRY.write

        rows = [firm_row(), firm_row()]
        jobs.job_import(WithoutAfterwards(), job_id=self.checked_job(bob, rows).pk)
        assert last_job().status == "done" and self.imported(rows) == 2

    def test_finishing_a_job_leaves_the_other_running_jobs_running(self, bob):
        job = self.checked_job(bob, [firm_row()])
        waiting = self.checked_job(bob, [firm_row()])
        importing.import_job_import(job_id=job.pk)
        states = dict(ImportJob.objects.values_list("pk", "status"))
        assert (states[job.pk], states[waiting.pk]) == ("done", "importing")


class TestImportAccess:
    @pytest.fixture
    def bobs_job(self, bob, upload):
        upload(bob, "mixed.csv", csv_bytes([firm_row(), firm_row(size="巨型")]))
        return last_job()

    def test_anonymous_users_are_sent_to_sign_in(self, bobs_job):
        client = Client()
        for url in [reverse("enterprises:import"), reverse("enterprises:import-detail", args=[bobs_job.pk]),
                    reverse("enterprises:import-progress", args=[bobs_job.pk]),
                    reverse("enterprises:export", args=["csv"])]:
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))

    def test_regulators_and_administrators_may_upload(self, client_for, bob, admin_user):
        for user in (bob, admin_user):
            assert client_for(user).get(reverse("enterprises:import")).status_code == 200

    def test_the_csv_template_has_the_chinese_headers(self, client_for, bob):
        response = client_for(bob).get(reverse("enterprises:import"), {"template": "csv"})
        assert response.content.decode("utf-8-sig").strip() == ",".join(CHINESE)

    def test_supervisors_sme_users_and_experts_get_403(self, client_for, diana, alice, erin, bobs_job):
        for user in (diana, alice, erin):
            client = client_for(user)
            assert client.get(reverse("enterprises:import")).status_code == 403
            upload = {"file": SimpleUploadedFile("a.csv", b"x")}
            assert client.post(reverse("enterprises:import"), upload).status_code == 403
            assert client.get(reverse("enterprises:import-detail", args=[bobs_job.pk])).status_code == 403
            assert client.post(reverse("enterprises:import-detail", args=[bobs_job.pk]),
                               {"action": "cancel"}).status_code == 403
        assert ImportJob.objects.count() == 1

    def test_a_colleague_of_the_same_jurisdiction_sees_and_decides_the_job(self, client_for, bianca, bobs_job, decide):
        client = client_for(bianca)
        assert client.get(reverse("enterprises:import-detail", args=[bobs_job.pk])).status_code == 200
        assert client.get(reverse("enterprises:import-progress", args=[bobs_job.pk])).status_code == 200
        assert bobs_job in client.get(reverse("enterprises:import")).context["recent"][0].values()
        decide(bianca, bobs_job, "import_valid_rows")
        bobs_job.refresh_from_db()
        assert (bobs_job.status, bobs_job.created_count) == ("done", 1)

    def test_a_regulator_of_another_city_gets_404(self, client_for, charlie, bobs_job):
        client = client_for(charlie)
        assert client.get(reverse("enterprises:import-detail", args=[bobs_job.pk])).status_code == 404
        assert client.get(reverse("enterprises:import-progress", args=[bobs_job.pk])).status_code == 404
        assert client.post(reverse("enterprises:import-detail", args=[bobs_job.pk]),
                           {"action": "cancel"}).status_code == 404
        assert client.get(reverse("enterprises:import")).context["recent"] == []
        bobs_job.refresh_from_db()
        assert bobs_job.status == "invalid"

    def test_wrong_methods_get_405(self, client_for, bob, bobs_job):
        client = client_for(bob)
        assert client.post(reverse("enterprises:import-progress", args=[bobs_job.pk])).status_code == 405
        assert client.delete(reverse("enterprises:import-detail", args=[bobs_job.pk])).status_code == 405
        assert client.post(reverse("enterprises:export", args=["csv"])).status_code == 405

    def test_the_progress_fragment_polls_while_running_and_refreshes_the_page_when_finished(
        self, client_for, bob, bobs_job
    ):
        client = client_for(bob)
        url = reverse("enterprises:import-progress", args=[bobs_job.pk])
        finished = client.get(url, headers={"hx-request": "true"})
        assert finished["HX-Refresh"] == "true"
        assert "hx-trigger" not in finished.content.decode()

        running = importing.import_job_create(
            user=bob, upload=SimpleUploadedFile("r.csv", csv_bytes([firm_row()])), enqueue=False)
        response = client.get(reverse("enterprises:import-progress", args=[running.pk]), headers={"hx-request": "true"})
        assert "HX-Refresh" not in response
        assert 'hx-trigger="every 2s"' in response.content.decode()
        page = client.get(reverse("enterprises:import-detail", args=[running.pk])).content.decode()
        assert 'hx-trigger="every 2s"' in page


class TestExport:
    @pytest.fixture
    def firms(self, db):
        shijiazhuang, tangshan = Region.objects.get(code="130102"), Region.objects.get(code="130203")
        return {
            "key": EnterpriseFactory(name="石家庄重点企业", is_key=True, employees=80,
                                     annual_revenue=Decimal("2500.50"), contact_email="key@example.cn"),
            "plain": EnterpriseFactory(name="石家庄普通企业", size=Enterprise.Size.MICRO),
            "formula": EnterpriseFactory(name='=HYPERLINK("http://evil.example","点击")', is_key=True,
                                         contact_phone="+86 311 8765 4321", address="@SUM(A1:A9)",
                                         contact_name="-2+3", region=shijiazhuang),
            "tangshan": EnterpriseFactory(name="唐山重点企业", is_key=True, region=tangshan),
        }

    def export(self, client, fmt: str, **params) -> list[list]:
        response = client.get(reverse("enterprises:export", args=[fmt]), params)
        assert response.status_code == 200
        if fmt == "csv":
            assert response["Content-Type"].startswith("text/csv")
            content = b"".join(response.streaming_content)
            assert content.startswith(b"\xef\xbb\xbf")  # BOM, for Excel
            return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        sheet = workbook.active
        self.cells = list(sheet.iter_rows(min_row=2))
        return [["" if value is None else value for value in row] for row in sheet.iter_rows(values_only=True)]

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_an_export_holds_exactly_the_filtered_rows_the_user_may_see(self, client_for, bob, charlie, firms, fmt):
        rows = self.export(client_for(bob), fmt, is_key="true")
        assert rows[0] == CHINESE
        assert sorted(row[0] for row in rows[1:]) == sorted([firms["key"].uscc, firms["formula"].uscc])
        rows = self.export(client_for(charlie), fmt)
        assert [row[0] for row in rows[1:]] == [firms["tangshan"].uscc]
        rows = self.export(client_for(bob), fmt, q="普通")
        assert [row[0] for row in rows[1:]] == [firms["plain"].uscc]

    def test_a_supervisor_exports_the_province(self, client_for, diana, firms):
        rows = self.export(client_for(diana), "csv")
        assert len(rows) == 1 + len(firms)

    def test_sme_users_and_experts_cannot_export(self, client_for, alice, erin):
        for user in (alice, erin):
            assert client_for(user).get(reverse("enterprises:export", args=["csv"])).status_code == 403

    def test_csv_cells_that_a_spreadsheet_would_evaluate_are_neutralised(self, client_for, bob, firms):
        rows = self.export(client_for(bob), "csv", is_key="true")
        row = next(row for row in rows if row[0] == firms["formula"].uscc)
        record = dict(zip(KEYS, row, strict=True))
        assert record["name"] == '\'=HYPERLINK("http://evil.example","点击")'
        assert record["contact_phone"] == "'+86 311 8765 4321"
        assert record["address"] == "'@SUM(A1:A9)"
        assert record["contact_name"] == "'-2+3"
        key = dict(zip(KEYS, next(row for row in rows if row[0] == firms["key"].uscc), strict=True))
        assert (key["region"], key["industry"], key["size"], key["employees"], key["annual_revenue"]) == (
            "130102", "13", "小型", "80", "2500.50")
        assert (key["is_key"], key["is_exporter"]) == ("是", "否")

    def test_xlsx_cells_that_a_spreadsheet_would_evaluate_are_neutralised_text(self, client_for, bob, firms):
        self.export(client_for(bob), "xlsx", is_key="true")
        row = next(cells for cells in self.cells if cells[0].value == firms["formula"].uscc)
        name = row[KEYS.index("name")]
        assert (name.value, name.data_type) == ('\'=HYPERLINK("http://evil.example","点击")', "s")
        assert row[KEYS.index("contact_phone")].value == "'+86 311 8765 4321"
        assert all(cell.data_type != "f" for cells in self.cells for cell in cells)
        key = next(cells for cells in self.cells if cells[0].value == firms["key"].uscc)
        assert key[KEYS.index("employees")].value == 80  # numbers stay numbers

    @pytest.mark.parametrize("fmt", ["csv", "xlsx"])
    def test_an_exported_file_reimports_with_no_bad_row_and_unchanged_values(self, client_for, bob, firms, upload, fmt):
        response = client_for(bob).get(reverse("enterprises:export", args=[fmt]))
        content = b"".join(response.streaming_content)
        before = {firm.uscc: firm for firm in Enterprise.objects.all()}
        upload(bob, f"export.{fmt}", content)
        job = last_job()
        assert (job.status, job.error_count, job.created_count, job.updated_count) == ("done", 0, 0, 3)
        for uscc in [firms["key"].uscc, firms["plain"].uscc, firms["formula"].uscc]:
            after = Enterprise.objects.get(uscc=uscc)
            for field in importing.COLUMNS_BY_KEY:
                attribute = {"region": "region_id", "industry": "industry_id"}.get(field, field)
                assert getattr(after, attribute) == getattr(before[uscc], attribute), field

    def test_an_unknown_format_is_404_and_a_bad_filter_value_is_explained(self, client_for, bob, firms):
        client = client_for(bob)
        assert client.get(reverse("enterprises:export", args=["pdf"])).status_code == 404
        response = client.get(reverse("enterprises:export", args=["csv"]), {"size": "huge"}, follow=True)
        assert response.status_code == 200
        assert "The export was not made" in response.content.decode()

    def test_the_export_costs_the_same_queries_for_few_and_many_rows(self, client_for, bob, django_assert_num_queries):
        client = client_for(bob)
        for count in (3, 60):
            EnterpriseFactory.create_batch(count - Enterprise.objects.count())
            # session, user, the user's jurisdiction, then the firms in one query (values, no joins).
            with django_assert_num_queries(4):
                response = client.get(reverse("enterprises:export", args=["csv"]))
                rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
            assert len(rows) == 1 + count


def test_the_xlsx_export_sets_column_widths_fit_for_chinese_names(client_for, bob):
    from io import BytesIO

    from openpyxl import load_workbook

    response = client_for(bob).get(reverse("enterprises:export", args=["xlsx"]))
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    widths = {sheet.cell(row=1, column=index).value: sheet.column_dimensions[letter].width
              for index, letter in enumerate("ABCDEFGHIJKLMNOP", start=1) if sheet.cell(row=1, column=index).value}
    name_header = next(header for header in widths if "名称" in header)
    # A 17-character Chinese firm name (石家庄恒泰食品有限公司 is 11) fits: two units a character.
    assert widths[name_header] >= 34
    assert all(width >= 2 * len(header) for header, width in widths.items())
