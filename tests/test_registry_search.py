"""The registry search (enterprises/search.py) as people type it, wherever it is offered: the
registry page, /api/enterprises/, the CSV and XLSX exports, the needs list, the case list, the
claims to confirm and the quick firm lookup of the training attendance form.

bob regulates Shijiazhuang (130100). The firms: 恒泰 (the one every search form should find),
华兴 (also a food firm of Shijiazhuang, so one-word searches are not enough), 丰华 (a food firm of
Tangshan, outside bob's jurisdiction).
"""

import csv
import io

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.cases import services as case_services
from enterprises import search
from enterprises.models import Enterprise, EnterpriseClaim, NeedRequest
from portal.models import Region
from tests.factories import CampaignFactory, EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db



def with_check(first17: str) -> str:
    from enterprises.uscc import check_character

    return first17 + check_character(first17)


@pytest.fixture
def firms(db):
    def make(name, code, region, **fields):
        return EnterpriseFactory(name=name, uscc=with_check(code), region=Region.objects.get(code=region), **fields)

    return {
        "hengtai": make("石家庄恒泰食品有限公司", "91130102MA0CYARJX", "130102", address="长安区中山东路12号",
                        contact_name="刘志强"),
        "huaxing": make("石家庄华兴食品制造有限公司", "91130104MA0DXK5P2", "130104", address="桥西区友谊南街8号"),
        "fenghua": make("唐山恒泰食品有限公司", "91130203MA0EQ7WT1", "130203"),
    }


# Each form people type, and the firms of bob's jurisdiction it must find.
SEARCHES = {
    "two words": ("石家庄 恒泰", {"hengtai"}),
    "two words in the other order": ("食品 恒泰", {"hengtai"}),
    "one common word": ("食品", {"hengtai", "huaxing"}),
    "a full-width space and full-width letters": ("恒泰\u3000ＨＴＳＰ", {"hengtai"}),
    "traditional characters": ("恆泰 食品", {"hengtai"}),
    "a credit code typed from its middle, in lower case": ("ma0cyarjx", {"hengtai"}),
    "pinyin initials": ("sjzhtsp", {"hengtai"}),
    "address and contact": ("中山东路 刘志强", {"hengtai"}),
    "a county's name": ("桥西区", {"huaxing"}),
    "a word no firm has": ("恒泰 机械", set()),
}
FORMS = pytest.mark.parametrize(("query", "expected"), SEARCHES.values(), ids=SEARCHES.keys())


def keys_of(firms, names) -> set[str]:
    by_name = {firm.name: key for key, firm in firms.items()}
    return {by_name[name] for name in names}


def test_the_stored_text_folds_width_traditional_case_and_carries_initials(firms):
    text = Enterprise.objects.get(pk=firms["hengtai"].pk).search_text
    assert "石家庄恒泰食品有限公司" in text and firms["hengtai"].uscc.lower() in text
    assert "sjzhtspyxgs" in text and "河北省" in text and "长安区" in text
    assert search.fold("恆泰　ＡＢＣ") == "恒泰 abc"
    assert search.words("恒泰\u3000食品, 恒泰") == ["恒泰", "食品"]


def test_an_edit_refreshes_the_stored_text(firms, bob):
    from enterprises.services import enterprise_update

    enterprise_update(user=bob, enterprise=firms["hengtai"], name="石家庄恒泰乳业有限公司")
    assert set(search.matching(Enterprise.objects.all(), "乳业").values_list("name", flat=True)) == {
        "石家庄恒泰乳业有限公司"}
    assert not search.matching(Enterprise.objects.filter(pk=firms["hengtai"].pk), "食品").exists()


@FORMS
def test_the_registry_page_finds(client_for, bob, firms, query, expected):
    response = client_for(bob).get(reverse("enterprises:list"), {"q": query})
    assert response.status_code == 200
    assert keys_of(firms, [firm.name for firm in response.context["object_list"]]) == expected


@FORMS
def test_the_api_finds(api_for, bob, firms, query, expected):
    response = api_for(bob).get(reverse("api:enterprise-list"), {"q": query})
    assert response.status_code == 200
    assert keys_of(firms, [row["name"] for row in response.json()["results"]]) == expected


@FORMS
def test_the_csv_export_finds(client_for, bob, firms, query, expected):
    response = client_for(bob).get(reverse("enterprises:export", args=["csv"]), {"q": query})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert keys_of(firms, [row[1] for row in rows[1:]]) == expected


def test_the_xlsx_export_finds_the_same(client_for, bob, firms):
    response = client_for(bob).get(reverse("enterprises:export", args=["xlsx"]), {"q": "恆泰 食品"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["石家庄恒泰食品有限公司"]


@FORMS
def test_the_needs_list_finds_the_needs_of(api_for, bob, firms, query, expected):
    submitter = UserFactory()
    needs = {key: NeedRequest.objects.create(enterprise=firm, service_area_id=1, title="校准", description="-",
                                             submitted_by=submitter) for key, firm in firms.items()}
    response = api_for(bob).get(reverse("api:need-list"), {"q": query})
    by_id = {need.pk: key for key, need in needs.items()}
    assert {by_id[row["id"]] for row in response.json()["results"]} == expected


@FORMS
def test_the_case_list_finds_the_cases_of(api_for, bob, firms, query, expected):
    campaign = CampaignFactory(name="河北省质量提升行动")
    cases = {key: case_services.case_open(user=bob, campaign=campaign, enterprise=firms[key], title="计量帮扶")
             for key in ("hengtai", "huaxing")}
    response = api_for(bob).get(reverse("api:case-list"), {"q": query})
    by_id = {case.pk: key for key, case in cases.items()}
    assert {by_id[row["id"]] for row in response.json()["results"]} == expected


@pytest.fixture
def claims(firms):
    claimant = UserFactory(role="sme")
    return {key: EnterpriseClaim.objects.create(enterprise=firms[key], user=claimant) for key in firms}


@FORMS
def test_the_claims_to_confirm_page_and_api_find_the_claims_of(client_for, api_for, bob, claims, query, expected):
    by_id = {claim.pk: key for key, claim in claims.items()}
    page = client_for(bob).get(reverse("enterprises:claims"), {"q": query})
    assert {by_id[claim.pk] for claim in page.context["object_list"]} == expected
    rows = api_for(bob).get(reverse("api:claim-list"), {"q": query}).json()["results"]
    assert {by_id[row["id"]] for row in rows} == expected


@FORMS
def test_the_training_firm_lookup_finds(client_for, bob, firms, query, expected):
    response = client_for(bob).get(reverse("training:firm-check"), {"attendance-0-uscc": query})
    assert keys_of(firms, [firm.name for firm in response.context.get("matches", [])]) == expected


def test_a_search_never_widens_the_jurisdiction(api_for, bob, charlie, firms):
    # 唐山恒泰 matches 恒泰 食品 too, but it is charlie's.
    rows = api_for(charlie).get(reverse("api:enterprise-list"), {"q": "恒泰 食品"}).json()["results"]
    assert {row["name"] for row in rows} == {"唐山恒泰食品有限公司"}


def test_a_pasted_paragraph_is_cut_to_a_few_words(api_for, bob, firms):
    response = api_for(bob).get(reverse("api:enterprise-list"), {"q": " ".join(["恒泰"] * 500 + ["x" * 5000])})
    assert response.status_code == 200 and response.json()["results"] == []
    assert len(search.words(" ".join(str(n) for n in range(50)))) == search.MAX_WORDS


def test_the_page_explains_what_the_search_reads(client_for, bob, firms):
    client = client_for(bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "pinyin initials" in client.get(reverse("enterprises:list")).content.decode()
