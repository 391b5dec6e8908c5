"""Needs received on paper or by phone: the day received and when and by whom they were typed in.

A regulator of the firm's region enters such a need from the firm's page or through the API with
the day it came in (not in the future); the need's page and the API show both, with an "entered
later" badge when they lie more than ENTERED_LATER_DAYS apart. Personas: alice is the SME user of
a 长安区 firm, bob and bianca regulate Shijiazhuang, charlie Tangshan, diana supervises Hebei.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from enterprises import services as registry
from enterprises.models import NeedRequest
from portal.dates import ENTERED_LATER_DAYS
from portal.models import ServiceArea

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


def days_ago(n: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=n)


def paper_need(user, firm, received_on) -> NeedRequest:
    return registry.need_submit(user=user, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                                title="压力表校准", description="纸质需求表", received_on=received_on)


def english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- the rule, at its edge -----------------------------------------------------------------------


def test_a_need_is_entered_later_only_past_the_threshold(bob, firm):
    assert not paper_need(bob, firm, days_ago(ENTERED_LATER_DAYS)).entered_later
    assert paper_need(bob, firm, days_ago(ENTERED_LATER_DAYS + 1)).entered_later


def test_a_need_submitted_online_is_not_entered_later(alice, firm):
    need = registry.need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                                title="校准", description="在线提交")
    assert not need.entered_later


# --- the page ------------------------------------------------------------------------------------


def test_the_need_page_shows_the_day_received_and_who_typed_it_in_when(client_for, settings, bob, firm):
    need = paper_need(bob, firm, days_ago(30))
    html = english(client_for(bob), settings).get(reverse("needs:detail", args=[need.pk])).content.decode()
    assert "Received on" in html and days_ago(30).isoformat() in html
    assert 'data-testid="entered-later"' in html
    entered = timezone.localtime(need.created_at)
    assert f"{entered:%Y-%m-%d %H:%M} by 王建国" in html


def test_the_owner_sees_the_same_on_her_need(client_for, settings, alice, bob, firm):
    need = paper_need(bob, firm, days_ago(30))
    html = english(client_for(alice), settings).get(reverse("needs:detail", args=[need.pk])).content.decode()
    assert 'data-testid="entered-later"' in html and "by 王建国" in html


def test_a_regulator_enters_a_paper_need_from_the_firms_page(client_for, settings, bob, firm):
    client = english(client_for(bob), settings)
    firm_page = client.get(reverse("enterprises:detail", args=[firm.pk])).content.decode()
    assert 'data-testid="enter-paper-need"' in firm_page
    url = reverse("enterprises:need-enter", args=[firm.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"service_area": 2, "title": "压力表校准", "description": "电话反映",
                                 "urgency": "normal", "received_on": days_ago(20).isoformat()})
    assert response.status_code == 302
    need = NeedRequest.objects.get()
    assert (need.enterprise, need.submitted_by, timezone.localdate(need.submitted_at)) == (firm, bob, days_ago(20))
    assert need.entered_later


@pytest.mark.parametrize(("received_on", "message"), [
    (lambda: (TODAY() + datetime.timedelta(days=1)).isoformat(), "A need cannot be received on a future date."),
    (lambda: "", "This field is required."),
    (lambda: "2026-13-40", "Enter a valid date."),
])
def test_a_bad_received_day_is_refused_on_its_field_and_nothing_saved(client_for, settings, bob, firm,
                                                                      received_on, message):
    response = english(client_for(bob), settings).post(reverse("enterprises:need-enter", args=[firm.pk]), {
        "service_area": 2, "title": "校准", "description": "x", "urgency": "normal", "received_on": received_on()})
    assert response.status_code == 400
    assert response.context["form"].errors == {"received_on": [message]}
    assert not NeedRequest.objects.exists()


@pytest.mark.parametrize(("who", "code"), [("bob", 200), ("bianca", 200), ("charlie", 404), ("diana", 403),
                                           ("alice", 403), ("erin", 403)])
def test_who_may_open_the_paper_need_form(client_for, persona, firm, who, code):
    assert client_for(persona(who)).get(reverse("enterprises:need-enter", args=[firm.pk])).status_code == code


def test_anonymous_visitors_are_sent_to_sign_in(client, firm):
    response = client.get(reverse("enterprises:need-enter", args=[firm.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


# --- the API -------------------------------------------------------------------------------------


def test_the_api_shows_the_day_received_when_entered_and_by_whom(api, bob, firm):
    need = paper_need(bob, firm, days_ago(30))
    row = api(bob).get(reverse("api:need-list")).json()["results"][0]
    assert row["submitted_at"].startswith(days_ago(30).isoformat())
    assert row["entered_at"].startswith(TODAY().isoformat()) and row["entered_later"] is True
    assert row["submitted_by"] == str(bob)
    detail = api(bob).get(reverse("api:need-detail", args=[need.pk])).json()
    assert detail["submitted_by"] == str(bob) and detail["entered_later"] is True


def payload(firm, **extra) -> dict:
    return {"enterprise": firm.pk, "service_area": 2, "title": "校准", "description": "纸质需求表", **extra}


@pytest.mark.parametrize(("who", "code"), [("bob", 201), ("bianca", 201), ("charlie", 400), ("diana", 403),
                                           ("anonymous", 403)])
def test_who_may_enter_a_paper_need_through_the_api(api, persona, firm, who, code):
    response = api(persona(who)).post(reverse("api:need-list"),
                                      payload(firm, received_on=days_ago(10).isoformat()), format="multipart")
    assert response.status_code == code
    if who == "charlie":  # the firm is out of sight: "does not exist", on its field
        assert "enterprise" in response.json()
    assert NeedRequest.objects.exists() == (code == 201)


def test_the_api_takes_the_received_day_and_refuses_a_future_one_per_field(api, bob, firm):
    url = reverse("api:need-list")
    future = (TODAY() + datetime.timedelta(days=1)).isoformat()
    response = api(bob).post(url, payload(firm, received_on=future), format="multipart")
    assert response.status_code == 400 and "received_on" in response.json()
    response = api(bob).post(url, payload(firm, received_on="not-a-day"), format="multipart")
    assert response.status_code == 400 and "received_on" in response.json()
    assert not NeedRequest.objects.exists()
    response = api(bob).post(url, payload(firm, received_on=days_ago(10).isoformat()), format="multipart",
                             HTTP_IDEMPOTENCY_KEY="paper-need-0001")
    assert response.status_code == 201
    assert response.json()["submitted_at"].startswith(days_ago(10).isoformat())
    assert response.json()["entered_later"] is True
    again = api(bob).post(url, payload(firm, received_on=days_ago(10).isoformat()), format="multipart",
                          HTTP_IDEMPOTENCY_KEY="paper-need-0001")
    assert again.status_code == 201 and NeedRequest.objects.count() == 1


def test_a_regulator_without_a_received_day_does_not_submit_for_the_firm(api, bob, firm):
    assert api(bob).post(reverse("api:need-list"), payload(firm), format="multipart").status_code == 403
    assert not NeedRequest.objects.exists()
