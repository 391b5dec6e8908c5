"""Sessions end at browser close, after 30 idle minutes and 12 hours after sign-in; a password
change ends the user's other sessions."""

import time

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client
from django.urls import reverse

from portal.security.models import SecurityEvent
from portal.security.sessions import LAST_SEEN, STARTED


def signed_in(user, password: str = "pw") -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.username, "password": password}).status_code == 302
    return client


def shift_session(client: Client, **seconds_ago: float) -> None:
    """Move the session's clocks back, as if that much time had passed."""
    session = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    now = time.time()
    if "last_seen" in seconds_ago:
        session[LAST_SEEN] = now - seconds_ago["last_seen"]
    if "started" in seconds_ago:
        session[STARTED] = now - seconds_ago["started"]
    session.save()


def test_the_defaults_are_thirty_idle_minutes_and_twelve_hours():
    assert settings.SESSION_IDLE_SECONDS == 30 * 60
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


def test_the_session_cookie_ends_when_the_browser_closes(bob):
    client = Client()
    response = client.post(reverse("login"), {"username": "bob", "password": "pw"})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert cookie["httponly"]


def test_a_session_idle_for_thirty_minutes_is_signed_out(bob):
    client = signed_in(bob)
    shift_session(client, last_seen=29 * 60)
    assert client.get(reverse("home")).status_code == 200
    shift_session(client, last_seen=31 * 60)
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert "30 分钟" in page  # says why, in Chinese
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SESSION_EXPIRED)
    assert (event.user, event.detail) == (bob, "idle")


def test_activity_keeps_a_session_but_not_past_twelve_hours(bob):
    client = signed_in(bob)
    shift_session(client, started=11 * 3600, last_seen=60)
    assert client.get(reverse("home")).status_code == 200
    shift_session(client, started=12 * 3600 + 60, last_seen=60)
    assert client.get(reverse("home")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_api_answers_an_idle_session_as_signed_out(bob):
    client = signed_in(bob)
    assert client.get(reverse("api:me")).status_code == 200
    shift_session(client, last_seen=31 * 60)
    assert client.get(reverse("api:me")).status_code == 403


@pytest.mark.parametrize("minutes", [5])
def test_the_idle_time_comes_from_settings(settings, bob, minutes):
    settings.SESSION_IDLE_SECONDS = minutes * 60
    client = signed_in(bob)
    shift_session(client, last_seen=minutes * 60 + 1)
    assert client.get(reverse("home")).status_code == 302


def test_a_password_change_ends_the_users_other_sessions(bob, bianca):
    desk, phone, colleague = signed_in(bob), signed_in(bob), signed_in(bianca)
    response = desk.post(reverse("password_change"), {
        "old_password": "pw", "new_password1": "Zhiliang#2026x", "new_password2": "Zhiliang#2026x"})
    assert response.status_code == 302, response.context["form"].errors
    assert desk.get(reverse("home")).status_code == 200  # the session that changed it stays
    assert phone.get(reverse("home")).status_code == 302  # the other one is over
    assert colleague.get(reverse("home")).status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.PASSWORD_CHANGED, user=bob).count() == 1


def test_signing_in_and_out_are_security_events(bob):
    client = signed_in(bob)
    client.post(reverse("logout"))
    kinds = list(SecurityEvent.objects.filter(user=bob).order_by("at", "id").values_list("kind", flat=True))
    assert kinds == [SecurityEvent.Kind.SIGN_IN, SecurityEvent.Kind.SIGN_OUT]
