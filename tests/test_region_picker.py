"""The region picker's endpoint and the industry picker (issue 13, finding 2): regions by parent
and by name, code or pinyin, inside what the user may pick; industries by section and division."""

import pytest
from django.urls import reverse

from enterprises.forms import EnterpriseForm

pytestmark = pytest.mark.django_db


def lookup(client, **params):
    response = client.get(reverse("regions:lookup"), params)
    return response


def codes(response) -> list[str]:
    assert response.status_code == 200
    return [row["code"] for row in response.json()["results"]]


def test_anonymous_users_are_sent_to_sign_in(client):
    response = lookup(client, q="sjz")
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("typed", ["石家庄", "shijiazhuang", "sjz", "SJZ", "ｓｊｚ", "1301"])
def test_an_sme_finds_shijiazhuang_by_name_code_or_pinyin(client_for, alice, typed):
    assert codes(lookup(client_for(alice), q=typed))[0] == "130100"


@pytest.mark.parametrize(("typed", "code"), [("shi jia zhuang", "130100"), ("xi'an", "610100"), ("XI'AN", "610100")])
def test_blanks_and_the_syllable_apostrophe_are_ignored_in_pinyin(client_for, alice, typed, code):
    assert code in codes(lookup(client_for(alice), q=typed))


def test_provinces_come_before_cities_before_counties_then_by_code(client_for, alice):
    client = client_for(alice)
    from portal.models import Region

    hebei = codes(lookup(client, q="130"))
    cities = list(Region.objects.filter(code__startswith="130", level="city").values_list("code", flat=True))
    counties = list(Region.objects.filter(code__startswith="130", level="county").values_list("code", flat=True))
    assert hebei == ["130000", *cities, *counties][:20] and len(cities) > 5
    tai = codes(lookup(client, q="tai"))  # 台湾省 (710000) before 太原市 (140100), 泰安市 (370900)...
    assert tai[0] == "710000" and "140100" in tai[1:]


def test_a_county_is_found_with_its_city_and_province_named(client_for, alice):
    [changan, *_rest] = [row for row in lookup(client_for(alice), q="changan").json()["results"]
                         if row["code"] == "130102"]
    assert changan == {"code": "130102", "name": "长安区", "level": "county", "path": "河北省 石家庄市 长安区"}


def test_the_cascade_starts_at_the_provinces_for_an_sme_and_goes_down(client_for, alice):
    client = client_for(alice)
    provinces = codes(lookup(client))
    assert len(provinces) == 34 and "130000" in provinces
    assert "130100" in codes(lookup(client, parent="130000"))
    assert "130102" in codes(lookup(client, parent="130100"))


def test_a_province_is_named_alone_not_after_the_country(client_for, alice, django_assert_num_queries):
    client = client_for(alice)
    # session, user; the provinces (no trail to load above them)
    with django_assert_num_queries(3):
        rows = lookup(client).json()["results"]
    hebei = next(row for row in rows if row["code"] == "130000")
    assert hebei == {"code": "130000", "name": "河北省", "level": "province", "path": "河北省"}
    [found] = [row for row in lookup(client, q="hebei").json()["results"] if row["code"] == "130000"]
    assert found["path"] == "河北省"


def test_the_children_of_a_region_come_with_their_city_and_province_named(client_for, alice):
    [changan] = [row for row in lookup(client_for(alice), parent="130100").json()["results"]
                 if row["code"] == "130102"]
    assert changan["path"] == "河北省 石家庄市 长安区"


def test_a_national_regulator_starts_at_the_provinces_not_at_the_country(client_for, db):
    from portal.models import Region
    from tests.factories import RegulatorFactory

    national = RegulatorFactory(username="national", region=Region.objects.get(code="000000"))
    provinces = codes(lookup(client_for(national)))
    assert len(provinces) == 34 and "130000" in provinces and "000000" not in provinces


def test_a_city_regulator_picks_inside_the_city_only(client_for, bob):
    client = client_for(bob)
    assert codes(lookup(client)) == ["130100"]
    assert "130102" in codes(lookup(client, parent="130100"))
    assert codes(lookup(client, q="tangshan")) == []  # 唐山 lies outside
    assert set(codes(lookup(client, q="sjz"))) <= {code for code in codes(lookup(client, parent="130100"))} | {"130100"}


def test_another_regions_regulator_gets_404_for_a_parent_outside(client_for, charlie):
    assert lookup(client_for(charlie), parent="130100").status_code == 404
    assert codes(lookup(client_for(charlie))) == ["130200"]


def test_a_province_supervisor_starts_at_the_province(client_for, diana):
    assert codes(lookup(client_for(diana))) == ["130000"]


@pytest.mark.parametrize("params", [{"parent": "abc"}, {"parent": "9" * 500}, {"q": "%" * 100}, {"q": "'"}])
def test_odd_input_answers_404_or_an_empty_list_never_a_500(client_for, alice, params):
    response = lookup(client_for(alice), **params)
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.json()["results"] == [] or params.get("q")


def test_the_registration_form_offers_the_picker_and_industries_by_section(client_for, alice):
    html = client_for(alice).get(reverse("enterprises:register")).content.decode()
    assert 'name="region"' in html and "data-region-picker" in html
    assert '<optgroup label="C 制造业">' in html
    assert '<option value="13">13 农副食品加工业</option>' in html
    form = EnterpriseForm(data={"industry": "13"})
    form.is_valid()
    assert "industry" not in form.errors and form.cleaned_data["industry"].code == "13"


def test_the_registry_filter_picks_a_section_or_a_division_by_name(client_for, bob):
    html = client_for(bob).get(reverse("enterprises:list"), {"industry": "c"}).content.decode()
    assert '<option value="C" selected>C 制造业（全部）</option>' in html
    assert '<option value="39">39 计算机、通信和其他电子设备制造业</option>' in html
