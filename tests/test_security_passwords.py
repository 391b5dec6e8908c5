"""Password policy from settings: length, character classes, no reuse of the last few, expiry for staff."""

import datetime

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from portal.security.models import PasswordRecord


def messages_for(password: str, user=None) -> list[str]:
    with translation.override("zh-hans"):
        try:
            validate_password(password, user)
        except ValidationError as error:
            return error.messages
    return []


def test_a_short_password_is_refused_in_chinese(db):
    assert any("至少" in message and "10" in message for message in messages_for("Ab#1x"))


def test_a_password_of_one_character_class_is_refused(db):
    assert any("小写字母" in message for message in messages_for("zhiliangbangfu"))
    assert messages_for("Zhiliang#bangfu") == []


def test_the_policy_comes_from_settings(settings, db):
    settings.PASSWORD_MIN_LENGTH = 16
    settings.PASSWORD_MIN_CLASSES = 4
    assert len(messages_for("Zhiliang#bangfu")) == 2
    assert messages_for("Zhiliang#bangfu2026") == []


def test_the_last_passwords_cannot_be_used_again(bob):
    passwords = ["Zhiliang#2026a", "Zhiliang#2026b", "Zhiliang#2026c"]
    for password in passwords:
        bob.set_password(password)
        bob.save()
    for password in passwords:
        assert any("最近" in message for message in messages_for(password, bob)), password
    assert messages_for("Zhiliang#2026d", bob) == []
    assert PasswordRecord.objects.filter(user=bob).count() == 3


def test_only_the_configured_number_of_passwords_is_kept(settings, bob):
    settings.PASSWORD_HISTORY = 2
    for n in range(4):
        bob.set_password(f"Zhiliang#2026{n}")
        bob.save()
    assert PasswordRecord.objects.filter(user=bob).count() == 2
    assert messages_for("Zhiliang#20260", bob) == []


def test_the_password_change_page_enforces_the_policy(client_for, bob):
    response = client_for(bob).post(reverse("password_change"), {
        "old_password": "pw", "new_password1": "abcdefghij", "new_password2": "abcdefghij"})
    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]


@pytest.fixture
def expiring(settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90


def test_staff_with_an_expired_password_must_change_it_first(expiring, bob):
    PasswordRecord.objects.create(user=bob, password=bob.password,
                                  changed_at=timezone.now() - datetime.timedelta(days=91))
    client = Client()
    client.post(reverse("login"), {"username": "bob", "password": "pw"})
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("password_change"))
    assert client.get(reverse("password_change")).status_code == 200
    client.post(reverse("password_change"), {
        "old_password": "pw", "new_password1": "Zhiliang#2026x", "new_password2": "Zhiliang#2026x"})
    assert client.get(reverse("cases:list")).status_code == 200


def test_passwords_of_sme_users_do_not_expire(expiring, alice):
    alice.date_joined = timezone.now() - datetime.timedelta(days=400)
    alice.save()
    client = Client()
    client.post(reverse("login"), {"username": "alice", "password": "pw"})
    assert client.get(reverse("home")).status_code == 200
