"""Inputs: JSON depth and size, import files bounded before parsing, attachments checked by content."""

import io
import re
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from enterprises.models import ImportJob, NeedRequest
from portal import uploads
from portal.models import ServiceArea
from portal.security.jsonlimits import json_depth_exceeds
from tests.factories import CampaignFactory, sample_file_content

DEEP = b"[" * 100_000 + b"]" * 100_000


# --- JSON ---------------------------------------------------------------------------------------

def production_api(user) -> APIClient:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize("debug", [True, False])
def test_deeply_nested_json_to_the_case_list_is_a_400(settings, bob, debug):
    settings.DEBUG = debug
    CampaignFactory()
    response = production_api(bob).post(reverse("api:case-list"), DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "20" in response.json()["detail"]


@pytest.mark.parametrize("debug", [True, False])
def test_deeply_nested_json_to_an_enterprise_is_a_400(settings, bob, alice, debug):
    settings.DEBUG = debug
    firm = alice.enterprises.get()
    body = b'{"name": ' + DEEP + b"}"
    response = production_api(bob).patch(reverse("api:enterprise-detail", args=[firm.pk]), body,
                                         content_type="application/json")
    assert response.status_code == 400
    firm.refresh_from_db()
    assert firm.name == "石家庄恒泰食品有限公司"


def test_a_json_body_over_the_size_limit_is_a_400(settings, bob, alice):
    settings.API_JSON_MAX_BYTES = 1024
    firm = alice.enterprises.get()
    body = b'{"address": "' + b"x" * 2000 + b'"}'
    response = production_api(bob).patch(reverse("api:enterprise-detail", args=[firm.pk]), body,
                                         content_type="application/json")
    assert response.status_code == 400
    assert "1 KB" in response.json()["detail"]


def test_json_within_the_limits_is_parsed_as_before(bob, alice):
    firm = alice.enterprises.get()
    response = production_api(bob).patch(reverse("api:enterprise-detail", args=[firm.pk]),
                                         {"address": "中山路 [1] {2} \"3\""}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["address"] == "中山路 [1] {2} \"3\""


@pytest.mark.parametrize(("body", "deeper"), [
    (b"[[[1]]]", False), (b"[[[[1]]]]", True), (b'["[[[[[[", "\\"[[[["]', False), (b'{"a": {"b": {"c": {}}}}', True),
    (b'"\\\\"', False),
])
def test_depth_counts_brackets_outside_strings_only(body, deeper):
    assert json_depth_exceeds(body, 3) is deeper


# --- Import files ---------------------------------------------------------------------------------

def workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_shared_string(content: bytes, characters: int) -> bytes:
    """The workbook with a shared-strings part holding one string of `characters` letters, used by
    cell A2 of the first sheet, streamed into the zip as an attacker's tool would write it."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", b'<Relationship Id="rIdS" Target="sharedStrings.xml" Type="'
                                    b'http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"'
                                    b"/></Relationships>")
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
            elif item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData>')
            target.writestr(item, data)
        with target.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                         b'uniqueCount="1"><si><t>')
            block = b"A" * (1024 * 1024)
            for _ in range(characters // len(block)):
                member.write(block)
            member.write(b"A" * (characters % len(block)))
            member.write(b"</t></si></sst>")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def shared_string_bomb() -> bytes:
    """The finding: about 400 KB on the wire, one shared string of 400 MB inside."""
    from enterprises.importing import COLUMNS

    return with_shared_string(workbook([[column.header for column in COLUMNS]]), 400 * 1024 * 1024)


@pytest.fixture
def parse_spy(monkeypatch):
    """Records any full parse by openpyxl, which must not happen for a refused file."""
    calls = []
    real = openpyxl.load_workbook

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    return calls


def test_the_shared_string_bomb_is_small_on_the_wire(shared_string_bomb):
    assert len(shared_string_bomb) < 1024 * 1024


@pytest.mark.parametrize("url_name", ["enterprises:import", "experts:import"])
def test_a_400_mb_shared_string_is_refused_before_any_parse_in_bounded_memory(
    client_for, bob, shared_string_bomb, parse_spy, url_name
):
    client = client_for(bob)
    tracemalloc.start()
    try:
        response = client.post(reverse(url_name), {"file": SimpleUploadedFile("名录.xlsx", shared_string_bomb)})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert "解压后超过" in response.content.decode()
    assert parse_spy == []
    assert peak < 64 * 1024 * 1024  # the worker does not grow by the string's size
    assert not ImportJob.objects.exists()


def test_a_long_shared_string_inside_the_size_bounds_is_refused_while_streaming(alice, parse_spy):
    from enterprises.importing import COLUMNS

    content = with_shared_string(workbook([[column.header for column in COLUMNS]]), 30 * 1024 * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(uploads.TableRefused) as refused:
            uploads.check_table_file(io.BytesIO(content), "xlsx", max_rows=10)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused.value.code == "xlsx_string_length"
    assert peak < 8 * 1024 * 1024


def test_a_cell_longer_than_excel_allows_is_refused(client_for, bob, parse_spy):
    from enterprises.importing import COLUMNS

    content = with_shared_string(workbook([[column.header for column in COLUMNS]]), 40_000)
    response = client_for(bob).post(reverse("enterprises:import"), {"file": SimpleUploadedFile("a.xlsx", content)})
    assert "超出 Excel 的上限" in response.content.decode()
    assert parse_spy == []


def test_rows_are_counted_before_the_parse_even_without_a_recorded_dimension(parse_spy):
    content = workbook([["名称"], *[[f"企业{n}"] for n in range(12)]])
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb"<dimension [^>]*>", b"", data)
            target.writestr(item, data)
    with pytest.raises(uploads.TableRefused) as refused:
        uploads.check_table_file(io.BytesIO(buffer.getvalue()), "xlsx", max_rows=10)
    assert (refused.value.code, refused.value.params) == ("too_many_rows", {"limit": 10})
    uploads.check_table_file(io.BytesIO(buffer.getvalue()), "xlsx", max_rows=12)
    assert parse_spy == []


def test_a_workbook_with_a_document_type_declaration_is_refused():
    content = workbook([["名称"], ["企业"]])
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/styles.xml":
                data = data.replace(b"<styleSheet", b'<!DOCTYPE s [<!ENTITY a "aaaa">]><styleSheet', 1)
            target.writestr(item, data)
    with pytest.raises(uploads.TableRefused) as refused:
        uploads.check_table_file(io.BytesIO(buffer.getvalue()), "xlsx", max_rows=10)
    assert refused.value.code == "xlsx_dtd"


def test_a_csv_of_too_many_lines_is_refused_before_it_is_decoded():
    with pytest.raises(uploads.TableRefused) as refused:
        uploads.check_table_file(io.BytesIO(b"a\n" * 30), "csv", max_rows=10)
    assert refused.value.code == "too_many_lines"
    uploads.check_table_file(io.BytesIO(b"a\n" * 15), "csv", max_rows=10)


def test_an_ordinary_workbook_passes_and_is_left_at_its_start():
    stream = io.BytesIO(workbook([["名称"], ["企业"]]))
    uploads.check_table_file(stream, "xlsx", max_rows=10)
    assert stream.tell() == 0


# --- Attachments -----------------------------------------------------------------------------------

WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"


def test_a_windows_program_named_invoice_pdf_is_refused_on_the_need_page(client_for, alice):
    firm = alice.enterprises.get()
    response = client_for(alice).post(reverse("needs:new"), {
        "enterprise": firm.pk, "service_area": 2, "title": "发票", "description": "附发票", "urgency": "normal",
        "attachments": [SimpleUploadedFile("invoice.pdf", WINDOWS_PROGRAM, content_type="application/pdf")],
    })
    assert response.status_code == 200
    assert "文件内容与文件名不符" in str(response.context["form"].errors["attachments"])
    assert not NeedRequest.objects.exists()


def test_a_windows_program_named_invoice_pdf_is_refused_by_the_api(api_for, alice):
    firm = alice.enterprises.get()
    response = api_for(alice).post(reverse("api:need-list"), {
        "enterprise": firm.pk, "service_area": 2, "title": "发票", "description": "附发票",
        "attachments": [SimpleUploadedFile("invoice.pdf", WINDOWS_PROGRAM)]}, format="multipart")
    assert response.status_code == 400
    assert "attachments" in response.json()
    assert not NeedRequest.objects.exists()


def test_a_windows_program_named_photo_jpg_is_refused_on_a_visit(bob, alice):
    from campaigns.cases import services

    firm = alice.enterprises.get()
    case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=firm, title="帮扶")
    with pytest.raises(ValidationError) as error:
        services.check_attachments([SimpleUploadedFile("现场.jpg", WINDOWS_PROGRAM)])
    assert "attachments" in error.value.message_dict
    assert case.pk


@pytest.mark.parametrize("name", ["报告.pdf", "现场.jpg", "现场.png", "方案.docx", "台账.xlsx", "旧表.xls", "说明.txt"])
def test_real_files_of_every_allowed_kind_pass(name):
    upload = SimpleUploadedFile(name, sample_file_content(name))
    assert uploads.check_content(upload)
    assert upload.tell() == 0


@pytest.mark.parametrize(("name", "content"), [
    ("方案.docx", b"PK\x03\x04" + b"\x00" * 40),  # a zip, but not an Office document
    ("说明.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 40),
    ("报告.pdf", b"<html><script>alert(1)</script></html>"),
    ("现场.png", b"%PDF-1.4"),
])
def test_content_that_does_not_match_the_name_is_refused(name, content):
    with pytest.raises(ValidationError):
        uploads.check_content(SimpleUploadedFile(name, content))


def test_the_sme_home_page_does_not_name_a_firm_before_the_claim_is_confirmed(client_for, db):
    from enterprises.models import EnterpriseClaim
    from portal.models import User
    from tests.factories import EnterpriseFactory, UserFactory

    firm = EnterpriseFactory(name="保密机械有限公司")
    newcomer = UserFactory(username="newcomer", role=User.Role.SME)
    EnterpriseClaim.objects.create(enterprise=firm, user=newcomer)
    page = client_for(newcomer).get(reverse("home")).content.decode()
    assert firm.uscc in page
    assert "保密机械有限公司" not in page
    ServiceArea.objects.count()
