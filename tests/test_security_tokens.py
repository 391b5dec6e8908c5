"""API tokens for integrations: stored hashed, expiring, listed and revoked by their owner; basic
authentication off in production."""

import base64
import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from portal.security.models import ApiToken, SecurityEvent
from portal.security.tokens import token_create


def with_token(secret: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return api


def test_a_regulator_creates_a_token_that_is_shown_once_and_stored_hashed(api_for, bob):
    response = api_for(bob).post(reverse("api:token-list"), {"name": "市局数据中心", "days": 30}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["token"]
    stored = ApiToken.objects.get()
    assert secret.startswith(stored.prefix + ".") and len(secret) > 40
    assert secret not in (stored.digest, stored.prefix)
    assert (stored.expires_at - timezone.now()).days in (29, 30)
    assert "token" not in api_for(bob).get(reverse("api:token-detail", args=[stored.pk])).json()
    assert with_token(secret).get(reverse("api:me")).json()["username"] == "bob"
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_CREATED, user=bob).exists()


def test_a_token_cannot_be_looked_up_in_the_database_by_its_secret(bob):
    _token, secret = token_create(user=bob, name="对接")
    assert not ApiToken.objects.filter(digest=secret).exists()
    assert not ApiToken.objects.filter(prefix=secret).exists()


def test_an_expired_or_revoked_token_is_refused(bob, api_for):
    token, secret = token_create(user=bob, name="对接")
    assert with_token(secret).get(reverse("api:me")).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert with_token(secret).get(reverse("api:me")).status_code in (401, 403)
    token2, secret2 = token_create(user=bob, name="对接2")
    assert api_for(bob).delete(reverse("api:token-detail", args=[token2.pk])).status_code == 204
    assert with_token(secret2).get(reverse("api:me")).status_code in (401, 403)
    token2.refresh_from_db()
    assert token2.revoked_at is not None  # kept, marked revoked
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOKEN_REVOKED, user=bob).count() == 1


def test_a_token_of_a_deactivated_account_is_refused(bob):
    _token, secret = token_create(user=bob, name="对接")
    bob.is_active = False
    bob.save()
    assert with_token(secret).get(reverse("api:me")).status_code in (401, 403)


def test_a_token_cannot_create_another(bob):
    _token, secret = token_create(user=bob, name="对接")
    assert with_token(secret).post(reverse("api:token-list"), {"name": "x"}, format="json").status_code == 403


def test_owners_list_and_revoke_their_own_tokens_only(api_for, bob, bianca):
    mine, _ = token_create(user=bob, name="mine")
    theirs, _ = token_create(user=bianca, name="theirs")
    listed = api_for(bob).get(reverse("api:token-list")).json()["results"]
    assert [row["name"] for row in listed] == ["mine"]
    assert api_for(bob).get(reverse("api:token-detail", args=[theirs.pk])).status_code == 404
    assert api_for(bob).delete(reverse("api:token-detail", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


@pytest.mark.parametrize(("who", "status"), [("bob", 200), ("diana", 200), ("admin_user", 200), ("alice", 403),
                                              ("erin", 403), (None, 403)])
def test_the_token_endpoint_access_matrix(api_for, request, who, status):
    user = request.getfixturevalue(who) if who else None
    assert api_for(user).get(reverse("api:token-list")).status_code == status


def test_the_token_page_creates_lists_and_revokes(client_for, bob):
    client = client_for(bob)
    response = client.post(reverse("security:tokens"), {"name": "统计报送", "days": 7})
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret and secret in response.content.decode()
    token = ApiToken.objects.get()
    assert client.get(reverse("security:tokens")).content.decode().count(secret) == 0
    assert client.post(reverse("security:token-revoke", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None


@pytest.mark.parametrize(("who", "status"), [("bob", 200), ("alice", 403), ("erin", 403)])
def test_the_token_page_access_matrix(client_for, request, who, status):
    assert client_for(request.getfixturevalue(who)).get(reverse("security:tokens")).status_code == status


def test_another_users_token_cannot_be_revoked_from_the_page(client_for, bob, bianca):
    theirs, _ = token_create(user=bianca, name="theirs")
    assert client_for(bob).post(reverse("security:token-revoke", args=[theirs.pk])).status_code == 404


@pytest.mark.parametrize("count", [1, 6])
def test_the_token_list_costs_the_same_queries_for_few_and_many(api_for, bob, count, django_assert_num_queries):
    for n in range(count):
        token_create(user=bob, name=f"c{n}")
    api = api_for(bob)
    # COUNT for the page, then the page of tokens: the owner comes from the request.
    with django_assert_num_queries(2):
        assert len(api.get(reverse("api:token-list")).json()["results"]) == count


def test_basic_authentication_is_off_in_production(settings, bob):
    settings.API_BASIC_AUTH = False
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(b"bob:pw").decode())
    assert api.get(reverse("api:me")).status_code == 403


def test_basic_authentication_defaults_to_off_without_debug():
    import subprocess
    import sys

    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='portal.settings'; django.setup(); "
            "from django.conf import settings; print(settings.API_BASIC_AUTH)")
    env = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
