"""The training pages: who reaches which, recording a session with its attendance, what bad input
answers, the list's filters and totals, and how many queries the list and a session cost.

Personas (tests/conftest.py): bob and bianca regulate Shijiazhuang (130100), charlie Tangshan
(130200); diana supervises Hebei read-only; alice is an SME user, erin an expert.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.training import services
from campaigns.training.models import TrainingAttendance, TrainingSession
from portal.models import AuditEntry, Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db

Mode = TrainingSession.Mode
TODAY = timezone.localdate


@pytest.fixture
def client_for(client_for, settings):
    """Signed in and switched to English (the switcher's cookie), so assertions read the msgids."""

    def sign_in(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="河北省质量提升行动")


@pytest.fixture
def firms(db):
    return [EnterpriseFactory(name=f"石家庄培训企业{n}有限公司") for n in range(3)]


@pytest.fixture
def tangshan_firm(db):
    return EnterpriseFactory(name="唐山钢构有限公司", region=Region.objects.get(code="130203"))


def record(user, campaign, attendances=(), *, days_ago=2, region="130102", **fields):
    values = {"topic": "ISO 9001 内审员培训", "organiser": "石家庄市市场监督管理局", "place": "长安区政务中心",
              "held_on": TODAY() - datetime.timedelta(days=days_ago), "region": Region.objects.get(code=region)}
    values.update(fields)
    return services.training_record(user=user, campaign=campaign, attendances=list(attendances), **values)


@pytest.fixture
def session(bob, campaign, firms):
    return record(bob, campaign, [(firms[0], 2, "张三、李四"), (firms[1], 3, "")])


def session_data(campaign, rows=(), **overrides) -> dict:
    """The POST of the form page: the session's fields and the attendance rows (uscc, persons, names)."""
    data = {
        "campaign": campaign.pk, "region": "130102", "topic": "计量器具管理培训",
        "held_on": (TODAY() - datetime.timedelta(days=1)).isoformat(), "place": "石家庄市计量院",
        "mode": Mode.IN_PERSON, "organiser": "石家庄市市场监督管理局", "service_area": "2",
        "attendance-TOTAL_FORMS": str(max(len(rows), 1)), "attendance-INITIAL_FORMS": "0",
        "attendance-MIN_NUM_FORMS": "0", "attendance-MAX_NUM_FORMS": "1000",
    }
    for index, (uscc, persons, names) in enumerate(rows):
        data.update({f"attendance-{index}-uscc": uscc, f"attendance-{index}-persons": str(persons),
                     f"attendance-{index}-names": names})
    data.update(overrides)
    return data


def row_errors(response) -> list[dict]:
    return [dict(form.errors) for form in response.context["formset"].forms]


# --- who reaches which page ------------------------------------------------------------------------


class TestAccess:
    @pytest.mark.parametrize("who", ["bob", "bianca", "diana", "admin_user"])
    def test_staff_of_the_jurisdiction_read_the_list_and_the_session(self, client_for, request, session, who):
        client = client_for(request.getfixturevalue(who))
        response = client.get(reverse("training:list"))
        assert response.status_code == 200 and [s.pk for s in response.context["object_list"]] == [session.pk]
        assert client.get(reverse("training:detail", args=[session.pk])).status_code == 200

    def test_a_regulator_of_another_city_neither_lists_nor_opens_the_session(self, client_for, charlie, session):
        client = client_for(charlie)
        assert list(client.get(reverse("training:list")).context["object_list"]) == []
        assert client.get(reverse("training:detail", args=[session.pk])).status_code == 404

    @pytest.mark.parametrize("who", ["alice", "erin"])
    def test_sme_users_and_experts_get_403_everywhere(self, client_for, request, session, campaign, firms, who):
        client = client_for(request.getfixturevalue(who))
        for name, args in [("training:list", []), ("training:detail", [session.pk]), ("training:new", []),
                           ("training:import", []), ("training:firm-check", [])]:
            assert client.get(reverse(name, args=args)).status_code == 403, name
        assert client.post(reverse("training:new"), session_data(campaign, [(firms[2].uscc, 1, "")])).status_code == 403
        assert TrainingSession.objects.count() == 1

    def test_the_supervisor_reads_but_gets_403_on_recording(self, client_for, diana, campaign, firms):
        client = client_for(diana)
        assert client.get(reverse("training:new")).status_code == 403
        assert client.get(reverse("training:import")).status_code == 403
        assert client.get(reverse("training:firm-check"), {"uscc": firms[0].uscc}).status_code == 403
        response = client.post(reverse("training:new"), session_data(campaign, [(firms[0].uscc, 1, "")]))
        assert response.status_code == 403 and not TrainingSession.objects.exists()
        assert "can_record" in client.get(reverse("training:list")).context
        assert not client.get(reverse("training:list")).context["can_record"]

    def test_anonymous_visitors_are_sent_to_sign_in(self, client, session):
        for url in (reverse("training:list"), reverse("training:detail", args=[session.pk]),
                    reverse("training:new"), reverse("training:import")):
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith(reverse("login")), url

    def test_the_session_page_answers_405_to_a_post(self, client_for, bob, session):
        assert client_for(bob).post(reverse("training:detail", args=[session.pk])).status_code == 405

    def test_the_navigation_offers_training_to_staff_only(self, client_for, alice, bob, diana, erin):
        def links(user):
            return {item["url_name"] for item in client_for(user).get(reverse("home")).context["nav_items"]}

        assert "training:list" in links(bob) and "training:list" in links(diana)
        assert "training:list" not in links(alice) and "training:list" not in links(erin)


# --- recording a session -----------------------------------------------------------------------------


class TestRecording:
    def test_the_form_offers_the_campaigns_and_regions_of_the_jurisdiction(self, client_for, bob, campaign):
        anhui = CampaignFactory(region=Region.objects.get(code="340000"))
        tangshan = CampaignFactory(region=Region.objects.get(code="130200"))
        county = CampaignFactory(region=Region.objects.get(code="130102"))
        form = client_for(bob).get(reverse("training:new")).context["form"]
        assert set(form.fields["campaign"].queryset) == {campaign, county}
        assert anhui not in form.fields["campaign"].queryset and tangshan not in form.fields["campaign"].queryset
        codes = set(form.fields["region"].queryset.values_list("code", flat=True))
        assert "130100" in codes and "130102" in codes and "130200" not in codes and "130000" not in codes
        assert form.initial["region"] == "130100"

    def test_a_session_is_recorded_with_its_attendance_and_audit_entry(self, client_for, bob, campaign, firms):
        rows = [(firms[0].uscc.lower(), 2, "张三、李四"), ("", "", ""), (firms[1].uscc, 5, "")]
        data = session_data(campaign, rows)
        response = client_for(bob).post(reverse("training:new"), data)
        session = TrainingSession.objects.get()
        assert response.status_code == 302 and response.url == reverse("training:detail", args=[session.pk])
        assert (session.topic, session.region_id, session.service_area_id, session.recorded_by) == (
            "计量器具管理培训", "130102", 2, bob)
        assert set(TrainingAttendance.objects.values_list("enterprise__name", "persons", "names")) == {
            (firms[0].name, 2, "张三、李四"), (firms[1].name, 5, "")}
        assert AuditEntry.objects.filter(content_type__model="trainingsession", object_id=str(session.pk),
                                         actor=bob).exists()
        page = client_for(bob).get(response.url)
        assert (page.context["session"].firm_times, page.context["session"].person_times) == (2, 7)
        assert "2 firm-times, 7 person-times" in page.content.decode()

    def test_an_administrator_types_the_region_code(self, client_for, admin_user, campaign, firms):
        client = client_for(admin_user)
        assert client.get(reverse("training:new")).context["form"]["region"].widget_type == "text"
        response = client.post(reverse("training:new"), session_data(campaign, [(firms[0].uscc, 1, "")],
                                                                     region="130104"))
        assert response.status_code == 302 and TrainingSession.objects.get().region_id == "130104"

    @pytest.mark.parametrize(("overrides", "field", "message"), [
        ({"topic": ""}, "topic", "This field is required."),
        ({"held_on": "tomorrow"}, "held_on", "Record a session once it has been held."),
        ({"held_on": "not a date"}, "held_on", "Enter a valid date."),
        ({"region": "130203"}, "region", "Choose a region of your jurisdiction."),
        ({"region": "999999"}, "region", "Choose a region of your jurisdiction."),
        ({"campaign": "abc"}, "campaign", "Select a valid choice."),
        ({"mode": "by_pigeon"}, "mode", "Select a valid choice."),
        ({"service_area": "99"}, "service_area", "Select a valid choice."),
    ])
    def test_bad_session_fields_are_reported_per_field_and_nothing_is_saved(
        self, client_for, bob, campaign, firms, overrides, field, message
    ):
        if overrides.get("held_on") == "tomorrow":
            overrides["held_on"] = (TODAY() + datetime.timedelta(days=1)).isoformat()
        data = session_data(campaign, [(firms[0].uscc, 1, "")])
        data.update(overrides)
        response = client_for(bob).post(reverse("training:new"), data)
        assert response.status_code == 200
        assert message in " ".join(response.context["form"].errors[field])
        assert not TrainingSession.objects.exists() and not AuditEntry.objects.exists()

    def test_a_date_before_the_campaign_is_refused_on_the_date(self, client_for, bob, campaign, firms):
        day = (campaign.starts_on - datetime.timedelta(days=1)).isoformat()
        response = client_for(bob).post(reverse("training:new"), session_data(campaign, [(firms[0].uscc, 1, "")],
                                                                               held_on=day))
        assert "The campaign runs from" in " ".join(response.context["form"].errors["held_on"])
        assert not TrainingSession.objects.exists()

    def test_a_region_outside_a_county_campaign_is_refused_on_the_region(self, client_for, bob, firms):
        county = CampaignFactory(region=Region.objects.get(code="130102"))
        response = client_for(bob).post(reverse("training:new"), session_data(county, [(firms[0].uscc, 1, "")],
                                                                               region="130104"))
        assert response.context["form"].errors["region"] == ["This region lies outside the campaign's jurisdiction."]
        assert not TrainingSession.objects.exists()

    def test_bad_attendance_rows_are_reported_on_their_row_and_nothing_is_saved(
        self, client_for, bob, campaign, firms, tangshan_firm
    ):
        unknown = EnterpriseFactory.build().uscc  # a valid code of a firm not in the registry
        wrong_check = firms[1].uscc[:17] + ("0" if firms[1].uscc[17] != "0" else "1")
        rows = [
            (firms[0].uscc, 2, ""),
            (firms[0].uscc, 1, ""),  # the same firm again
            (tangshan_firm.uscc, 1, ""),
            (unknown, 1, ""),
            (wrong_check, 1, ""),
            (firms[2].uscc, 0, ""),
            ("", 3, "王五"),  # a person but no firm
            ("", "", ""),  # blank: left out
        ]
        response = client_for(bob).post(reverse("training:new"), session_data(campaign, rows))
        assert response.status_code == 200
        assert row_errors(response) == [
            {},
            {"uscc": ["This enterprise is already on row 1."]},
            {"uscc": ["This enterprise is registered outside your jurisdiction."]},
            {"uscc": ["No enterprise with this credit code is in the registry."]},
            {"uscc": ["The check character (the 18th) does not match the first 17; please look for a typo."]},
            {"persons": ["Ensure this value is greater than or equal to 1."]},
            {"uscc": ["This field is required."]},
            {},
        ]
        assert not TrainingSession.objects.exists() and not TrainingAttendance.objects.exists()

    def test_a_forged_row_count_answers_with_a_message_not_a_crash(self, client_for, bob, campaign, firms):
        for total in ("100000", "many", ""):
            data = session_data(campaign, [(firms[0].uscc, 1, "")], **{"attendance-TOTAL_FORMS": total})
            response = client_for(bob).post(reverse("training:new"), data)
            assert response.status_code == 200, total
        assert not TrainingSession.objects.exists()

    def test_a_session_without_attendance_may_be_recorded(self, client_for, bob, campaign):
        response = client_for(bob).post(reverse("training:new"), session_data(campaign, []))
        assert response.status_code == 302
        assert TrainingSession.objects.get().attendances.count() == 0

    def test_the_firm_check_names_the_firm_or_says_what_is_wrong(self, client_for, bob, firms, tangshan_firm):
        client = client_for(bob)
        url = reverse("training:firm-check")

        def check(typed: str) -> str:
            return client.get(url, {"attendance-0-uscc": typed}).content.decode()

        assert firms[0].name in check(firms[0].uscc.lower())
        assert "outside your jurisdiction" in check(tangshan_firm.uscc)
        assert "18 characters" in check("91130199")  # a piece of a code that finds no firm
        assert "No enterprise with this credit code" in check(EnterpriseFactory.build().uscc)
        matches = client.get(url, {"attendance-3-uscc": "培训企业"}).context["matches"]
        assert [firm.name for firm in matches] == [firm.name for firm in firms]
        assert client.get(url, {"uscc": "唐山钢构"}).context["matches"] == []  # not in bob's jurisdiction


# --- the list ------------------------------------------------------------------------------------------


class TestList:
    @pytest.fixture
    def sessions(self, bob, campaign, firms):
        """Four sessions that each filter tells apart."""
        other = CampaignFactory(name="计量惠企行动")
        return {
            "iso": record(bob, campaign, [(firms[0], 2, "")], topic="ISO 9001 内审员培训", days_ago=40,
                          service_area=ServiceArea.objects.get(code=8)),
            "metrology": record(bob, other, [(firms[1], 4, "")], topic="计量器具管理", organiser="石家庄市计量测试所",
                                mode=Mode.ONLINE, region="130104", days_ago=20),
            "brand": record(bob, campaign, [(firms[0], 1, ""), (firms[2], 1, "")], topic="品牌建设", place="鹿泉区园区",
                            mode=Mode.ON_SITE, region="130110", days_ago=10),
            "clinic": record(bob, other, [], topic="质量流动诊所", mode=Mode.MOBILE_CLINIC, region="130100",
                             days_ago=1),
        }

    @pytest.mark.parametrize(("query", "kept"), [
        ({"q": "iso"}, {"iso"}),
        ({"q": "计量测试所"}, {"metrology"}),
        ({"q": "鹿泉区园区"}, {"brand"}),
        ({"campaign": "campaign"}, {"iso", "brand"}),
        ({"region": "130104"}, {"metrology"}),
        ({"region": "130100"}, {"iso", "metrology", "brand", "clinic"}),
        ({"region": "130200"}, set()),
        ({"mode": [Mode.ONLINE, Mode.MOBILE_CLINIC]}, {"metrology", "clinic"}),
        ({"service_area": "8"}, {"iso"}),
        ({"held_after": "days_ago:15"}, {"brand", "clinic"}),
        ({"held_before": "days_ago:15"}, {"iso", "metrology"}),
        ({"enterprise": "firm0"}, {"iso", "brand"}),
    ], ids=["q-topic", "q-organiser", "q-place", "campaign", "region-county", "region-city", "region-elsewhere",
            "mode", "service_area", "held_after", "held_before", "enterprise"])
    def test_each_filter_keeps_its_rows(self, client_for, bob, campaign, firms, sessions, query, kept):
        response = client_for(bob).get(reverse("training:list"), resolve(query, campaign, firms))
        assert {s.pk for s in response.context["object_list"]} == {sessions[name].pk for name in kept}

    def test_bad_filter_values_are_ignored_rather_than_crashing(self, client_for, bob, sessions):
        response = client_for(bob).get(reverse("training:list"), {"campaign": "x", "held_after": "yesterday",
                                                                  "enterprise": str(2**70), "per_page": "7"})
        assert response.status_code == 200

    def test_each_row_and_the_header_show_firm_times_and_person_times(self, client_for, bob, sessions):
        response = client_for(bob).get(reverse("training:list"))
        totals = {s.topic: (s.firm_times, s.person_times) for s in response.context["object_list"]}
        assert totals == {"ISO 9001 内审员培训": (1, 2), "计量器具管理": (1, 4), "品牌建设": (2, 2),
                          "质量流动诊所": (0, 0)}
        assert response.context["totals"] == {"firm_times": 4, "person_times": 8}
        filtered = client_for(bob).get(reverse("training:list"), {"mode": Mode.ONLINE})
        assert filtered.context["totals"] == {"firm_times": 1, "person_times": 4}

    @pytest.mark.parametrize("per_page", [25, 50])
    def test_the_list_costs_the_same_at_any_page_size(self, client_for, bob, campaign, firms,
                                                      django_assert_num_queries, per_page):
        for n in range(55):
            record(bob, campaign, [(firms[n % 3], n % 4 + 1, ""), (firms[(n + 1) % 3], 1, "")], topic=f"培训{n}",
                   days_ago=n % 30 + 1)
        client = client_for(bob)
        # session, user, the user's region (jurisdiction) and its province (header); the COUNT; one page of
        # sessions with campaign, region, service area and recorder joined and firm-times and person-times as
        # subqueries; the totals of every session kept (one aggregate); the filter choices: campaigns and service
        # areas.
        with django_assert_num_queries(8):
            response = client.get(reverse("training:list"), {"per_page": per_page})
        assert len(response.context["object_list"]) == per_page

    @pytest.mark.parametrize("firm_count", [1, 3])
    def test_the_session_page_costs_the_same_whatever_its_attendance(self, client_for, bob, campaign, firms,
                                                                     django_assert_num_queries, firm_count):
        session = record(bob, campaign, [(firm, 1, "") for firm in firms[:firm_count]])
        client = client_for(bob)
        client.get(reverse("training:detail", args=[session.pk]))  # warms the content-type cache
        # session, user, the user's region (jurisdiction) and its province (header); the session with campaign,
        # region, service area and recorder and its totals; the attendance with firms and their regions; the audit
        # entries with actors.
        with django_assert_num_queries(6):
            response = client.get(reverse("training:detail", args=[session.pk]))
        assert len(response.context["attendances"]) == firm_count


def resolve(query: dict, campaign, firms) -> dict:
    """Fill in the values a parametrized query can only name: the campaign, a firm, a date."""
    resolved = {}
    for key, value in query.items():
        if value == "campaign":
            value = campaign.pk
        elif value == "firm0":
            value = firms[0].pk
        elif isinstance(value, str) and value.startswith("days_ago:"):
            value = (TODAY() - datetime.timedelta(days=int(value.split(":")[1]))).isoformat()
        resolved[key] = value
    return resolved
