"""Recording a training session from its sign-in sheet (CSV, XLSX): rows grouped by firm, every
row checked, the session recorded with all its attendance or nothing at all."""

import codecs
import csv
import datetime
import io

import openpyxl
import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.training import importing as training_import
from campaigns.training.models import TrainingAttendance, TrainingSession
from portal.models import AuditEntry, Region
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db

HEADERS = [column.header for column in training_import.COLUMNS]
TODAY = timezone.localdate


@pytest.fixture
def client_for(client_for, settings):
    """Signed in and switched to English (the switcher's cookie), so assertions read the msgids."""

    def sign_in(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="河北省质量提升行动")


@pytest.fixture
def firms(db):
    return [EnterpriseFactory(name=f"石家庄签到企业{n}有限公司") for n in range(3)]


@pytest.fixture
def tangshan_firm(db):
    return EnterpriseFactory(name="唐山钢构有限公司", region=Region.objects.get(code="130203"))


def csv_bytes(rows: list[list], *, header: list[str] = HEADERS, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def session_fields(campaign, **overrides) -> dict:
    data = {"campaign": campaign.pk, "region": "130102", "topic": "质量管理体系宣贯会",
            "held_on": (TODAY() - datetime.timedelta(days=3)).isoformat(), "place": "长安区会议中心",
            "mode": "in_person", "organiser": "石家庄市市场监督管理局", "service_area": ""}
    data.update(overrides)
    return data


@pytest.fixture
def upload(client_for, campaign):
    """upload(user, name, content, **session_overrides) -> the response of posting the sheet."""

    def post(user, name: str, content: bytes, **overrides):
        data = {**session_fields(campaign, **overrides), "file": SimpleUploadedFile(name, content)}
        return client_for(user).post(reverse("training:import"), data)

    return post


def problems_of(response) -> list[tuple[int, str, str]]:
    return [(p["line"], p["column"], p["message"]) for p in response.context["problems"]]


def nothing_written() -> bool:
    return not TrainingSession.objects.exists() and not TrainingAttendance.objects.exists() \
        and not AuditEntry.objects.exists()


class TestAccess:
    def test_regulators_and_administrators_may_import(self, client_for, bob, admin_user):
        for user in (bob, admin_user):
            assert client_for(user).get(reverse("training:import")).status_code == 200

    def test_readers_and_other_roles_get_403(self, upload, client_for, firms, diana, erin, alice):
        for user in (diana, erin, alice):
            assert client_for(user).get(reverse("training:import")).status_code == 403
            assert upload(user, "sheet.csv", csv_bytes([[firms[0].uscc, "", "张三", ""]])).status_code == 403
        assert nothing_written()

    def test_anonymous_users_are_sent_to_sign_in(self, client):
        response = client.get(reverse("training:import"))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_the_empty_template_is_a_utf8_csv_with_a_bom_and_the_chinese_headers(self, client_for, bob):
        response = client_for(bob).get(reverse("training:import"), {"template": "csv"})
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert response.content.startswith(codecs.BOM_UTF8)
        assert next(csv.reader(io.StringIO(response.content.decode("utf-8-sig")))) == HEADERS == [
            "统一社会信用代码", "企业名称", "姓名", "人数"]


class TestGoodSheets:
    def test_rows_of_one_firm_are_grouped_persons_summed_and_names_joined(self, upload, bob, firms):
        rows = [
            [firms[0].uscc, firms[0].name, "张三", ""],
            [firms[1].uscc.lower(), "", "李四", "1"],
            [firms[0].uscc, "名称写错了也没关系", "王五", ""],  # the name is for people, not checked
            [firms[2].uscc, firms[2].name, "", "12"],  # a row per firm with a head count
            [firms[0].uscc, "", "赵六", "2"],
        ]
        response = upload(bob, "签到表.csv", csv_bytes(rows))
        session = TrainingSession.objects.get()
        assert response.status_code == 302 and response.url == reverse("training:detail", args=[session.pk])
        assert "3 firm-times, 17 person-times" in str(list(get_messages(response.wsgi_request))[0])
        assert (session.topic, session.region_id, session.recorded_by) == ("质量管理体系宣贯会", "130102", bob)
        assert set(session.attendances.values_list("enterprise_id", "persons", "names")) == {
            (firms[0].pk, 4, "张三、王五、赵六"), (firms[1].pk, 1, "李四"), (firms[2].pk, 12, "")}
        entry = AuditEntry.objects.get(content_type__model="trainingsession")
        assert entry.object_id == str(session.pk) and entry.actor == bob

    def test_a_good_xlsx_with_english_headers_and_numbers_is_imported(self, upload, bob, firms):
        content = xlsx_bytes([
            ["credit_code", "enterprise", "person", "persons"],
            [firms[0].uscc, firms[0].name, "张三", 3.0],
            [firms[1].uscc, firms[1].name, None, None],
        ])
        assert upload(bob, "sign-in.xlsx", content).status_code == 302
        assert set(TrainingAttendance.objects.values_list("enterprise_id", "persons")) == {(firms[0].pk, 3),
                                                                                           (firms[1].pk, 1)}

    def test_a_gb18030_csv_as_chinese_excel_saves_it_is_read(self, upload, bob, firms):
        content = csv_bytes([[firms[0].uscc, firms[0].name, "张三", "2"]], encoding="gb18030")
        assert upload(bob, "签到表.csv", content).status_code == 302
        assert TrainingAttendance.objects.get().names == "张三"

    def test_unknown_columns_are_ignored_and_named(self, upload, bob, firms):
        content = csv_bytes([[firms[0].uscc, "13900000000", "张三"]], header=["信用代码", "手机", "参训人员"])
        response = upload(bob, "sheet.csv", content)
        assert response.status_code == 302
        assert any("手机" in str(message) for message in get_messages(response.wsgi_request))


class TestBadSheets:
    def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_written(self, upload, bob, firms,
                                                                            tangshan_firm):
        unknown = EnterpriseFactory.build().uscc
        rows = [
            [firms[0].uscc, "", "张三", ""],  # line 2: good, but not written either
            ["", "无代码企业", "李四", ""],
            [unknown, "未登记企业", "王五", ""],
            [tangshan_firm.uscc, tangshan_firm.name, "赵六", ""],
            [firms[1].uscc, "", "钱七", "0"],
            [firms[1].uscc[:10], "", "孙八", "两"],
            [firms[2].uscc, "", "周九", "1.5"],
        ]
        response = upload(bob, "bad.csv", csv_bytes(rows))
        assert response.status_code == 200
        assert problems_of(response) == [
            (3, "统一社会信用代码", "Enter the unified social credit code."),
            (4, "统一社会信用代码", "No enterprise with this credit code is in the registry: correct the code, or "
                                "register the enterprise first."),
            (5, "统一社会信用代码", "This enterprise is registered outside your jurisdiction."),
            (6, "人数", "0 is not a number of persons (a whole number from 1 to 10,000; empty: 1)."),
            (7, "统一社会信用代码", "A credit code has 18 characters; this one has 10."),
            (7, "人数", "两 is not a number of persons (a whole number from 1 to 10,000; empty: 1)."),
            (8, "人数", "1.5 is not a number of persons (a whole number from 1 to 10,000; empty: 1)."),
        ]
        assert response.context["report"].bad_rows == 6
        assert b"Nothing has been recorded." in response.content
        assert nothing_written()

    def test_a_firm_over_10000_persons_in_all_is_reported_on_its_first_line(self, upload, bob, firms):
        rows = [[firms[0].uscc, "", "", "6000"], [firms[1].uscc, "", "", "1"], [firms[0].uscc, "", "", "5000"]]
        assert problems_of(upload(bob, "big.csv", csv_bytes(rows))) == [
            (2, "人数", "11000 persons of this enterprise in all (lines 2、4); at most 10,000 per enterprise and "
                      "session.")]
        assert nothing_written()

    def test_the_report_names_the_column_as_the_file_wrote_it(self, upload, bob):
        content = csv_bytes([["", "", "张三"]], header=["credit_code", "enterprise", "person"])
        assert problems_of(upload(bob, "s.csv", content))[0][:2] == (2, "credit_code")

    def test_bad_session_fields_are_reported_on_the_form_and_nothing_is_written(self, upload, bob, campaign, firms):
        content = csv_bytes([[firms[0].uscc, "", "张三", ""]])
        before_campaign = (campaign.starts_on - datetime.timedelta(days=1)).isoformat()
        response = upload(bob, "s.csv", content, held_on=before_campaign)
        assert response.status_code == 200
        assert "The campaign runs from" in " ".join(response.context["form"].errors["held_on"])
        response = upload(bob, "s.csv", content, topic="", region="130203")
        assert set(response.context["form"].errors) == {"topic", "region"}
        assert nothing_written()

    @pytest.mark.parametrize(("name", "content", "message"), [
        ("sheet.txt", b"a,b", "Only .csv and .xlsx files can be imported."),
        ("sheet.csv", b"", "The submitted file is empty."),
        ("sheet.csv", b"\n\n", "The file is empty."),
        ("sheet.csv", csv_bytes([]), "The file has a header row but no one signed in on it."),
        ("sheet.csv", csv_bytes([["张三"]], header=["姓名"]),
         "The header row (line 1) lacks the required columns: 统一社会信用代码."),
        ("sheet.csv", csv_bytes([["x", "y"]], header=["信用代码", "统一社会信用代码"]),
         "The header row (line 1) has these columns more than once: 统一社会信用代码."),
        ("sheet.xlsx", b"PK not really a workbook", "The file cannot be read as an Excel (.xlsx) workbook."),
        ("sheet.csv", b"\xff\xfe\x00\x00garbage\x00", "This is not a CSV text file."),
    ])
    def test_it_refuses_the_file_with_a_message_on_the_field(self, upload, bob, name, content, message):
        response = upload(bob, name, content)
        assert response.status_code == 200
        assert message in " ".join(response.context["sheet"].errors["file"])
        assert nothing_written()

    def test_a_sheet_over_the_row_limit_is_refused(self, upload, bob, firms, monkeypatch):
        monkeypatch.setattr(training_import, "MAX_ROWS", 2)
        rows = [[firm.uscc, "", "", ""] for firm in firms]
        response = upload(bob, "s.csv", csv_bytes(rows))
        assert "more than 2 rows" in " ".join(response.context["sheet"].errors["file"])
        assert nothing_written()

    def test_choosing_no_file_says_so(self, client_for, bob, campaign):
        response = client_for(bob).post(reverse("training:import"), session_fields(campaign))
        assert response.context["sheet"].errors["file"] == ["Choose the sign-in sheet to import."]
        assert nothing_written()
