"""The rules of portal/idempotency.py read directly: which keys are accepted, what is stored, what a
repeat gets, what a refused first attempt leaves, and which requests count as the same."""

import datetime
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.utils import timezone, translation

from portal import idempotency
from portal.idempotency import KeyProblem, canonical, fingerprint, forget_old, once
from portal.models import IdempotencyKey

pytestmark = pytest.mark.django_db

MALFORMED = "An idempotency key has 8 to 128 letters, digits or . _ : - characters."
OTHER_REQUEST = "This idempotency key was already used for a different request."
STILL_HANDLED = "A request with this idempotency key is still being handled."


class Calls:
    """A request handler that counts its runs and answers what it is told."""

    def __init__(self, status=201, body="made", location=""):
        self.runs, self.status, self.body, self.location = 0, status, body, location

    def run(self):
        self.runs += 1
        return SimpleNamespace(status=self.status, body=f"{self.body}-{self.runs}", location=self.location)

    @staticmethod
    def answer(response):
        return response.status, response.body, response.location

    @staticmethod
    def replay(row):
        return SimpleNamespace(status=row.status_code, body=row.body, location=row.location, replayed=True)


def call(user, calls, key="key-0001", fp="fp-1"):
    return once(user=user, key=key, request_fingerprint=fp, run=calls.run, answer=calls.answer, replay=calls.replay)


@pytest.mark.parametrize("key", ["a" * 8, "A" * 128, "k.e_y:1-2", "12345678"])
def test_keys_of_8_to_128_allowed_characters_are_accepted(bob, key):
    assert call(bob, Calls(), key=key).status == 201


@pytest.mark.parametrize("key", ["a" * 7, "a" * 129, "key 0001", "key/0001", "ключ-0001", "key-0001\n", ""])
def test_other_keys_are_refused_with_400_and_nothing_runs(bob, key):
    calls = Calls()
    with pytest.raises(KeyProblem) as problem:
        call(bob, calls, key=key)
    assert problem.value.status == 400
    assert calls.runs == 0 and not IdempotencyKey.objects.exists()


def test_each_refusal_says_why(bob):
    calls = Calls()
    call(bob, calls)
    IdempotencyKey.objects.create(user=bob, key="key-0002", fingerprint="fp-1")  # no answer stored yet
    refusals = {"short": MALFORMED, "key-0001": OTHER_REQUEST, "key-0002": STILL_HANDLED}
    for key, message in refusals.items():
        with translation.override("en"), pytest.raises(KeyProblem) as problem:
            call(bob, calls, key=key, fp="fp-1" if key == "key-0002" else "fp-2")
        assert (problem.value.message, str(problem.value)) == (message, message)


def test_the_first_answer_is_stored_and_a_repeat_replays_it_without_running(bob):
    calls = Calls(location="/cases/7/")
    first = call(bob, calls)
    row = IdempotencyKey.objects.get()
    assert (row.user, row.key, row.fingerprint) == (bob, "key-0001", "fp-1")
    assert (row.status_code, row.body, row.location) == (201, "made-1", "/cases/7/")
    again = call(bob, calls)
    assert calls.runs == 1
    assert (again.status, again.body, again.location, again.replayed) == (201, "made-1", "/cases/7/", True)
    assert not hasattr(first, "replayed")


def test_the_same_key_with_another_request_is_refused_with_422(bob):
    calls = Calls()
    call(bob, calls)
    with pytest.raises(KeyProblem) as problem:
        call(bob, calls, fp="fp-2")
    assert problem.value.status == 422 and calls.runs == 1


def test_a_key_still_being_handled_answers_409(bob):
    IdempotencyKey.objects.create(user=bob, key="key-0001", fingerprint="fp-1")  # no answer stored yet
    calls = Calls()
    with pytest.raises(KeyProblem) as problem:
        call(bob, calls)
    assert problem.value.status == 409 and calls.runs == 0


def test_a_repeat_replays_its_own_users_answer_when_another_user_took_the_same_key_first(bob, bianca):
    call(bianca, Calls(body="bianca's"), fp="fp-bianca")
    bobs = Calls(body="bob's")
    call(bob, bobs, fp="fp-bob")
    again = call(bob, bobs, fp="fp-bob")
    assert (again.body, again.replayed, bobs.runs) == ("bob's-1", True, 1)


def test_keys_belong_to_their_user(bob, bianca):
    calls = Calls()
    call(bob, calls)
    assert call(bianca, calls).body == "made-2"
    assert calls.runs == 2 and IdempotencyKey.objects.count() == 2


@pytest.mark.parametrize("status", [400, 403, 404, 409, 422, 500])
def test_a_refused_first_attempt_keeps_no_key_and_the_retry_runs(bob, status):
    refused = Calls(status=status)
    assert call(bob, refused).status == status
    assert not IdempotencyKey.objects.exists()
    accepted = Calls(status=201)
    assert call(bob, accepted).status == 201 and accepted.runs == 1
    assert IdempotencyKey.objects.get().status_code == 201


@pytest.mark.parametrize("status", [200, 201, 302, 399])
def test_an_answer_below_400_is_kept(bob, status):
    call(bob, Calls(status=status))
    assert IdempotencyKey.objects.get().status_code == status


def test_writes_of_a_refused_attempt_are_rolled_back_with_it(bob):
    from portal.models import OutboxEntry

    def run():
        OutboxEntry.objects.create(topic="test-topic", payload={})
        return SimpleNamespace(status=400, body="", location="")

    once(user=bob, key="key-0001", request_fingerprint="fp", run=run, answer=Calls.answer, replay=Calls.replay)
    assert not OutboxEntry.objects.filter(topic="test-topic").exists()


def test_a_first_attempt_that_vanished_meanwhile_is_retried_as_the_first(bob, monkeypatch):
    """The repeat's insert collides, but the first rolls back before the repeat reads the row."""
    real_create = IdempotencyKey.objects.create
    collisions = []

    def create(**fields):
        if not collisions:
            collisions.append(1)
            from django.db import IntegrityError

            raise IntegrityError("the first attempt holds the key")
        return real_create(**fields)

    monkeypatch.setattr(IdempotencyKey.objects, "create", create)
    calls = Calls()
    assert call(bob, calls).status == 201 and calls.runs == 1


def test_a_key_that_never_frees_gives_up_with_409_after_three_tries(bob, monkeypatch):
    from django.db import IntegrityError

    tries = []

    def create(**fields):
        tries.append(fields)
        raise IntegrityError("held")

    monkeypatch.setattr(IdempotencyKey.objects, "create", create)
    calls = Calls()
    with translation.override("en"), pytest.raises(KeyProblem) as problem:
        call(bob, calls)
    assert (problem.value.status, problem.value.message) == (409, STILL_HANDLED) and calls.runs == 0
    assert tries == [{"user": bob, "key": "key-0001", "fingerprint": "fp-1"}] * 3


def test_fingerprints_tell_method_path_and_body_apart():
    base = fingerprint("POST", "/api/visits/", b'{"a": 1}')
    assert base == fingerprint("POST", "/api/visits/", b'{"a": 1}')
    assert len(base) == 64
    others = {fingerprint("PUT", "/api/visits/", b'{"a": 1}'), fingerprint("POST", "/api/cases/", b'{"a": 1}'),
              fingerprint("POST", "/api/visits/", b'{"a": 2}'), fingerprint("POST", "/api/visits/{", b'"a": 1}')}
    assert base not in others and len(others) == 4


def test_a_fingerprint_is_the_digest_of_method_path_and_body_separated_by_nul_bytes():
    """Keys outlive a restart or an upgrade (KEEP): a retry that straddles one must still match the
    fingerprint stored before it, so the recipe is fixed."""
    import hashlib

    assert fingerprint("POST", "/api/visits/", b'{"a": 1}') == hashlib.sha256(
        b'POST\0/api/visits/\0{"a": 1}').hexdigest()


def test_canonical_data_is_equal_for_equal_requests_in_any_order():
    assert canonical({"b": 1, "a": "质量"}) == canonical({"a": "质量", "b": 1})
    assert canonical({"a": "质量"}) == '{"a": "质量"}'.encode()
    assert canonical({"a": datetime.date(2026, 1, 2)}) == b'{"a": "2026-01-02"}'
    form = QueryDict("b=2&a=1&a=3")
    assert canonical(form) == b'{"a": ["1", "3"], "b": ["2"]}'


def test_canonical_data_names_files_by_name_and_size():
    from django.utils.datastructures import MultiValueDict

    files = MultiValueDict({"photo": [SimpleUploadedFile("现场.jpg", b"12345")]})
    assert canonical(files) == '{"photo": ["现场.jpg:5"]}'.encode()


def test_old_keys_are_forgotten_and_recent_ones_kept(bob):
    old = IdempotencyKey.objects.create(user=bob, key="old-00001", fingerprint="f",
                                        created_at=timezone.now() - idempotency.KEEP - datetime.timedelta(minutes=1))
    recent = IdempotencyKey.objects.create(user=bob, key="new-00001", fingerprint="f",
                                           created_at=timezone.now() - idempotency.KEEP + datetime.timedelta(minutes=1))
    assert forget_old() == 1
    assert list(IdempotencyKey.objects.all()) == [recent] and old.pk not in IdempotencyKey.objects.values("pk")
