"""The portal's own 404 and 500 pages, in Chinese, with and without DEBUG (issue 13, finding 3)."""

import pytest
from django.test import override_settings
from django.urls import path, reverse

from portal.models import Region
from portal.shell.urls import urlpatterns as portal_patterns
from tests.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *portal_patterns]

TECHNICAL = ["URLconf", "Django", "Traceback", "RuntimeError"]


@pytest.fixture(params=[True, False], ids=["debug", "production"])
def debug(request, settings):
    settings.DEBUG = request.param
    settings.DEBUG_ERROR_PAGES = False
    return request.param


def test_an_unknown_address_shows_the_portals_chinese_404(client_for, bob, debug):
    response = client_for(bob).get("/no-such-page/")
    text = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in text and "返回首页" in text
    assert 'id="main-nav"' in text  # the portal's own page, with its navigation
    assert not any(word in text for word in TECHNICAL)


def test_an_out_of_jurisdiction_record_shows_the_portals_404(client_for, bob, debug):
    firm = EnterpriseFactory(region=Region.objects.get(code="130203"))
    response = client_for(bob).get(reverse("enterprises:detail", args=[firm.pk]))
    text = response.content.decode()
    assert response.status_code == 404
    assert "页面不存在" in text
    assert not any(word in text for word in TECHNICAL)


@override_settings(ROOT_URLCONF=__name__)
def test_an_error_shows_the_portals_500_and_is_logged(client, debug, caplog):
    client.raise_request_exception = False
    with caplog.at_level("ERROR", logger="django.request"):
        response = client.get("/boom/")
    text = response.content.decode()
    assert response.status_code == 500
    assert "服务器出现错误" in text and "portal.css" in text
    assert "a bug" not in text and "Traceback" not in text
    assert any(record.exc_info and "a bug" in str(record.exc_info[1]) for record in caplog.records)


def test_a_developer_may_ask_for_djangos_technical_404(client_for, bob, settings):
    settings.DEBUG = True
    settings.DEBUG_ERROR_PAGES = True
    response = client_for(bob).get("/no-such-page/")
    assert response.status_code == 404
    assert "URLconf" in response.content.decode()


def test_the_api_keeps_answering_404_in_json(api_for, bob, settings):
    settings.DEBUG = True
    settings.DEBUG_ERROR_PAGES = False
    response = api_for(bob).get("/api/enterprises/999999/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
