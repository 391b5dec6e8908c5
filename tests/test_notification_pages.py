"""The inbox, the bell, opening a notification, marking all read and the preferences page; and
/api/notifications/. Everyone reads only their own notifications: anyone else's answers 404."""

import pytest
from django.urls import reverse

from portal.models import User
from portal.notifications.models import Notification, NotificationPreference
from portal.notifications.services import notify
from tests.factories import UserFactory


def tell(user, kind="claim_confirmed", link="/cases/", **params):
    params = params or {"enterprise": "石家庄恒泰食品有限公司"}
    [note] = notify([user], kind, params=params, link=link)
    return note


@pytest.fixture
def notes(alice):
    return [tell(alice), tell(alice, "need_declined", link="/needs/1/", need="压力表校准", reason="重复")]


class TestInbox:
    def test_the_inbox_lists_the_users_own_notifications_newest_first_with_unread_marked(self, client_for, alice,
                                                                                         bob, notes):
        tell(bob)
        notes[0].read_at = notes[0].created_at
        notes[0].save()
        response = client_for(alice).get(reverse("notifications:inbox"))
        assert response.status_code == 200
        assert [note.pk for note in response.context["notifications"]] == [notes[1].pk, notes[0].pk]
        html = response.content.decode()
        assert html.count('data-unread="1"') == 1 and html.count('data-unread="0"') == 1
        assert response.context["unread"] == 1

    def test_the_inbox_filters_by_kind_and_unread(self, client_for, alice, notes):
        client = client_for(alice)
        by_kind = client.get(reverse("notifications:inbox"), {"kind": "need_declined"})
        assert [note.pk for note in by_kind.context["notifications"]] == [notes[1].pk]
        Notification.objects.filter(pk=notes[1].pk).update(read_at=notes[1].created_at)
        unread = client.get(reverse("notifications:inbox"), {"unread": "true"})
        assert [note.pk for note in unread.context["notifications"]] == [notes[0].pk]

    def test_an_unknown_kind_in_the_filter_gives_an_empty_list_not_an_error(self, client_for, alice, notes):
        response = client_for(alice).get(reverse("notifications:inbox"), {"kind": "<script>", "page": "x"})
        assert response.status_code == 200

    def test_anonymous_users_are_sent_to_sign_in(self, client):
        for name in ("notifications:inbox", "notifications:bell", "notifications:preferences"):
            response = client.get(reverse(name))
            assert response.status_code == 302 and response.url.startswith(reverse("login"))

    @pytest.mark.parametrize("per_page", [25, 50])
    def test_the_inbox_costs_the_same_at_any_page_size(self, client_for, alice, per_page, django_assert_num_queries):
        for number in range(55):
            tell(alice, enterprise=f"企业{number}")
        client = client_for(alice)
        # session, user, the count, one page of notifications, the unread count
        with django_assert_num_queries(5):
            response = client.get(reverse("notifications:inbox"), {"per_page": per_page})
        assert len(response.context["notifications"]) == per_page


class TestBellAndOpening:
    def test_the_bell_shows_the_unread_count(self, client_for, alice, notes):
        response = client_for(alice).get(reverse("notifications:bell"))
        assert b'data-testid="unread-count">2<' in response.content

    def test_the_bell_of_someone_with_nothing_unread_shows_no_count(self, client_for, bob, notes):
        assert b"unread-count" not in client_for(bob).get(reverse("notifications:bell")).content

    def test_every_page_carries_the_bell_without_a_query_of_its_own(self, client_for, alice):
        html = client_for(alice).get(reverse("home")).content.decode()
        assert 'data-testid="notification-bell"' in html and reverse("notifications:bell") in html

    def test_opening_marks_read_and_goes_to_the_object(self, client_for, alice, notes):
        response = client_for(alice).get(reverse("notifications:open", args=[notes[1].pk]))
        assert response.status_code == 302 and response.url == "/needs/1/"
        notes[1].refresh_from_db()
        assert notes[1].read_at is not None

    def test_someone_elses_notification_answers_404_and_stays_unread(self, client_for, bob, charlie, diana, notes):
        for user in (bob, charlie, diana):
            response = client_for(user).get(reverse("notifications:open", args=[notes[0].pk]))
            assert response.status_code == 404
        notes[0].refresh_from_db()
        assert notes[0].read_at is None

    def test_a_link_to_another_site_is_not_followed(self, client_for, alice):
        note = tell(alice, link="https://evil.example.com/")
        response = client_for(alice).get(reverse("notifications:open", args=[note.pk]))
        assert response.url == reverse("notifications:inbox")

    def test_mark_all_read_takes_a_post_and_touches_only_the_users_own(self, client_for, alice, bob, notes):
        other = tell(bob)
        client = client_for(alice)
        assert client.get(reverse("notifications:read-all")).status_code == 405
        assert client.post(reverse("notifications:read-all")).status_code == 302
        assert not Notification.objects.filter(recipient=alice, read_at__isnull=True).exists()
        other.refresh_from_db()
        assert other.read_at is None


class TestPreferences:
    def test_the_page_offers_the_kinds_of_the_users_role(self, client_for, alice, erin):
        sme = client_for(alice).get(reverse("notifications:preferences")).context["form"]
        assert "kind_need_declined" in sme.fields and "kind_follow_up_due" not in sme.fields
        expert = client_for(erin).get(reverse("notifications:preferences")).context["form"]
        assert set(name for name in expert.fields if name.startswith("kind_")) == {"kind_expert_assigned",
                                                                                   "kind_expert_released"}

    def test_a_supervisor_is_offered_no_kind_but_may_set_the_language(self, client_for, diana):
        client = client_for(diana)
        form = client.get(reverse("notifications:preferences")).context["form"]
        assert not [name for name in form.fields if name.startswith("kind_")]
        assert client.post(reverse("notifications:preferences"), {"language": "en"}).status_code == 302
        diana.refresh_from_db()
        assert diana.language == "en"

    def test_saving_keeps_each_choice_and_the_language(self, client_for, erin):
        response = client_for(erin).post(reverse("notifications:preferences"), {
            "language": "en", "kind_expert_assigned": "digest", "kind_expert_released": "off"})
        assert response.status_code == 302
        erin.refresh_from_db()
        assert erin.language == "en"
        assert dict(NotificationPreference.objects.filter(user=erin).values_list("kind", "email")) == {
            "expert_assigned": "digest", "expert_released": "off"}

    def test_a_bad_choice_is_refused_with_a_message_and_nothing_saved(self, client_for, erin):
        response = client_for(erin).post(reverse("notifications:preferences"), {
            "language": "fr", "kind_expert_assigned": "sms", "kind_expert_released": "off"})
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors["language"] and form.errors["kind_expert_assigned"]
        assert not NotificationPreference.objects.exists()


class TestApi:
    def test_the_list_holds_only_the_callers_notifications(self, api_for, alice, bob, notes):
        tell(bob)
        response = api_for(alice).get("/api/notifications/")
        assert response.status_code == 200
        assert [row["id"] for row in response.data["results"]] == [notes[1].pk, notes[0].pk]
        assert response.data["results"][0]["unread"] is True

    def test_filters_by_kind_and_unread(self, api_for, alice, notes):
        response = api_for(alice).get("/api/notifications/", {"kind": "claim_confirmed", "unread": "true"})
        assert [row["id"] for row in response.data["results"]] == [notes[0].pk]

    def test_someone_elses_notification_answers_404(self, api_for, bob, notes):
        api = api_for(bob)
        assert api.get(f"/api/notifications/{notes[0].pk}/").status_code == 404
        assert api.post(f"/api/notifications/{notes[0].pk}/read/").status_code == 404

    def test_unread_count_read_one_and_read_all(self, api_for, alice, notes):
        api = api_for(alice)
        assert api.get("/api/notifications/unread-count/").data == {"unread": 2}
        response = api.post(f"/api/notifications/{notes[0].pk}/read/")
        assert response.status_code == 200 and response.data["unread"] is False
        assert api.get("/api/notifications/unread-count/").data == {"unread": 1}
        assert api.post("/api/notifications/read-all/").data == {"marked": 1}
        assert api.get("/api/notifications/unread-count/").data == {"unread": 0}

    def test_anonymous_callers_are_refused(self, api_for, notes):
        assert api_for(None).get("/api/notifications/").status_code in (401, 403)
        assert api_for(None).get("/api/notifications/preferences/").status_code in (401, 403)

    def test_writes_on_the_list_are_not_allowed(self, api_for, alice, notes):
        assert api_for(alice).post("/api/notifications/", {}).status_code == 405
        assert api_for(alice).delete(f"/api/notifications/{notes[0].pk}/").status_code == 405

    @pytest.mark.parametrize("count", [3, 30])
    def test_the_list_costs_the_same_whatever_its_length(self, api_for, alice, count, django_assert_num_queries):
        for number in range(count):
            tell(alice, enterprise=f"企业{number}")
        api = api_for(alice)
        # the count and one page of notifications
        with django_assert_num_queries(2):
            response = api.get("/api/notifications/")
        assert response.data["count"] == count

    def test_preferences_read_and_write(self, api_for, erin):
        api = api_for(erin)
        assert {row["kind"]: row["email"] for row in api.get("/api/notifications/preferences/").data} == {
            "expert_assigned": "instant", "expert_released": "instant"}
        response = api.put("/api/notifications/preferences/", {"preferences": [
            {"kind": "expert_assigned", "email": "digest"}]}, format="json")
        assert response.status_code == 200
        assert {row["kind"]: row["email"] for row in response.data}["expert_assigned"] == "digest"

    def test_a_bad_preference_answers_400_per_field_and_saves_nothing(self, api_for, erin):
        response = api_for(erin).put("/api/notifications/preferences/", {"preferences": [
            {"kind": "expert_assigned", "email": "digest"}, {"kind": "nothing", "email": "sms"}]}, format="json")
        assert response.status_code == 400 and "preferences" in response.data
        assert not NotificationPreference.objects.exists()

    def test_the_schema_documents_the_endpoints(self, api_for, admin_user):
        paths = api_for(admin_user).get("/api/schema/", {"format": "json"}).json()["paths"]
        for path in ("/api/notifications/", "/api/notifications/unread-count/", "/api/notifications/{id}/read/",
                     "/api/notifications/read-all/", "/api/notifications/preferences/"):
            assert path in paths


def test_a_supervisor_and_an_expert_have_an_inbox_too(client_for, diana, erin):
    for user in (diana, erin, UserFactory(role=User.Role.ADMINISTRATOR)):
        tell(user)
        assert client_for(user).get(reverse("notifications:inbox")).status_code == 200
