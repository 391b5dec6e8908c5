"""Key industrial parks and key products or services: the page and the API, who may do what, bad
input, the filters, and the outbox note each write leaves for the KPI engine."""

import datetime
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from campaigns.kpis.dashboards import freshness
from enterprises.designations.filters import KeyDesignationFilterSet
from enterprises.designations.models import KeyDesignation
from enterprises.designations.services import key_designation_create
from portal.kpi_notes import TOPIC
from portal.models import OutboxEntry
from tests.factories import CampaignFactory, region

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate
LIST = "designations:list"


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def park(bob):
    """A park in Shijiazhuang's 长安区, designated by bob."""
    return key_designation_create(user=bob, name="石家庄高新区", region=region("130102"), kind="park",
                                  designated_on=TODAY() - datetime.timedelta(days=10))


@pytest.fixture
def tangshan_product(charlie):
    return key_designation_create(user=charlie, name="唐山陶瓷", region=region("130203"), kind="product",
                                  designated_on=TODAY() - datetime.timedelta(days=3))


def form_data(**overrides) -> dict:
    data = {"kind": "product", "name": "石家庄生物医药", "region": "130104",
            "designated_on": (TODAY() - datetime.timedelta(days=1)).isoformat(), "note": ""}
    data.update(overrides)
    return data


# --- the page ------------------------------------------------------------------------------------------


class TestPage:
    @pytest.mark.parametrize(("who", "code"), [("bob", 200), ("bianca", 200), ("charlie", 200), ("diana", 200),
                                               ("admin_user", 200), ("alice", 403), ("erin", 403)])
    def test_staff_read_the_list_of_their_jurisdiction_others_are_refused(self, client_for, persona, park,
                                                                          tangshan_product, who, code):
        response = client_for(persona(who)).get(reverse(LIST))
        assert response.status_code == code
        if code == 200:
            shown = {row.name for row in response.context["object_list"]}
            expected = {"bob": {park.name}, "bianca": {park.name}, "charlie": {tangshan_product.name}}.get(
                who, {park.name, tangshan_product.name})
            assert shown == expected

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, park):
        for response in (client.get(reverse(LIST)), client.post(reverse(LIST), form_data()),
                         client.post(reverse("designations:remove", args=[park.pk]))):
            assert response.status_code == 302 and response.url.startswith(reverse("login"))
        assert KeyDesignation.objects.count() == 1

    def test_a_regulator_designates_in_the_jurisdiction_and_the_figures_are_noted(self, client_for, bob):
        OutboxEntry.objects.all().delete()
        response = client_for(bob).post(reverse(LIST), form_data())
        assert response.status_code == 302
        designation = KeyDesignation.objects.get()
        assert (designation.region_id, designation.kind, designation.designated_by) == ("130104", "product", bob)
        [note] = OutboxEntry.objects.filter(topic=TOPIC)
        assert note.payload["sources"] == ["designations"] and note.payload["codes"] == ["130104"]
        # Until a worker counts it, a dashboard says a change is waiting.
        assert freshness(CampaignFactory())[1] == 1

    def test_a_supervisor_reads_without_the_form_and_may_not_designate(self, client_for, diana, park):
        client = client_for(diana)
        assert client.get(reverse(LIST)).context["form"] is None
        assert client.post(reverse(LIST), form_data()).status_code == 403
        assert client.post(reverse("designations:remove", args=[park.pk])).status_code == 403
        assert KeyDesignation.objects.count() == 1

    @pytest.mark.parametrize(("overrides", "field", "message"), [
        ({"name": ""}, "name", "This field is required."),
        ({"region": "999999"}, "region", "There is no region with the code 999999."),
        ({"region": "130203"}, "region", "This region lies outside your jurisdiction."),
        ({"kind": "factory"}, "kind", "Select a valid choice."),
        ({"designated_on": (TODAY() + datetime.timedelta(days=2)).isoformat()}, "designated_on",
         "The date cannot be in the future."),
        ({"designated_on": "2024-13-40"}, "designated_on", "Enter a valid date."),
    ])
    def test_bad_input_gets_a_message_on_its_field_and_saves_nothing(self, client_for, bob, overrides, field,
                                                                      message):
        response = english(client_for(bob)).post(reverse(LIST), form_data(**overrides))
        assert response.status_code == 400
        assert message in " ".join(response.context["form"].errors[field])
        assert not KeyDesignation.objects.exists()

    def test_the_same_name_twice_in_a_region_is_refused(self, client_for, bob, park):
        response = english(client_for(bob)).post(reverse(LIST), form_data(kind="park", name=park.name,
                                                                         region="130102"))
        assert response.status_code == 400
        assert "already has a designation" in str(response.context["form"].errors)
        assert KeyDesignation.objects.count() == 1

    def test_the_same_name_saved_meanwhile_by_a_colleague_gets_the_message_not_an_error(self, client_for, bob, park,
                                                                                       monkeypatch):
        """Both checks passed before either saved: the database's unique constraint decides, and the
        second gets the same message."""
        monkeypatch.setattr(KeyDesignation, "validate_constraints", lambda self, exclude=None: None)
        response = english(client_for(bob)).post(reverse(LIST), form_data(kind="park", name=park.name,
                                                                         region="130102"))
        assert response.status_code == 400
        assert "already has a designation" in str(response.context["form"].errors)
        assert KeyDesignation.objects.count() == 1

    @pytest.mark.parametrize(("who", "code"), [("bob", 302), ("bianca", 302), ("admin_user", 302), ("charlie", 404),
                                               ("diana", 403), ("alice", 404)])
    def test_the_owner_and_colleagues_of_the_region_withdraw_outsiders_get_404(self, client_for, persona, park,
                                                                               who, code):
        response = client_for(persona(who)).post(reverse("designations:remove", args=[park.pk]))
        assert response.status_code == code
        assert KeyDesignation.objects.filter(pk=park.pk).exists() == (code != 302)

    def test_withdrawing_answers_405_to_a_get(self, client_for, bob, park):
        assert client_for(bob).get(reverse("designations:remove", args=[park.pk])).status_code == 405

    @pytest.mark.parametrize("per_page", [25, 50])
    def test_the_list_costs_the_same_queries_at_any_page_size(self, client_for, bob, django_assert_num_queries,
                                                              per_page):
        for n in range(60):
            KeyDesignation.objects.create(name=f"产品{n:02d}", region=region("130102" if n % 2 else "130104"),
                                          kind="product", designated_on=TODAY(), designated_by=bob)
        client = client_for(bob)
        # the session, the user, the user's region (the jurisdiction), the count, and the page with
        # each designation's region and designator joined in
        with django_assert_num_queries(5):
            response = client.get(reverse(LIST), {"per_page": per_page})
        assert len(response.context["object_list"]) == per_page


# --- the API ---------------------------------------------------------------------------------------------


def api_payload(**overrides) -> dict:
    return form_data(**overrides)


class TestApi:
    url = staticmethod(lambda: reverse("api:key-designation-list"))

    @pytest.mark.parametrize(("who", "code"), [("bob", 200), ("diana", 200), ("alice", 403), ("erin", 403),
                                               ("anonymous", 403)])
    def test_staff_list_others_are_refused(self, api, persona, park, who, code):
        response = api(persona(who)).get(self.url())
        assert response.status_code == code
        if code == 200:
            assert [row["id"] for row in response.json()["results"]] == [park.pk]

    def test_a_regulator_of_another_city_neither_lists_nor_reads_nor_withdraws_it(self, api, charlie, park):
        client = api(charlie)
        assert client.get(self.url()).json()["results"] == []
        detail = reverse("api:key-designation-detail", args=[park.pk])
        assert client.get(detail).status_code == 404
        assert client.delete(detail).status_code == 404
        assert KeyDesignation.objects.filter(pk=park.pk).exists()

    def test_a_designation_posted_twice_with_one_key_is_made_once(self, api, bob):
        client, key = api(bob), uuid.uuid4().hex
        first = client.post(self.url(), api_payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
        second = client.post(self.url(), api_payload(), format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json() and second["Idempotent-Replayed"] == "true"
        assert first.json()["region"] == "130104" and first.json()["kind"] == "product"
        assert KeyDesignation.objects.count() == 1

    @pytest.mark.parametrize(("who", "code"), [("diana", 403), ("alice", 403), ("erin", 403), ("anonymous", 403)])
    def test_only_regulators_and_administrators_designate(self, api, persona, who, code):
        assert api(persona(who)).post(self.url(), api_payload(), format="json").status_code == code
        assert not KeyDesignation.objects.exists()

    @pytest.mark.parametrize(("overrides", "field", "message"), [
        ({"region": "130203"}, "region", "This region lies outside your jurisdiction."),
        ({"region": "999999"}, "region", "does not exist"),
        ({"name": ""}, "name", "may not be blank"),
        ({"designated_on": (TODAY() + datetime.timedelta(days=2)).isoformat()}, "designated_on",
         "The date cannot be in the future."),
        ({"kind": "factory"}, "kind", "is not a valid choice"),
    ])
    def test_bad_input_answers_400_on_its_field(self, api, bob, overrides, field, message):
        response = api(bob).post(self.url(), api_payload(**overrides), format="json")
        assert response.status_code == 400
        assert message in " ".join(response.json()[field])
        assert not KeyDesignation.objects.exists()

    @pytest.mark.parametrize(("who", "code"), [("bianca", 204), ("diana", 403)])
    def test_a_colleague_withdraws_a_supervisor_may_not(self, api, persona, park, who, code):
        response = api(persona(who)).delete(reverse("api:key-designation-detail", args=[park.pk]))
        assert response.status_code == code
        assert KeyDesignation.objects.filter(pk=park.pk).exists() == (code != 204)

    def test_designations_are_not_changed_through_the_api(self, api, bob, park):
        detail = reverse("api:key-designation-detail", args=[park.pk])
        assert api(bob).patch(detail, {"name": "别的"}, format="json").status_code == 405


# --- the filters -----------------------------------------------------------------------------------------


def test_each_filter_keeps_its_rows(bob, park, admin_user):
    product = key_designation_create(user=bob, name="生物医药", region=region("130104"), kind="product",
                                     designated_on=TODAY() - datetime.timedelta(days=40))
    rows = KeyDesignation.objects.all()

    def kept(**params):
        return set(KeyDesignationFilterSet(params, rows).qs.values_list("pk", flat=True))

    assert kept(kind="park") == {park.pk}
    assert kept(region="130104") == {product.pk}
    assert kept(region="130100") == {park.pk, product.pk}
    assert kept(q="高新") == {park.pk}
    assert kept(designated_after=(TODAY() - datetime.timedelta(days=20)).isoformat()) == {park.pk}
    assert kept(designated_before=(TODAY() - datetime.timedelta(days=20)).isoformat()) == {product.pk}


def test_every_field_of_a_designation_has_a_filter():
    filtered = set(KeyDesignationFilterSet.base_filters)
    assert {"region", "kind", "q", "designated_after", "designated_before"} <= filtered
