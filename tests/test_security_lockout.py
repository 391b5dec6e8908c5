"""Sign-in lockout on the form, Django admin and API basic authentication; API rate limits; the
administrators' lockout page."""

import base64

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from rest_framework.test import APIClient

from portal.security.models import SecurityEvent

LIMIT = 5
ADDRESS_LIMIT = 8


@pytest.fixture(autouse=True)
def lockout_settings(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_ADDRESS_FAILURE_LIMIT = ADDRESS_LIMIT


def sign_in(client, username: str, password: str, url_name: str = "login", address: str = "10.1.1.1"):
    return client.post(reverse(url_name), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def basic(username: str, password: str) -> APIClient:
    api = APIClient(REMOTE_ADDR="10.1.1.1")
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{username}:{password}".encode()).decode())
    return api


def test_thirty_wrong_passwords_then_the_right_one_does_not_sign_in(client, bob):
    for _ in range(30):
        sign_in(client, "bob", "wrong")
    response = sign_in(client, "bob", "pw")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "登录失败次数过多" in page and "15 分钟后" in page  # the time to wait, in Chinese
    assert response["Retry-After"] == str(15 * 60)


def test_the_lockout_starts_at_the_configured_number_of_failures(client, bob):
    for _ in range(LIMIT - 1):
        assert sign_in(client, "bob", "wrong").status_code == 200
    assert sign_in(client, "bob", "pw").status_code == 302  # one short of the limit: still signs in
    client.logout()
    for _ in range(LIMIT):
        sign_in(client, "bob", "wrong")
    assert sign_in(client, "bob", "pw").status_code == 429


def test_an_account_is_locked_whatever_the_address_and_an_address_whatever_the_account(client, bob, bianca):
    for n in range(LIMIT):
        sign_in(client, "bob", "wrong", address=f"10.2.0.{n}")
    assert sign_in(client, "bob", "pw", address="10.9.9.9").status_code == 429
    for n in range(LIMIT + 1):
        sign_in(client, f"nobody{n}", "wrong", address="10.3.3.3")
    # Colleagues behind one address: more failures than one account's limit do not lock them all out.
    assert sign_in(client, "bianca", "pw", address="10.3.3.3").status_code == 302
    client.logout()
    for n in range(ADDRESS_LIMIT):
        sign_in(client, f"nobody{n}", "wrong", address="10.3.3.3")
    assert sign_in(client, "bianca", "pw", address="10.3.3.3").status_code == 429
    assert sign_in(client, "bianca", "pw", address="10.4.4.4").status_code == 302


def test_signing_in_from_the_same_address_does_not_clear_another_accounts_lockout(client, bob, bianca):
    for _ in range(LIMIT):
        sign_in(client, "bob", "wrong")
    assert sign_in(client, "bianca", "pw").status_code == 302
    client.logout()
    assert sign_in(client, "bob", "pw").status_code == 429


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_lockout(client, bianca):
    for n in range(ADDRESS_LIMIT):
        client.post(reverse("login"), {"username": f"x{n}", "password": "wrong"}, REMOTE_ADDR="10.5.5.5",
                    HTTP_X_FORWARDED_FOR=f"1.2.3.{n}")
    response = client.post(reverse("login"), {"username": "bianca", "password": "pw"}, REMOTE_ADDR="10.5.5.5",
                           HTTP_X_FORWARDED_FOR="9.9.9.9")
    assert response.status_code == 429


def test_django_admin_sign_in_is_locked_out_too(client, admin_user):
    for _ in range(30):
        sign_in(client, "admin", "wrong", url_name="admin:login")
    response = sign_in(client, "admin", "pw", url_name="admin:login")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_api_basic_authentication_is_locked_out_too(bob):
    for _ in range(30):
        assert basic("bob", "wrong").get(reverse("api:me")).status_code in (401, 403, 429)
    response = basic("bob", "pw").get(reverse("api:me"))
    assert response.status_code in (403, 429)
    assert "username" not in response.json()


def test_english_readers_get_the_message_in_english(client, bob):
    client.cookies["django_language"] = "en"
    for _ in range(LIMIT):
        sign_in(client, "bob", "wrong")
    assert "Try again in 15 minutes" in sign_in(client, "bob", "pw").content.decode()


def test_failures_and_the_lockout_are_security_events(client, bob):
    for _ in range(LIMIT):
        sign_in(client, "bob", "wrong")
    sign_in(client, "bob", "pw")
    kinds = list(SecurityEvent.objects.filter(username="bob").values_list("kind", flat=True))
    assert kinds.count(SecurityEvent.Kind.SIGN_IN_FAILED) >= LIMIT
    assert SecurityEvent.Kind.LOCKED_OUT in kinds
    assert SecurityEvent.Kind.SIGN_IN not in kinds
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT).first()
    assert (event.user, event.ip_address) == (bob, "10.1.1.1")


# --- API rate limits ------------------------------------------------------------------------------

def test_two_hundred_back_to_back_api_calls_meet_a_429(settings, api_for, bob):
    from django.core.cache import cache

    settings.API_THROTTLE_RATES = {"user": "120/minute", "anon": "30/minute"}
    cache.delete(f"throttle_user_{bob.pk}")  # a shared cache (Redis on CI) may remember an earlier run
    api = api_for(bob)
    codes = [api.get(reverse("api:me")).status_code for _ in range(200)]
    assert codes[:120] == [200] * 120
    assert codes[120:] == [429] * 80


# --- The administrators' page -------------------------------------------------------------------

@pytest.fixture
def locked_bob(client, bob):
    for _ in range(LIMIT):
        sign_in(client, "bob", "wrong")
    client.logout()
    return bob


@pytest.mark.parametrize(("who", "status"), [("admin_user", 200), ("bob", 403), ("diana", 403), ("alice", 403),
                                              ("erin", 403)])
def test_only_administrators_see_the_lockout_page(client_for, request, locked_bob, who, status):
    response = client_for(request.getfixturevalue(who)).get(reverse("security:lockouts"))
    assert response.status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(db, client_for):
    response = client_for(None).get(reverse("security:lockouts"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_administrator_lifts_a_lockout(client_for, locked_bob, admin_user, client):
    page = client_for(admin_user).get(reverse("security:lockouts"))
    assert "bob" in page.content.decode()
    attempt = AccessAttempt.objects.get(username="bob")
    response = client_for(admin_user).post(reverse("security:lockout-lift", args=[attempt.pk]))
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="bob").exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOCKOUT_LIFTED)
    assert (event.user, event.actor) == (locked_bob, admin_user)
    client.logout()
    assert sign_in(client, "bob", "pw").status_code == 302


def test_only_administrators_lift_a_lockout_and_only_by_post(client_for, locked_bob, diana, admin_user):
    attempt = AccessAttempt.objects.get(username="bob")
    assert client_for(diana).post(reverse("security:lockout-lift", args=[attempt.pk])).status_code == 403
    assert client_for(admin_user).get(reverse("security:lockout-lift", args=[attempt.pk])).status_code == 405
    assert client_for(admin_user).post(reverse("security:lockout-lift", args=[attempt.pk + 999])).status_code == 404
    assert AccessAttempt.objects.filter(username="bob").exists()
