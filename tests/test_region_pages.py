"""The region browser and the role home pages: who may open what."""

import pytest
from django.urls import reverse

from portal.models import Region, User

pytestmark = pytest.mark.django_db

Role = User.Role


def region_list():
    return reverse("regions:list")


def region_detail(code: str):
    return reverse("regions:detail", args=[code])


# --- access matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [region_list, lambda: region_detail("130100")], ids=["list", "detail"])
def test_it_sends_anonymous_visitors_to_the_login_page(client_for, url):
    response = client_for(None).get(url())
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url()}"


@pytest.mark.parametrize("persona", ["alice", "erin"])
@pytest.mark.parametrize("url", [region_list, lambda: region_detail("130102")], ids=["list", "detail"])
def test_it_forbids_sme_users_and_experts(request, client_for, persona, url):
    user = request.getfixturevalue(persona)
    assert client_for(user).get(url()).status_code == 403


@pytest.mark.parametrize(
    ("persona", "visible", "hidden"),
    [
        ("bob", ["130100", "130102"], ["130200", "130203", "130000", "441900"]),
        ("charlie", ["130200", "130203"], ["130100", "130102", "130000", "441900"]),
        ("diana", ["130000", "130100", "130200", "130102"], ["441900", "340100", "110000"]),
        ("admin_user", ["130100", "130200", "441900", "340100", "110101"], []),
    ],
)
def test_it_opens_regions_inside_the_jurisdiction_and_answers_404_outside(
    request, client_for, persona, visible, hidden
):
    client = client_for(request.getfixturevalue(persona))
    for code in visible:
        response = client.get(region_detail(code))
        assert response.status_code == 200, code
        assert response.context["region"].code == code
    for code in hidden:
        assert client.get(region_detail(code)).status_code == 404, code


def test_it_answers_404_for_a_code_that_does_not_exist(client_for, admin_user):
    assert client_for(admin_user).get(region_detail("999999")).status_code == 404


def test_the_list_holds_only_the_regions_of_the_jurisdiction(client_for, bob):
    response = client_for(bob).get(region_list())
    assert response.status_code == 200
    codes = [region.code for region in response.context["object_list"]]
    expected = list(Region.objects.filter(code__startswith="1301").values_list("code", flat=True))
    assert codes == expected
    assert "130100" in codes and "130102" in codes
    assert response.context["paginator"].count == len(expected)


def test_the_province_list_is_paginated_by_fifty(client_for, diana):
    first = client_for(diana).get(region_list())
    in_hebei = Region.objects.filter(code__startswith="13").count()
    assert first.context["paginator"].count == in_hebei
    assert len(first.context["object_list"]) == 50
    last = client_for(diana).get(region_list(), {"page": first.context["paginator"].num_pages})
    assert len(last.context["object_list"]) == in_hebei - 50 * (first.context["paginator"].num_pages - 1)
    assert all(region.code.startswith("13") for region in last.context["object_list"])


def test_the_detail_page_shows_children_with_their_enterprise_counts(client_for, alice, bob):
    # alice's firm (tests/conftest.py) is in 长安区 130102.
    response = client_for(bob).get(region_detail("130100"))
    children = {child.code: child.enterprise_count for child in response.context["children"]}
    assert children["130102"] == 1
    assert children["130104"] == 0
    assert response.context["enterprise_count"] == 1


def test_the_detail_breadcrumb_leaves_out_ancestors_outside_the_jurisdiction(client_for, bob, diana):
    assert [r.code for r in client_for(bob).get(region_detail("130102")).context["ancestors"]] == ["130100"]
    assert [r.code for r in client_for(diana).get(region_detail("130102")).context["ancestors"]] == [
        "130000", "130100",
    ]


# --- writes: the region browser is read-only --------------------------------------------------


def test_a_post_from_an_anonymous_visitor_goes_to_the_login_page(client_for):
    response = client_for(None).post(region_list())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["alice", "erin", "diana"])
def test_a_post_from_a_role_that_may_not_write_is_forbidden(request, client_for, persona):
    # Supervisors read and never write: the role check answers before the method check.
    assert client_for(request.getfixturevalue(persona)).post(region_list()).status_code == 403


@pytest.mark.parametrize("persona", ["bob", "admin_user"])
@pytest.mark.parametrize("url", [region_list, lambda: region_detail("130100")], ids=["list", "detail"])
def test_a_post_from_a_writing_role_is_a_wrong_method(request, client_for, persona, url):
    response = client_for(request.getfixturevalue(persona)).post(url())
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, OPTIONS"


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", [{"level": "city"}, {}], ids=["1-row", "23-rows"])
def test_the_list_costs_the_same_queries_for_one_row_or_a_full_city(
    client_for, bob, django_assert_num_queries, query
):
    client = client_for(bob)
    # session, user, the user's region (jurisdiction prefix), its parent (navbar full name),
    # COUNT for the paginator, the page of regions joined to their parents.
    with django_assert_num_queries(5):
        response = client.get(region_list(), query)
    assert len(response.context["object_list"]) == (1 if query else 23)


@pytest.mark.parametrize("query", [{"level": "province"}, {}], ids=["34-rows", "50-rows"])
def test_the_list_costs_the_same_queries_at_two_page_sizes(client_for, admin_user, django_assert_num_queries, query):
    client = client_for(admin_user)
    # session, user, COUNT for the paginator, the page of regions joined to their parents.
    with django_assert_num_queries(4):
        response = client.get(region_list(), query)
    assert len(response.context["object_list"]) == (34 if query else 50)


@pytest.mark.parametrize("code", ["130100", "130200"], ids=["22-counties", "14-counties"])
def test_the_detail_page_costs_the_same_queries_whatever_the_number_of_children(
    client_for, admin_user, django_assert_num_queries, code
):
    client = client_for(admin_user)
    # session, user, the region with its parent, "is the province visible" for the breadcrumb,
    # the children, their enterprise counts (one grouped query), the region's enterprise count.
    with django_assert_num_queries(7):
        response = client.get(region_detail(code))
    assert len(response.context["children"]) == Region.objects.filter(parent_id=code).count()


# --- home pages -------------------------------------------------------------------------------


def test_the_home_page_sends_anonymous_visitors_to_the_login_page(client_for):
    response = client_for(None).get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("persona", "role"),
    [
        ("alice", Role.SME),
        ("bob", Role.REGULATOR),
        ("erin", Role.EXPERT),
        ("diana", Role.SUPERVISOR),
        ("admin_user", Role.ADMINISTRATOR),
    ],
)
def test_each_role_lands_on_its_own_home_page(request, client_for, persona, role):
    response = client_for(request.getfixturevalue(persona)).get(reverse("home"))
    assert response.status_code == 200
    assert response.context["role"] == role
    assert response.templates[0].name == f"portal/home_{role}.html"
    assert response.content.count(b'data-testid="home-title"') == 1


def test_a_regulators_home_counts_the_enterprises_of_the_jurisdiction_by_county(client_for, alice, bob, charlie):
    response = client_for(bob).get(reverse("home"))
    assert response.context["jurisdiction"].code == "130100"
    assert response.context["enterprise_count"] == 1
    counts = {region.code: region.enterprise_count for region in response.context["subregions"]}
    assert set(counts) == set(Region.objects.filter(parent_id="130100").values_list("code", flat=True))
    assert counts["130102"] == 1
    assert sum(counts.values()) == 1
    assert client_for(charlie).get(reverse("home")).context["enterprise_count"] == 0


def test_a_supervisors_home_lists_the_cities_of_the_province(client_for, alice, diana):
    response = client_for(diana).get(reverse("home"))
    counts = {region.code: region.enterprise_count for region in response.context["subregions"]}
    assert set(counts) == set(Region.objects.filter(parent_id="130000").values_list("code", flat=True))
    assert counts["130100"] == 1 and counts["130200"] == 0


def test_an_sme_users_home_shows_only_its_own_enterprise(client_for, alice):
    from tests.factories import EnterpriseFactory

    EnterpriseFactory(name="别家企业有限公司")
    response = client_for(alice).get(reverse("home"))
    assert [firm.name for firm in response.context["enterprises"]] == ["石家庄恒泰食品有限公司"]
    assert "别家企业有限公司" not in response.content.decode()


def test_an_administrators_home_counts_the_reference_data(client_for, admin_user):
    response = client_for(admin_user).get(reverse("home"))
    counts = [count for _label, count in response.context["reference_counts"]]
    assert counts == [3223, 117, 10, 15]  # the divisions and the country above them
    assert response.context["heartbeat"] is None


def test_the_navigation_offers_regions_only_to_staff_roles(client_for, alice, bob):
    assert f'href="{reverse("regions:list")}"' not in client_for(alice).get(reverse("home")).content.decode()
    assert f'href="{reverse("regions:list")}"' in client_for(bob).get(reverse("home")).content.decode()
