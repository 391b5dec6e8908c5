"""Creating requests are safe to repeat: the API's Idempotency-Key header and the page forms'
one-time token make a second identical request (a double tap, a retry after a time-out) get the
first answer and create nothing more, also when both arrive at once."""

import datetime
import io
import threading
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from campaigns.training.models import TrainingSession
from enterprises.models import ImportJob, NeedRequest
from portal.models import AuditEntry, IdempotencyKey, OutboxEntry, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory

TODAY = datetime.date.today


def key() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def campaign(db):
    return CampaignFactory()


@pytest.fixture
def case(bob, campaign, alice):
    return services.case_open(user=bob, campaign=campaign, enterprise=alice.enterprises.get(), title="计量帮扶")


def twice(client, url, payload, *, idempotency_key, fmt="json"):
    first = client.post(url, payload, format=fmt, HTTP_IDEMPOTENCY_KEY=idempotency_key)
    second = client.post(url, payload, format=fmt, HTTP_IDEMPOTENCY_KEY=idempotency_key)
    return first, second


def test_a_repeated_need_submission_answers_the_first_result_and_creates_one_need(api, alice):
    firm = alice.enterprises.get()
    payload = {"enterprise": firm.pk, "service_area": ServiceArea.objects.first().pk, "title": "压力表校准",
               "description": "三台压力表超期未检"}
    first, second = twice(api(alice), reverse("api:need-list"), payload, idempotency_key=key())
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
    assert NeedRequest.objects.count() == 1
    # The new need's address, the same in the replay.
    assert first["Location"] == second["Location"] == reverse("api:need-detail", args=[first.json()["id"]])


def test_a_repeated_visit_is_logged_once_and_counted_once(api, bob, case):
    payload = {"case": case.pk, "visited_on": str(TODAY() - datetime.timedelta(days=1)), "mode": "on_site",
               "hours": "2.5", "people_present": "王建国"}
    first, second = twice(api(bob), reverse("api:visit-list"), payload, idempotency_key=key())
    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert Visit.objects.count() == 1
    assert AuditEntry.objects.filter(content_type__model="visit").count() == 1
    assert OutboxEntry.objects.filter(payload__sources=["visits"]).count() == 1


def test_a_visit_with_files_sent_twice_is_logged_once(api, bob, case, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    idempotency_key = key()
    responses = []
    for _ in range(2):
        photo = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 100)
        photo.name = "gauge.png"
        payload = {"case": case.pk, "visited_on": str(TODAY()), "mode": "on_site", "hours": "1",
                   "people_present": "王建国", "attachments": [photo]}
        responses.append(api(bob).post(reverse("api:visit-list"), payload, format="multipart",
                                       HTTP_IDEMPOTENCY_KEY=idempotency_key))
    assert [r.status_code for r in responses] == [201, 201]
    assert Visit.objects.count() == 1 and Visit.objects.get().attachments.count() == 1


def test_a_repeated_case_opening_and_rating_create_one_each(api, bob, alice, campaign):
    firm = alice.enterprises.get()
    payload = {"campaign": campaign.pk, "enterprise": firm.pk, "title": "一企一策"}
    first, second = twice(api(bob), reverse("api:case-list"), payload, idempotency_key=key())
    assert (first.status_code, second.status_code) == (201, 201)
    assert AssistanceCase.objects.count() == 1
    case = AssistanceCase.objects.get()
    services.case_close(user=bob, case=case, resolution="unresolved", note="企业停产", fulfilled_needs=[])
    url = reverse("api:case-rate", kwargs={"pk": case.pk})
    first, second = twice(api(alice), url, {"score": 4, "comment": "很好"}, idempotency_key=key())
    assert first.status_code == second.status_code and first.status_code < 300
    assert CaseRating.objects.count() == 1
    # A rating has no address of its own: no Location, first time or replayed.
    assert "Location" not in first and "Location" not in second and second["Idempotent-Replayed"] == "true"


def test_a_repeated_training_session_is_recorded_once(api, bob, campaign):
    firm = EnterpriseFactory()
    payload = {"campaign": campaign.pk, "region": "130102", "topic": "ISO 9001 宣贯", "held_on": str(TODAY()),
               "organiser": "市局", "attendances": [{"enterprise": firm.pk, "persons": 3}]}
    first, second = twice(api(bob), reverse("api:training-session-list"), payload, idempotency_key=key())
    assert (first.status_code, second.status_code) == (201, 201)
    assert TrainingSession.objects.count() == 1


def test_a_key_sent_with_a_different_request_is_refused(api, alice):
    firm = alice.enterprises.get()
    area = ServiceArea.objects.first().pk
    idempotency_key = key()
    client = api(alice)
    payload = {"enterprise": firm.pk, "service_area": area, "title": "甲", "description": "甲"}
    assert client.post(reverse("api:need-list"), payload, format="json",
                       HTTP_IDEMPOTENCY_KEY=idempotency_key).status_code == 201
    other = client.post(reverse("api:need-list"), {**payload, "title": "乙"}, format="json",
                        HTTP_IDEMPOTENCY_KEY=idempotency_key)
    assert other.status_code == 422
    assert NeedRequest.objects.count() == 1


def test_a_refused_request_keeps_no_key_so_its_corrected_retry_goes_through(api, alice):
    firm = alice.enterprises.get()
    idempotency_key = key()
    client = api(alice)
    bad = {"enterprise": firm.pk, "service_area": ServiceArea.objects.first().pk, "title": "", "description": "x"}
    assert client.post(reverse("api:need-list"), bad, format="json",
                       HTTP_IDEMPOTENCY_KEY=idempotency_key).status_code == 400
    assert not IdempotencyKey.objects.exists()
    good = {**bad, "title": "压力表校准"}
    assert client.post(reverse("api:need-list"), good, format="json",
                       HTTP_IDEMPOTENCY_KEY=idempotency_key).status_code == 201


def test_keys_are_per_user_and_a_malformed_key_is_refused(api, bob, bianca, case):
    payload = {"case": case.pk, "visited_on": str(TODAY()), "mode": "remote", "hours": "1", "people_present": "王"}
    malformed = api(bob).post(reverse("api:visit-list"), payload, format="json", HTTP_IDEMPOTENCY_KEY="short")
    assert malformed.status_code == 400
    assert malformed.json() == {"detail": "An idempotency key has 8 to 128 letters, digits or . _ : - characters."}
    assert not Visit.objects.exists()
    idempotency_key = key()
    first, second = (api(user).post(reverse("api:visit-list"), payload, format="json",
                                    HTTP_IDEMPOTENCY_KEY=idempotency_key) for user in (bob, bianca))
    assert (first.status_code, second.status_code) == (201, 201) and "Idempotent-Replayed" not in second
    assert Visit.objects.count() == 2


def test_a_refused_key_says_why(api, alice):
    firm = alice.enterprises.get()
    payload = {"enterprise": firm.pk, "service_area": ServiceArea.objects.first().pk, "title": "甲",
               "description": "甲"}
    client, url, idempotency_key = api(alice), reverse("api:need-list"), key()
    client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)
    other = client.post(url, {**payload, "title": "乙"}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)
    assert (other.status_code, other.json()) == (
        422, {"detail": "This idempotency key was already used for a different request."})
    first_attempt = IdempotencyKey.objects.get()  # as if its request were still running: no answer yet
    IdempotencyKey.objects.create(user=alice, key="still-busy", fingerprint=first_attempt.fingerprint)
    busy = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="still-busy")
    assert (busy.status_code, busy.json()) == (
        409, {"detail": "A request with this idempotency key is still being handled."})
    assert NeedRequest.objects.count() == 1


def test_a_key_stored_before_a_restart_is_still_recognised(api, alice):
    """Keys are kept a day, across restarts and upgrades: the fingerprint of an API request is that
    of POST, its path and its parsed data, so a retry after an upgrade gets the stored answer."""
    from portal.idempotency import canonical, fingerprint

    firm = alice.enterprises.get()
    payload = {"enterprise": firm.pk, "service_area": ServiceArea.objects.first().pk, "title": "压力表校准",
               "description": "三台压力表超期未检"}
    url = reverse("api:need-list")
    IdempotencyKey.objects.create(user=alice, key="before-the-upgrade", status_code=201, body='{"id": 4711}',
                                  fingerprint=fingerprint("POST", url, canonical(payload)))
    retry = api(alice).post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="before-the-upgrade")
    assert (retry.status_code, retry.json(), retry["Idempotent-Replayed"]) == (201, {"id": 4711}, "true")
    assert "Location" not in retry
    assert not NeedRequest.objects.exists()


def test_a_key_on_a_request_that_is_not_a_post_changes_nothing(api, bob, case):
    client, detail, idempotency_key = api(bob), reverse("api:case-detail", args=[case.pk]), key()
    refused = client.post(detail, {}, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key)
    assert refused.status_code == 405 and refused.json() == {"detail": 'Method "POST" not allowed.'}
    for _ in range(2):
        read = client.get(detail, HTTP_IDEMPOTENCY_KEY=idempotency_key)
        assert read.status_code == 200 and read.json()["title"] == "计量帮扶"
        assert "Idempotent-Replayed" not in read
    assert not IdempotencyKey.objects.exists()


def test_without_a_key_two_posts_make_two(api, bob, case):
    payload = {"case": case.pk, "visited_on": str(TODAY()), "mode": "remote", "hours": "1", "people_present": "王"}
    client = api(bob)
    assert client.post(reverse("api:visit-list"), payload, format="json").status_code == 201
    assert client.post(reverse("api:visit-list"), payload, format="json").status_code == 201
    assert Visit.objects.count() == 2


# --- Page forms ---------------------------------------------------------------------------------------


def test_a_need_form_sent_twice_creates_one_need_and_both_land_on_it(client, alice):
    client.force_login(alice)
    page = client.get(reverse("needs:new"))
    assert b'name="once"' in page.content
    form = {"enterprise": alice.enterprises.get().pk, "service_area": ServiceArea.objects.first().pk,
            "title": "压力表校准", "description": "三台压力表超期未检", "urgency": "normal", "once": key()}
    first = client.post(reverse("needs:new"), form)
    second = client.post(reverse("needs:new"), form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert NeedRequest.objects.count() == 1


def test_a_visit_form_sent_twice_logs_one_visit(client, bob, case):
    client.force_login(bob)
    form = {"visited_on": str(TODAY()), "mode": "on_site", "hours": "2", "people_present": "王建国",
            "once": key()}
    url = reverse("cases:visit-new", args=[case.pk])
    assert client.post(url, form).status_code == 302
    assert client.post(url, form).status_code == 302
    assert Visit.objects.count() == 1


def test_an_import_sent_twice_makes_one_job(client, bob, settings, tmp_path):
    from enterprises.importing import COLUMNS
    from enterprises.uscc import generate_uscc

    settings.MEDIA_ROOT = tmp_path
    client.force_login(bob)
    header = ",".join(column.header for column in COLUMNS[:6])
    row = f"{generate_uscc('130102')},恒泰食品有限公司,130102,13,small,"
    token = key()
    for _ in range(2):
        upload = io.BytesIO(f"{header}\n{row}\n".encode())
        upload.name = "list.csv"
        response = client.post(reverse("enterprises:import"), {"file": upload, "once": token})
        assert response.status_code == 302
    assert ImportJob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_once_make_one_visit(api, needs_postgres, reference_data, bob, case):
    payload = {"case": case.pk, "visited_on": str(TODAY()), "mode": "on_site", "hours": "2",
               "people_present": "王建国"}
    idempotency_key = key()
    barrier = threading.Barrier(2)
    answers = []

    def post():
        try:
            barrier.wait()
            answers.append(api(bob).post(reverse("api:visit-list"), payload, format="json",
                                         HTTP_IDEMPOTENCY_KEY=idempotency_key).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201, 201]
    assert Visit.objects.count() == 1


def test_the_page_token_does_not_break_a_form_without_it(client, alice):
    client.force_login(alice)
    form = {"enterprise": alice.enterprises.get().pk, "service_area": ServiceArea.objects.first().pk,
            "title": "压力表校准", "description": "三台压力表超期未检", "urgency": "normal"}
    assert isinstance(client, Client)
    assert client.post(reverse("needs:new"), form).status_code == 302
    assert client.post(reverse("needs:new"), form).status_code == 302
    assert NeedRequest.objects.count() == 2
