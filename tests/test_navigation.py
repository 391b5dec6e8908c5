"""The navigation bar: every page named in words, the user's role and region in sight, the API
docs offered to the roles that set up integrations (issue 13, findings 1 and 7)."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def nav_links(html: str) -> list[str]:
    nav = html[html.index('id="main-nav"'):html.index("</nav>")]
    return re.findall(r'<a class="nav-link[^"]*"[^>]*>(.*?)</a>', nav, re.S)


@pytest.mark.parametrize("who", ["alice", "bob", "diana", "erin", "admin_user"])
def test_every_navigation_link_carries_its_name_as_text(client_for, request, who):
    html = client_for(request.getfixturevalue(who)).get(reverse("home")).content.decode()
    links = nav_links(html)
    assert links
    for link in links:
        text = re.sub(r"<[^>]+>", "", link).strip()
        assert text, link


def test_the_regulators_role_and_region_are_shown(client_for, bob):
    html = client_for(bob).get(reverse("home")).content.decode()
    role = html[html.index('data-testid="current-role"'):]
    role = role[:role.index("</span>")]
    assert "监管人员" in role and bob.region.name in role


@pytest.mark.parametrize(("who", "offered"), [
    ("bob", True), ("admin_user", True), ("diana", False), ("alice", False), ("erin", False),
])
def test_the_api_docs_are_linked_for_the_roles_that_set_up_integrations(client_for, request, who, offered):
    items = client_for(request.getfixturevalue(who)).get(reverse("home")).context["nav_items"]
    assert ("api:docs" in {item["url_name"] for item in items}) is offered


def test_the_api_docs_page_leads_back_to_the_portal(client_for, bob):
    html = client_for(bob).get(reverse("api:docs")).content.decode()
    assert f'href="{reverse("home")}"' in html
    assert "返回平台" in html


def test_the_api_schema_and_browsable_api_speak_chinese_where_a_translation_exists(client_for, bob):
    schema = client_for(bob).get(reverse("api:schema") + "?format=json").json()
    assert schema["info"]["title"] == "质量帮扶平台接口"
    browsable = client_for(bob).get("/api/enterprises/", HTTP_ACCEPT="text/html").content.decode()
    assert "过滤" in browsable  # Django REST framework's own Chinese catalogue
