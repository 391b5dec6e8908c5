"""Bulk import of the expert pool (CSV, XLSX): every row checked, all written or nothing."""

import codecs
import csv
import io

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from experts import importing
from experts.models import Expert
from portal.models import AuditEntry, Region
from tests.factories import ExpertFactory

pytestmark = pytest.mark.django_db

HEADERS = [column.header for column in importing.COLUMNS]
KEYS = [column.key for column in importing.COLUMNS]


def expert_row(**overrides) -> dict:
    row = {
        "code": "130100-0101", "name": "张建华", "title": "高级工程师", "employer": "河北省计量监督检测研究院",
        "employer_kind": "计量或标准化机构", "phone": "13900000001", "email": "zhangjh@example.cn", "pool": "",
        "specialties": "计量、标准化", "regions_served": "130100、130102", "capacity": "5", "is_active": "是",
    }
    row.update(overrides)
    return row


def csv_bytes(rows: list[dict], *, keys: list[str] = KEYS, english: bool = False, encoding: str = "utf-8-sig") -> bytes:
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
def upload(client_for):
    """upload(user, name, content) -> the response of posting the file to the import page."""

    def post(user, name: str, content: bytes):
        return client_for(user).post(reverse("experts:import"), {"file": SimpleUploadedFile(name, content)})

    return post


def problems_of(response) -> list[tuple[int, str, str]]:
    return [(p["line"], p["column"], p["message"]) for p in response.context["problems"]]


class TestAccess:
    def test_regulators_and_administrators_may_import(self, client_for, bob, admin_user):
        for user in (bob, admin_user):
            assert client_for(user).get(reverse("experts:import")).status_code == 200

    def test_readers_and_other_roles_get_403(self, client_for, upload, diana, erin, alice):
        for user in (diana, erin, alice):
            assert client_for(user).get(reverse("experts:import")).status_code == 403
            assert upload(user, "experts.csv", csv_bytes([expert_row()])).status_code == 403
        assert not Expert.objects.exists()

    def test_anonymous_users_are_sent_to_sign_in(self, client):
        response = client.get(reverse("experts:import"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_the_empty_template_is_a_utf8_csv_with_a_bom_and_the_chinese_headers(self, client_for, bob):
        response = client_for(bob).get(reverse("experts:import"), {"template": "csv"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response.content.startswith(codecs.BOM_UTF8)
        assert next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == HEADERS


class TestGoodFiles:
    def test_a_good_csv_adds_every_expert_with_specialties_regions_and_an_audit_entry(self, upload, bob):
        rows = [
            expert_row(),
            expert_row(code="130102-0001", name="李晓梅", employer="河北科技大学", employer_kind="university",
                       pool="130102", specialties="quality-management, 卓越绩效", regions_served="130102 130104",
                       capacity="", is_active="否", email=""),
        ]
        response = upload(bob, "专家名单.csv", csv_bytes(rows))
        assert response.status_code == 302 and response.url == reverse("experts:list")
        assert "2 experts added, 0 updated" in str(list(get_messages(response.wsgi_request))[0])
        first, second = Expert.objects.get(code="130100-0101"), Expert.objects.get(code="130102-0001")
        assert (first.region_id, first.employer_kind, first.capacity, first.is_active) == (
            "130100", "metrology", 5, True)  # an empty pool cell: the uploader's jurisdiction
        assert set(first.specialties.values_list("code", flat=True)) == {"metrology", "standardization"}
        assert set(first.regions_served.values_list("code", flat=True)) == {"130100", "130102"}
        assert (second.region_id, second.employer_kind, second.capacity, second.is_active) == (
            "130102", "university", 3, False)
        assert set(second.specialties.values_list("code", flat=True)) == {"quality-management", "excellence-model"}
        entries = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT, actor=bob)
        assert {(e.object_id, e.region_code) for e in entries} == {(str(first.pk), "130100"),
                                                                   (str(second.pk), "130102")}
        assert all("专家名单.csv" in e.note for e in entries)

    def test_a_good_xlsx_with_english_headers_and_numbers_is_imported(self, upload, bob):
        content = xlsx_bytes([
            ["code", "name", "employer", "employer_kind", "phone", "specialties", "regions_served", "capacity",
             "active"],
            ["130100-0201", "王磊", "石家庄市质量技术服务中心", "test_lab", 13911112222, "inspection-testing", 130100,
             4.0, "yes"],
        ])
        response = upload(bob, "experts.xlsx", content)
        assert response.status_code == 302
        expert = Expert.objects.get(code="130100-0201")
        assert (expert.phone, expert.capacity, expert.is_active, expert.employer_kind) == (
            "13911112222", 4, True, "test_lab")
        assert list(expert.regions_served.values_list("code", flat=True)) == ["130100"]

    def test_a_gb18030_csv_as_chinese_excel_saves_it_is_read(self, upload, bob):
        response = upload(bob, "专家.csv", csv_bytes([expert_row()], encoding="gb18030"))
        assert response.status_code == 302
        assert Expert.objects.get(code="130100-0101").name == "张建华"

    def test_unknown_columns_are_ignored_and_named(self, upload, bob):
        content = csv_bytes([{**expert_row(), "remark": "备注"}], keys=[*KEYS, "remark"], english=True)
        response = upload(bob, "e.csv", content)
        assert response.status_code == 302 and Expert.objects.count() == 1
        notes = [str(message) for message in get_messages(response.wsgi_request)]
        assert notes[1] == "These columns are not known to the import and were not read: remark"

    def test_a_province_above_the_jurisdiction_may_be_served(self, upload, bob):
        assert upload(bob, "e.csv", csv_bytes([expert_row(regions_served="130000")])).status_code == 302
        assert list(Expert.objects.get().regions_served.values_list("code", flat=True)) == ["130000"]

    def test_reimporting_updates_by_pool_number_instead_of_duplicating(self, upload, bob):
        upload(bob, "e.csv", csv_bytes([expert_row(), expert_row(code="130100-0102", name="赵敏")]))
        expert = Expert.objects.get(code="130100-0101")
        keys = [key for key in KEYS if key != "phone"]  # a column left out is not changed
        response = upload(bob, "e.csv", csv_bytes([expert_row(capacity="8", specialties="品牌建设"),
                                                   expert_row(code="130100-0102", name="赵敏")], keys=keys))
        assert response.status_code == 302
        assert "0 experts added, 1 updated, 1 unchanged" in str(list(get_messages(response.wsgi_request))[0])
        assert Expert.objects.count() == 2
        expert.refresh_from_db()
        assert expert.capacity == 8 and expert.phone == "13900000001"
        assert list(expert.specialties.values_list("code", flat=True)) == ["brand"]
        changes = AuditEntry.objects.filter(object_id=str(expert.pk)).order_by("-id")[0].changes
        assert set(changes) == {"capacity", "specialties"} and changes["capacity"] == [5, 8]

    def test_reimporting_without_a_pool_keeps_the_experts_pool(self, upload, bob):
        ExpertFactory(code="130100-0101", region=Region.objects.get(code="130102"))
        assert upload(bob, "e.csv", csv_bytes([expert_row(pool="")])).status_code == 302
        assert Expert.objects.get().region_id == "130102"

    def test_an_administrator_names_the_pool(self, upload, admin_user):
        response = upload(admin_user, "e.csv", csv_bytes([expert_row(pool="130200", regions_served="130200")]))
        assert response.status_code == 302 and Expert.objects.get().region_id == "130200"


class TestBadRows:
    def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(self, upload, bob):
        rows = [
            expert_row(),  # line 2: good, but not written either
            expert_row(code="130100-0102", name=""),
            expert_row(code="130100-0103", specialties="计量、占星术"),
            expert_row(code="130100-0104", regions_served="130102、999999"),
            expert_row(code="130100-0105", capacity="0"),
            expert_row(code="130100-0106", email="not-an-address", employer_kind="外星机构"),
            expert_row(code="130100-0101"),
            expert_row(code="130100-0107", is_active="也许", specialties="", regions_served=""),
        ]
        response = upload(bob, "bad.csv", csv_bytes(rows))
        assert response.status_code == 200
        assert problems_of(response) == [
            (3, "姓名", "Enter the expert's name."),
            (4, "专业领域", "Not a known specialty: 占星术."),
            (5, "服务地区", "Not known administrative division codes (6 digits, GB/T 2260): 999999."),
            (6, "最多承担案件数", "0 is not a whole number from 1 to 50."),
            (7, "单位类型", "外星机构 is not a kind of employer; use one of: "
                           "认证机构、检验检测机构、计量或标准化机构、咨询机构、高校或科研院所、企业、政府机关、其他."),
            (7, "电子邮箱", "not-an-address is not a valid e-mail address."),
            (8, "专家编号", "This pool number is already on line 2 of this file."),
            (9, "专业领域", "Enter at least one specialty (codes or Chinese names separated by 、 or commas)."),
            (9, "服务地区", "Enter at least one region served (6-digit codes separated by 、 or commas)."),
            (9, "是否在库", "也许 is not a yes/no answer; use 是 or 否 (yes/no, 1/0, true/false)."),
        ]
        assert (response.context["report"].bad_rows, response.context["report"].total_rows) == (7, 8)
        assert b"Nothing has been imported." in response.content
        assert not Expert.objects.exists() and not AuditEntry.objects.exists()

    def test_the_report_names_the_column_as_the_file_wrote_it(self, upload, bob):
        content = csv_bytes([expert_row(name="")], english=True)
        assert problems_of(upload(bob, "e.csv", content))[0][:2] == (2, "name")

    def test_rows_outside_the_jurisdiction_are_refused(self, upload, charlie):
        ExpertFactory(code="130100-0009")  # kept by the Shijiazhuang pool
        rows = [
            expert_row(code="130200-0001", pool="130100", regions_served="130200"),
            expert_row(code="130200-0002", regions_served="130203、130102"),
            expert_row(code="130100-0009", regions_served="130200"),
            expert_row(code="130200-0003", regions_served="130200"),  # good: not written either
        ]
        response = upload(charlie, "e.csv", csv_bytes(rows))
        assert problems_of(response) == [
            (2, "所属专家库", "Pool 130100 lies outside your jurisdiction."),
            (3, "服务地区", "These regions lie outside your jurisdiction and the province and city around it: "
                           "130102."),
            (4, "专家编号", "Pool number 130100-0009 is an expert kept by the pool of region 130100, outside your "
                           "jurisdiction."),
        ]
        assert list(Expert.objects.values_list("code", flat=True)) == ["130100-0009"]

    def test_an_administrator_without_a_jurisdiction_must_name_the_pool(self, upload, admin_user):
        response = upload(admin_user, "e.csv", csv_bytes([expert_row(pool="")]))
        assert problems_of(response) == [(2, "所属专家库", "Enter the region code of the pool that keeps this expert.")]
        assert not Expert.objects.exists()


class TestWholeFileProblems:
    @pytest.mark.parametrize(("name", "content", "message"), [
        ("experts.txt", b"a,b", "Only .csv and .xlsx files can be imported."),
        ("experts.csv", b"", "The submitted file is empty."),
        ("experts.csv", b"\n\n", "The file is empty."),
        ("experts.csv", csv_bytes([]), "The file has a header row but no expert rows."),
        ("experts.csv", csv_bytes([expert_row()], keys=["code", "name", "employer"]),
         "The header row (line 1) lacks the required columns: 专业领域、服务地区."),
        ("experts.xlsx", b"PK not really a workbook", "The file cannot be read as an Excel (.xlsx) workbook."),
        ("experts.csv", b"\xff\xfe\x00\x00garbage\x00", "This is not a CSV text file."),
    ])
    def test_it_refuses_the_file_with_a_message_on_the_field(self, upload, bob, name, content, message):
        response = upload(bob, name, content)
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors["file"])
        assert not Expert.objects.exists()

    def test_a_file_over_the_row_limit_is_refused(self, upload, bob, monkeypatch):
        monkeypatch.setattr(importing, "MAX_ROWS", 2)
        rows = [expert_row(code=f"130100-01{n:02d}") for n in range(3)]
        response = upload(bob, "e.csv", csv_bytes(rows))
        assert "more than 2 rows" in " ".join(response.context["form"].errors["file"])
        assert not Expert.objects.exists()

    def test_choosing_no_file_says_so(self, client_for, bob):
        response = client_for(bob).post(reverse("experts:import"), {})
        assert response.context["form"].errors["file"] == ["Choose a file to import."]


def test_a_pool_that_changed_during_the_import_writes_nothing_and_says_so(bob, monkeypatch):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError
    from django.utils import translation

    def collides(rows, **kwargs):
        Expert.objects.create(code="130100-0999", name="写了一半", employer="x", region_id="130100")
        raise IntegrityError("a login was taken meanwhile")

    monkeypatch.setattr(importing, "upsert", collides)
    with pytest.raises(ValidationError) as error, translation.override("en"):
        importing.expert_import(user=bob, upload=SimpleUploadedFile("专家名单.csv", csv_bytes([expert_row()])))
    assert error.value.message_dict["file"][0].startswith("The pool changed while this file was being imported")
    assert not Expert.objects.exists()
