"""The reference data the migrations load (see portal/reference/SOURCES.md for the figures)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from portal.models import Industry, Region, ServiceArea, Specialty

pytestmark = pytest.mark.django_db


def reference_counts() -> dict[str, int]:
    return {
        "regions": Region.objects.count(),
        "industries": Industry.objects.count(),
        "service areas": ServiceArea.objects.count(),
        "specialties": Specialty.objects.count(),
        "specialty service areas": Specialty.service_areas.through.objects.count(),
    }


def test_the_migrations_load_every_division_of_gb_t_2260():
    by_level = dict(Region.objects.values_list("level").annotate(n=Count("code")))
    assert by_level == {"national": 1, "province": 34, "city": 342, "county": 2846}


@pytest.mark.parametrize(
    ("code", "name", "level", "parent"),
    [
        ("000000", "全国", "national", None),
        ("110000", "北京市", "province", "000000"),
        ("340000", "安徽省", "province", "000000"),
        ("130100", "石家庄市", "city", "130000"),
        ("130102", "长安区", "county", "130100"),
        ("441900", "东莞市", "city", "440000"),
        ("110100", "北京市市辖区", "city", "110000"),
        ("429004", "仙桃市", "county", "429000"),
    ],
)
def test_known_regions_are_there_with_their_parent(code, name, level, parent):
    region = Region.objects.get(code=code)
    assert (region.name, region.level, region.parent_id) == (name, level, parent)


def test_cities_without_counties_have_no_children():
    for code in ["441900", "442000", "460400", "620200"]:
        assert not Region.objects.filter(parent_id=code).exists(), code


def test_the_country_has_no_parent_and_every_province_lies_in_it():
    assert list(Region.objects.filter(parent__isnull=True).values_list("code", flat=True)) == ["000000"]
    assert not Region.objects.filter(level="province").exclude(parent_id="000000").exists()


def test_every_parent_is_the_ancestor_that_the_code_names():
    """A city's parent is its xx0000 province, a county's its xxxx00 city: prefix scoping relies on it."""
    wrong = [
        (region.code, region.parent_id)
        for region in Region.objects.exclude(level__in=["national", "province"])
        if region.parent_id != (region.code[:2] + "0000" if region.level == "city" else region.code[:4] + "00")
    ]
    assert wrong == []
    assert not Region.objects.filter(level="city", parent__level__in=["city", "county"]).exists()
    assert not Region.objects.filter(level="county", parent__level__in=["province", "county"]).exists()


def test_every_code_matches_its_level_pattern():
    assert not Region.objects.filter(level="province").exclude(code__endswith="0000").exists()
    assert not Region.objects.filter(level="city").exclude(code__endswith="00").exists()
    assert not Region.objects.filter(level="city", code__endswith="0000").exists()
    assert not Region.objects.filter(level="county", code__endswith="00").exists()


def test_the_migrations_load_gb_t_4754_sections_and_divisions():
    assert Industry.objects.filter(level="section").count() == 20
    assert Industry.objects.filter(level="division").count() == 97
    assert Industry.objects.filter(parent_id="C").count() == 31
    assert Industry.objects.get(code="13").name == "农副食品加工业"
    assert not Industry.objects.filter(level="division", parent__isnull=True).exists()
    assert not Industry.objects.filter(level="section", parent__isnull=False).exists()


def test_every_industry_has_a_chinese_and_an_english_name():
    assert not Industry.objects.filter(name="").exists()
    assert not Industry.objects.filter(name_en="").exists()


def test_the_ten_service_areas_of_the_double_zero_campaign_are_loaded():
    assert list(ServiceArea.objects.values_list("code", flat=True)) == list(range(1, 11))
    assert ServiceArea.objects.get(code=1).name == "需求诊断"
    assert all(ServiceArea.objects.values_list("active", flat=True))


def test_every_specialty_serves_at_least_one_service_area():
    assert Specialty.objects.count() >= 15
    assert not Specialty.objects.annotate(n=Count("service_areas")).filter(n=0).exists()
    assert set(Specialty.objects.get(code="metrology").service_areas.values_list("code", flat=True)) == {2, 10}


def test_loading_the_reference_data_again_changes_nothing():
    before = reference_counts()
    output = StringIO()
    call_command("load_reference_data", stdout=output)
    call_command("load_reference_data", stdout=output)
    assert reference_counts() == before
    assert "regions: 3223" in output.getvalue()  # 3,222 divisions and the country


def test_loading_the_reference_data_restores_a_missing_row():
    Specialty.objects.filter(code="metrology").delete()
    call_command("load_reference_data", stdout=StringIO())
    metrology = Specialty.objects.get(code="metrology")
    assert metrology.name == "计量"
    assert set(metrology.service_areas.values_list("code", flat=True)) == {2, 10}
