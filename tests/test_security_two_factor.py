"""Two-factor sign-in (TOTP): required for administrators, open to every staff user, recovery codes."""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.security.models import SecurityEvent


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead):06d}"


def signed_in(user) -> Client:
    client = Client()
    assert client.post(reverse("login"), {"username": user.username, "password": "pw"}).status_code == 302
    return client


@pytest.fixture
def required(settings):
    settings.TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS = True


@pytest.fixture
def bobs_phone(bob):
    return TOTPDevice.objects.create(user=bob, name="authenticator", confirmed=True)


def test_an_administrator_without_an_authenticator_must_enrol_before_anything_else(required, admin_user):
    client = signed_in(admin_user)
    for url in (reverse("home"), reverse("admin:index"), reverse("security:events")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("security:2fa-enrol"))
    assert client.get(reverse("api:me")).status_code == 403


def test_an_administrator_enrols_with_a_code_and_gets_recovery_codes(required, admin_user):
    client = signed_in(admin_user)
    page = client.get(reverse("security:2fa-enrol"))
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.content.decode()
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    wrong = client.post(reverse("security:2fa-enrol"), {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "code" in wrong.context["form"].errors
    # django-otp makes the next try wait after a wrong code; the test does not wait.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    response = client.post(reverse("security:2fa-enrol"), {"code": code_for(device)})
    assert response.status_code == 200
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("home")).status_code == 200
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TWO_FACTOR_ENROLLED, user=admin_user).exists()


def test_a_user_with_an_authenticator_enters_a_code_after_the_password(bob, bobs_phone):
    client = signed_in(bob)
    response = client.get(reverse("cases:list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("security:2fa-verify") + "?next=%2Fcases%2F"
    assert client.get(reverse("api:me")).status_code == 403
    refused = client.post(reverse("security:2fa-verify"), {"code": "12345x"})
    assert refused.status_code == 200 and refused.context["form"].errors["code"]
    response = client.post(reverse("security:2fa-verify"), {"code": code_for(bobs_phone), "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    assert client.get(reverse("cases:list")).status_code == 200
    kinds = set(SecurityEvent.objects.filter(user=bob).values_list("kind", flat=True))
    assert {SecurityEvent.Kind.TWO_FACTOR_FAILED, SecurityEvent.Kind.TWO_FACTOR_VERIFIED} <= kinds


def test_a_code_is_not_accepted_twice(bob, bobs_phone):
    code = code_for(bobs_phone)
    first = signed_in(bob)
    assert first.post(reverse("security:2fa-verify"), {"code": code}).status_code == 302
    second = signed_in(bob)
    assert second.post(reverse("security:2fa-verify"), {"code": code}).status_code == 200


def test_a_recovery_code_signs_in_once(bob, bobs_phone):
    from portal.security.twofactor import new_recovery_codes

    codes = new_recovery_codes(bob)
    client = signed_in(bob)
    assert client.post(reverse("security:2fa-verify"), {"code": codes[0].upper()}).status_code == 302
    assert client.get(reverse("home")).status_code == 200
    again = signed_in(bob)
    assert again.post(reverse("security:2fa-verify"), {"code": codes[0]}).status_code == 200
    assert StaticDevice.objects.get(user=bob).token_set.count() == 9
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TWO_FACTOR_RECOVERY_USED).count() == 1


def test_basic_authentication_is_refused_for_accounts_with_a_second_factor(bob, bobs_phone):
    import base64

    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"bob:pw").decode())
    assert api.get(reverse("api:me")).status_code in (401, 403)


@pytest.mark.parametrize(("who", "status"), [("bob", 200), ("diana", 200), ("admin_user", 200), ("alice", 403),
                                              ("erin", 403)])
def test_every_staff_user_may_turn_it_on(client_for, request, who, status):
    assert client_for(request.getfixturevalue(who)).get(reverse("security:2fa")).status_code == status
    assert client_for(request.getfixturevalue(who)).get(reverse("security:2fa-enrol")).status_code == status


def test_anonymous_visitors_are_sent_to_sign_in(db, client_for):
    response = client_for(None).get(reverse("security:2fa-enrol"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_pages_are_in_chinese(client_for, bob):
    assert "双因素" in client_for(bob).get(reverse("security:2fa")).content.decode()


def test_an_administrator_resets_a_lost_authenticator(client_for, admin_user, bob, bobs_phone, diana):
    assert client_for(diana).post(reverse("security:2fa-reset"), {"username": "bob"}).status_code == 403
    assert TOTPDevice.objects.filter(user=bob).exists()
    response = client_for(admin_user).post(reverse("security:2fa-reset"), {"username": "bob"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=bob).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.TWO_FACTOR_RESET)
    assert (event.user, event.actor) == (bob, admin_user)
    assert signed_in(bob).get(reverse("home")).status_code == 200  # no code asked any more
