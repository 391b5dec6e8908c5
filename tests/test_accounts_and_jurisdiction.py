"""Roles and jurisdiction: the one answer to "which regions may this user see"."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from enterprises.models import Enterprise
from portal.models import Region, User
from portal.selectors import (
    EVERYWHERE,
    jurisdiction_prefix,
    region_code_q,
    region_is_visible_to,
    regions_visible_to,
)
from tests.factories import EnterpriseFactory, RegulatorFactory, UserFactory

pytestmark = pytest.mark.django_db


def visible_codes(user: User) -> set[str]:
    return set(regions_visible_to(user).values_list("code", flat=True))


def test_jurisdiction_prefix_follows_the_level_of_the_users_region(alice, bob, diana, erin, admin_user):
    county_regulator = RegulatorFactory(region=Region.objects.get(code="130102"))
    assert jurisdiction_prefix(diana) == "13"
    assert jurisdiction_prefix(bob) == "1301"
    assert jurisdiction_prefix(county_regulator) == "130102"
    assert jurisdiction_prefix(admin_user) == EVERYWHERE
    assert jurisdiction_prefix(alice) is None
    assert jurisdiction_prefix(erin) is None


def test_it_gives_an_inactive_account_no_jurisdiction(bob):
    bob.is_active = False
    assert jurisdiction_prefix(bob) is None
    assert not regions_visible_to(bob).exists()


def test_a_superuser_sees_everything_whatever_role_is_stored():
    superuser = UserFactory(role=User.Role.SME, is_superuser=True)
    assert jurisdiction_prefix(superuser) == EVERYWHERE


def test_a_province_supervisor_sees_its_cities_and_counties_and_nothing_outside(diana):
    codes = visible_codes(diana)
    assert {"130000", "130100", "130102", "130200", "130203"} <= codes
    assert all(code.startswith("13") for code in codes)
    assert codes == set(Region.objects.filter(code__startswith="13").values_list("code", flat=True))
    assert "441900" not in codes and "110000" not in codes


def test_a_city_regulator_sees_its_counties_but_not_the_neighbouring_city(bob, charlie):
    assert {"130100", "130102", "130104"} <= visible_codes(bob)
    assert "130200" not in visible_codes(bob)
    assert "130203" not in visible_codes(bob)
    assert "130000" not in visible_codes(bob), "a city regulator does not see its own province"
    assert "130200" in visible_codes(charlie)
    assert "130100" not in visible_codes(charlie)


def test_a_county_regulator_sees_only_its_county():
    county_regulator = RegulatorFactory(region=Region.objects.get(code="130102"))
    assert visible_codes(county_regulator) == {"130102"}


def test_an_administrator_sees_every_region(admin_user):
    assert regions_visible_to(admin_user).count() == Region.objects.count()


def test_sme_users_and_experts_see_no_region(alice, erin):
    assert not regions_visible_to(alice).exists()
    assert not regions_visible_to(erin).exists()
    assert not region_is_visible_to(alice, "130102")


def test_region_is_visible_to_answers_by_code_prefix(bob, diana):
    assert region_is_visible_to(bob, "130102")
    assert not region_is_visible_to(bob, "130203")
    assert region_is_visible_to(diana, "130203")
    assert not region_is_visible_to(diana, "441900")


def test_region_code_q_keeps_the_rows_inside_each_jurisdiction(alice, bob, charlie, diana, erin, admin_user):
    in_changan = EnterpriseFactory(region=Region.objects.get(code="130102"))
    in_tangshan = EnterpriseFactory(region=Region.objects.get(code="130203"))
    in_dongguan = EnterpriseFactory(region=Region.objects.get(code="441900"))
    ours = {in_changan.pk, in_tangshan.pk, in_dongguan.pk}

    def kept(user):
        return set(Enterprise.objects.filter(region_code_q(user), pk__in=ours).values_list("pk", flat=True))

    assert kept(bob) == {in_changan.pk}
    assert kept(charlie) == {in_tangshan.pk}
    assert kept(diana) == {in_changan.pk, in_tangshan.pk}
    assert kept(admin_user) == ours
    assert kept(alice) == set()
    assert kept(erin) == set()


def test_region_code_q_follows_a_relation_given_by_name(bob):
    """Other apps scope through their enterprise: region_code_q(user, "enterprise__region")."""
    inside = EnterpriseFactory(region=Region.objects.get(code="130102"))
    outside = EnterpriseFactory(region=Region.objects.get(code="130203"))
    contact_inside, contact_outside = UserFactory(), UserFactory()
    inside.users.add(contact_inside)
    outside.users.add(contact_outside)
    assert list(User.objects.filter(region_code_q(bob, "enterprises__region"))) == [contact_inside]


def test_region_code_q_filters_on_the_foreign_key_column_without_a_join(bob):
    sql = str(Enterprise.objects.filter(region_code_q(bob)).query)
    assert "JOIN" not in sql.upper()
    assert "1301%" in sql


@pytest.mark.parametrize("role", [User.Role.REGULATOR, User.Role.SUPERVISOR])
def test_the_database_refuses_a_jurisdiction_role_without_a_region(role):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=f"no-region-{role}", role=role, region=None)


@pytest.mark.parametrize("role", [User.Role.SME, User.Role.EXPERT, User.Role.ADMINISTRATOR])
def test_the_database_accepts_other_roles_without_a_region(role):
    User.objects.create(username=f"no-region-{role}", role=role, region=None)


def test_full_clean_explains_that_a_regulator_needs_a_region():
    user = User(username="nowhere", role=User.Role.REGULATOR, region=None)
    user.set_password("a long enough password")
    with translation.override("en"), pytest.raises(ValidationError) as raised:
        user.full_clean()
    with translation.override("en"):
        assert raised.value.message_dict["region"] == ["Regulators and supervisors need a jurisdiction region."]


def test_effective_role_of_a_superuser_is_administrator():
    assert UserFactory(role=User.Role.EXPERT, is_superuser=True).effective_role == User.Role.ADMINISTRATOR
    assert UserFactory(role=User.Role.EXPERT).effective_role == User.Role.EXPERT


@pytest.mark.parametrize(
    ("code", "full_name"),
    [
        ("130102", "河北省石家庄市长安区"),
        ("130100", "河北省石家庄市"),
        ("130000", "河北省"),
        ("110101", "北京市东城区"),  # a municipality's 市辖区 grouping row is left out
        ("500229", "重庆市城口县"),  # so is its 县 grouping row
        ("429004", "湖北省仙桃市"),  # 省直辖县级行政区划 is left out
        ("441900", "广东省东莞市"),  # a city without counties
    ],
)
def test_full_name_spells_out_province_and_city(code, full_name):
    assert Region.objects.get(code=code).full_name() == full_name


def test_region_prefix_is_the_part_of_the_code_its_descendants_share():
    assert Region.objects.get(code="130000").prefix == "13"
    assert Region.objects.get(code="130100").prefix == "1301"
    assert Region.objects.get(code="130102").prefix == "130102"


def test_the_database_refuses_a_region_code_that_is_not_six_digits():
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="13010", name="短码", level=Region.Level.COUNTY)
