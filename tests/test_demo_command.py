"""`manage.py demo --no-serve`: demo accounts of every role and firms with valid credit codes."""

from io import StringIO

import pytest
from django.core.management import call_command

from enterprises.demo import FIRMS_PER_CITY
from enterprises.models import Enterprise
from enterprises.uscc import region_code_of, validate_uscc
from portal.demo import ACCOUNTS, DEMO_PASSWORD
from portal.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    output = StringIO()
    call_command("demo", "--no-serve", stdout=output)
    return output.getvalue()


def test_it_creates_an_account_of_every_role(demo):
    roles = set(User.objects.filter(username__in=[a.username for a in ACCOUNTS]).values_list("role", flat=True))
    assert roles == set(User.Role.values)


def test_every_demo_account_signs_in_with_the_demo_password(demo):
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.check_password(DEMO_PASSWORD), account.username
        assert user.is_active


def test_demo_accounts_have_the_jurisdiction_they_promise(demo):
    for account in ACCOUNTS:
        user = User.objects.get(username=account.username)
        assert user.region_id == account.region, account.username
        user.full_clean()
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_it_creates_the_demo_firms_with_valid_codes_naming_their_region(demo):
    firms = list(Enterprise.objects.select_related("region"))
    assert len(firms) == sum(FIRMS_PER_CITY.values())
    for firm in firms:
        validate_uscc(firm.uscc)
        assert region_code_of(firm.uscc) == firm.region.code, firm.uscc
        assert firm.region.level == "county" or not firm.region.children.exists(), firm.region.code
        assert firm.industry.level == "division"


def test_the_demo_firms_lie_in_the_demo_cities(demo):
    for city, count in FIRMS_PER_CITY.items():
        assert Enterprise.objects.filter(region__code__startswith=city[:4]).count() == count, city


def test_every_demo_sme_account_naming_a_firm_is_its_contact(demo):
    sme_accounts = [account for account in ACCOUNTS if account.role == User.Role.SME]
    assert any(account.organisation for account in sme_accounts)
    for account in sme_accounts:
        firms = [firm.name for firm in User.objects.get(username=account.username).enterprises.all()]
        # An account without a firm of its own (a newcomer whose claim awaits confirmation) has none.
        assert firms == ([account.organisation] if account.organisation else []), account.username


def test_it_prints_the_accounts_and_the_password(demo):
    assert DEMO_PASSWORD in demo
    for account in ACCOUNTS:
        assert account.username in demo


def test_running_it_twice_creates_nothing_new(demo):
    users, firms = User.objects.count(), Enterprise.objects.count()
    links = Enterprise.users.through.objects.count()
    output = StringIO()
    call_command("demo", "--no-serve", stdout=output)
    assert (User.objects.count(), Enterprise.objects.count(), Enterprise.users.through.objects.count()) == (
        users, firms, links,
    )
    assert "0 new enterprises" in output.getvalue()


def test_running_it_again_keeps_a_changed_password(demo):
    user = User.objects.get(username="sjz_regulator")
    user.set_password("changed by its owner")
    user.save()
    call_command("seed_demo", stdout=StringIO())
    user.refresh_from_db()
    assert user.check_password("changed by its owner")
