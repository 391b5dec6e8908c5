"""/api/ reference endpoints: regions, industries, service areas, specialties, me, schema, docs."""

import base64
import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from rest_framework.test import APIClient

from portal.models import Region, User

pytestmark = pytest.mark.django_db

REFERENCE_LISTS = ["api:industry-list", "api:service-area-list", "api:specialty-list"]


def region_detail(code: str) -> str:
    return reverse("api:region-detail", kwargs={"code": code})


def codes(response) -> list[str]:
    return [row["code"] for row in response.json()["results"]]


# --- access matrix ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse("api:region-list"),
        lambda: region_detail("130100"),
        lambda: reverse("api:me"),
        *[lambda name=name: reverse(name) for name in REFERENCE_LISTS],
    ],
    ids=["regions", "region", "me", "industries", "service-areas", "specialties"],
)
def test_it_refuses_anonymous_callers(api_for, url):
    # Session authentication comes first and sends no WWW-Authenticate challenge, so DRF answers
    # 403 rather than 401 - on every endpoint alike.
    response = api_for(None).get(url())
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


@pytest.mark.parametrize("persona", ["alice", "erin"])
def test_it_forbids_regions_to_sme_users_and_experts(request, api_for, persona):
    api = api_for(request.getfixturevalue(persona))
    assert api.get(reverse("api:region-list")).status_code == 403
    assert api.get(region_detail("130102")).status_code == 403


def reference_rows(name: str) -> list[dict]:
    """What a reference list holds, read from the tables (every row, in the list's order)."""
    from portal.models import Industry, ServiceArea, Specialty

    if name == "api:industry-list":
        return [{"code": i.code, "name": i.name, "name_en": i.name_en, "level": i.level, "parent": i.parent_id}
                for i in Industry.objects.order_by("code")]
    if name == "api:service-area-list":
        return [{"code": a.code, "name": a.name, "name_en": a.name_en, "description": a.description,
                 "active": a.active} for a in ServiceArea.objects.order_by("code")]
    return [{"code": s.code, "name": s.name, "name_en": s.name_en,
             "service_areas": sorted(s.service_areas.values_list("code", flat=True))}
            for s in Specialty.objects.all()]


@pytest.mark.parametrize("persona", ["alice", "erin", "bob", "diana", "admin_user"])
@pytest.mark.parametrize("name", REFERENCE_LISTS)
def test_every_role_reads_the_reference_lists(request, api_for, persona, name):
    response = api_for(request.getfixturevalue(persona)).get(reverse(name), {"page_size": 500})
    assert response.status_code == 200
    body = response.json()
    expected = reference_rows(name)
    assert body["count"] == len(expected) == {"api:industry-list": 117, "api:service-area-list": 10,
                                              "api:specialty-list": 15}[name]
    rows = body["results"]
    if name == "api:specialty-list":
        rows = [{**row, "service_areas": sorted(row["service_areas"])} for row in rows]
    assert rows == expected


def test_a_regulator_lists_only_the_regions_of_the_jurisdiction(api_for, bob):
    response = api_for(bob).get(reverse("api:region-list"), {"page_size": 500})
    assert response.status_code == 200
    assert codes(response) == list(Region.objects.filter(code__startswith="1301").values_list("code", flat=True))
    assert response.json()["count"] == len(codes(response))


def test_a_region_outside_the_jurisdiction_is_not_found(api_for, bob, charlie):
    assert api_for(bob).get(region_detail("130102")).json() == {
        "code": "130102", "name": "长安区", "level": "county", "parent": "130100",
    }
    assert api_for(bob).get(region_detail("130200")).status_code == 404
    assert api_for(charlie).get(region_detail("130100")).status_code == 404
    assert api_for(charlie).get(region_detail("130200")).status_code == 200


def test_a_province_supervisor_reads_every_city_of_the_province(api_for, diana):
    assert api_for(diana).get(region_detail("130200")).status_code == 200
    assert api_for(diana).get(region_detail("441900")).status_code == 404


def test_basic_authentication_works_for_scripts(bob):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"bob:pw").decode())
    assert api.get(reverse("api:me")).json()["username"] == "bob"
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"bob:wrong").decode())
    assert api.get(reverse("api:me")).status_code == 403


def test_me_describes_the_caller_with_role_and_jurisdiction(api_for, bob, admin_user, alice):
    me = api_for(bob).get(reverse("api:me")).json()
    assert me["username"] == "bob"
    assert me["role"] == "regulator"
    assert me["region"] == {"code": "130100", "name": "石家庄市", "level": "city", "parent": "130000"}
    assert api_for(admin_user).get(reverse("api:me")).json()["role"] == "admin"
    assert api_for(alice).get(reverse("api:me")).json()["region"] is None


# --- writes: every endpoint here is read-only -------------------------------------------------


def test_a_write_to_regions_is_a_wrong_method_for_a_regulator(api_for, bob):
    api = api_for(bob)
    assert api.post(reverse("api:region-list"), {"code": "139999", "name": "新区"}).status_code == 405
    assert api.put(region_detail("130102"), {"name": "改名"}).status_code == 405
    assert api.delete(region_detail("130102")).status_code == 405
    assert Region.objects.get(code="130102").name == "长安区"


def test_a_write_from_a_supervisor_is_forbidden(api_for, diana):
    assert api_for(diana).post(reverse("api:region-list"), {}).status_code == 403


@pytest.mark.parametrize("name", REFERENCE_LISTS)
def test_a_write_to_reference_data_is_forbidden_to_sme_users(api_for, alice, name):
    assert api_for(alice).post(reverse(name), {}).status_code == 403


@pytest.mark.parametrize("name", REFERENCE_LISTS)
def test_a_write_to_reference_data_is_a_wrong_method_for_an_administrator(api_for, admin_user, name):
    # Administrators edit reference data in Django admin, not through the API.
    assert api_for(admin_user).post(reverse(name), {}).status_code == 405


def test_me_is_read_only(api_for, bob):
    assert api_for(bob).patch(reverse("api:me"), {"full_name": "X"}).status_code == 405


# --- RegionFilterSet: one test per filter -----------------------------------------------------


def test_the_q_filter_keeps_regions_whose_name_contains_the_text(api_for, admin_user):
    response = api_for(admin_user).get(reverse("api:region-list"), {"q": "长安", "page_size": 500})
    assert set(codes(response)) == set(Region.objects.filter(name__contains="长安").values_list("code", flat=True))
    assert {"130102", "610116"} <= set(codes(response))


def test_the_q_filter_keeps_regions_whose_code_starts_with_the_text(api_for, admin_user):
    response = api_for(admin_user).get(reverse("api:region-list"), {"q": "13010", "page_size": 500})
    assert codes(response) == list(Region.objects.filter(code__startswith="13010").values_list("code", flat=True))
    assert "130102" in codes(response) and "130100" in codes(response)


def test_the_q_filter_searches_only_inside_the_jurisdiction(api_for, bob):
    assert codes(api_for(bob).get(reverse("api:region-list"), {"q": "长安"})) == ["130102"]


def test_a_blank_q_filter_keeps_everything(api_for, bob):
    everything = api_for(bob).get(reverse("api:region-list")).json()["count"]
    assert api_for(bob).get(reverse("api:region-list"), {"q": "  "}).json()["count"] == everything


def test_the_level_filter_keeps_regions_of_that_level(api_for, diana):
    response = api_for(diana).get(reverse("api:region-list"), {"level": "city", "page_size": 500})
    assert codes(response) == list(
        Region.objects.filter(code__startswith="13", level="city").values_list("code", flat=True)
    )
    assert len(codes(response)) == 11


def test_the_level_filter_rejects_an_unknown_level(api_for, diana):
    assert api_for(diana).get(reverse("api:region-list"), {"level": "town"}).status_code == 400


def test_the_parent_filter_keeps_the_children_of_a_region(api_for, diana):
    response = api_for(diana).get(reverse("api:region-list"), {"parent": "130100", "page_size": 500})
    assert codes(response) == list(Region.objects.filter(parent_id="130100").values_list("code", flat=True))
    assert "130100" not in codes(response)


def test_the_parent_filter_cannot_reach_outside_the_jurisdiction(api_for, bob):
    assert codes(api_for(bob).get(reverse("api:region-list"), {"parent": "130200"})) == []


def test_industries_filter_by_level_and_section(api_for, alice):
    api = api_for(alice)
    assert api.get(reverse("api:industry-list"), {"level": "section"}).json()["count"] == 20
    divisions = api.get(reverse("api:industry-list"), {"parent": "C", "page_size": 500}).json()["results"]
    assert [row["code"] for row in divisions] == [f"{n:02d}" for n in range(13, 44)]


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_region_list_costs_the_same_queries_at_two_page_sizes(api_for, bob, django_assert_num_queries, page_size):
    api = api_for(User.objects.get(pk=bob.pk))  # as a request sees it: region not yet loaded
    # the caller's region (jurisdiction prefix), COUNT, the page; `parent` is the FK column.
    with django_assert_num_queries(3):
        response = api.get(reverse("api:region-list"), {"page_size": page_size})
    assert len(response.json()["results"]) == min(page_size, 23)


@pytest.mark.parametrize("page_size", [3, 15])
def test_the_specialty_list_costs_the_same_queries_at_two_page_sizes(
    api_for, alice, django_assert_num_queries, page_size
):
    api = api_for(alice)
    # COUNT, the page, the service areas of the page's specialties (one prefetch).
    with django_assert_num_queries(3):
        response = api.get(reverse("api:specialty-list"), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size
    assert all(row["service_areas"] for row in response.json()["results"])


# --- schema and docs --------------------------------------------------------------------------


def test_the_schema_describes_the_reference_endpoints(api_for, bob):
    response = api_for(bob).get(reverse("api:schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ["/api/regions/", "/api/regions/{code}/", "/api/industries/", "/api/me/"]:
        assert path in paths


def test_the_schema_and_docs_are_not_served_to_anonymous_visitors(api_for, erin):
    # SERVE_PERMISSIONS = IsAuthenticated: the API is described to the portal's users only.
    assert api_for(None).get(reverse("api:schema")).status_code == 403
    assert api_for(None).get(reverse("api:docs")).status_code == 403
    assert api_for(erin).get(reverse("api:schema")).status_code == 200


ASSET = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)


def assert_every_asset_is_served_locally(html: str) -> None:
    assets = ASSET.findall(html)
    assert assets, "the page loads no assets at all: did the template change?"
    remote = [url for url in assets if re.match(r"^(https?:)?//", url)]
    assert remote == [], f"assets from outside the portal: {remote}"
    for url in assets:
        if url.startswith(reverse("api:docs") + "?script="):
            continue  # the docs page's own start-up script, served apart so no inline script is needed (CSP)
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url.removeprefix(settings.STATIC_URL)), f"{url} is not in the static files"


def test_the_swagger_docs_load_only_local_assets(client_for, bob):
    response = client_for(bob).get(reverse("api:docs"))
    assert response.status_code == 200
    assert_every_asset_is_served_locally(response.content.decode())
