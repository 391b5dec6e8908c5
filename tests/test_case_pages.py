"""The case and visit pages: who reaches what, what bad input answers, two editors at once,
and how many queries a list or a case page costs."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.filters import CaseFilterSet, VisitFilterSet
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseRating, Visit, VisitAttachment
from enterprises.models import NeedRequest
from enterprises.services import need_submit
from portal.models import Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory, RegulatorFactory

pytestmark = pytest.mark.django_db

Status = AssistanceCase.Status
REMARK = "内部备注：企业负责人态度消极"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def need(alice, firm):
    return need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="十台压力表需要校准。")


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="石家庄一对一帮扶")


@pytest.fixture
def case(bob, campaign, need):
    return services.case_open(user=bob, campaign=campaign, needs=[need], title="计量帮扶")


@pytest.fixture
def expert(erin):
    return ExpertFactory(name="王海燕", user=erin)


@pytest.fixture
def assigned(bob, case, expert):
    return services.case_assign_expert(user=bob, case=case, expert=expert)


def visit_data(**overrides):
    data = {"visited_on": timezone.localdate().isoformat(), "mode": "on_site", "hours": "2",
            "people_present": "王建国、企业质量主管", "problems_found": "压力表超期未检", "actions_recommended": "送检",
            "next_follow_up_on": "", "internal_remark": ""}
    data.update(overrides)
    return data


def log_visit(user, case, days_ago=0, **fields):
    values = {"visited_on": timezone.localdate() - datetime.timedelta(days=days_ago), "mode": "on_site", "hours": 2,
              "people_present": "王建国", "internal_remark": REMARK}
    values.update(fields)
    return services.visit_log(user=user, case=case, **values)


@pytest.fixture
def visit(bob, case):
    return log_visit(bob, case, attachments=[SimpleUploadedFile("gauge.png", PNG, content_type="image/png")])


def move_to(user, case, status):
    if status in (Status.PLAN_AGREED, Status.IN_PROGRESS):
        services.case_transition(user=user, case=case, to_status=Status.DIAGNOSING)
        services.case_update(user=user, case=case, version=None, diagnosis="计量器具未按期检定", plan="建立计量室")
        services.case_transition(user=user, case=case, to_status=Status.PLAN_AGREED)
    if status == Status.IN_PROGRESS:
        services.case_transition(user=user, case=case, to_status=Status.IN_PROGRESS)
    case.refresh_from_db()
    return case


def close_resolved(user, case, need):
    move_to(user, case, Status.IN_PROGRESS)
    services.case_close(user=user, case=case, resolution="resolved", fulfilled_needs=[need])
    case.refresh_from_db()
    return case


def read_pages(case, visit):
    return [reverse("cases:list"), reverse("cases:detail", args=[case.pk]), reverse("visits:list"),
            reverse("visits:detail", args=[visit.pk])]


def write_pages(case, visit):
    return [reverse("cases:edit", args=[case.pk]), reverse("cases:close", args=[case.pk]),
            reverse("cases:experts", args=[case.pk]), reverse("cases:visit-new", args=[case.pk]),
            reverse("visits:edit", args=[visit.pk])]


def post_endpoints(case, expert):
    return [
        (reverse("cases:transition", args=[case.pk]), {"to_status": "diagnosing", "version": case.version}),
        (reverse("cases:assign", args=[case.pk]), {"expert": expert.pk}),
        (reverse("cases:release", args=[case.pk, expert.pk]), {}),
        (reverse("cases:close", args=[case.pk]), {"resolution": "unresolved", "note": "x", "version": case.version}),
        (reverse("cases:edit", args=[case.pk]), {"title": "改", "version": case.version}),
        (reverse("cases:visit-new", args=[case.pk]), visit_data()),
    ]


class TestAccess:
    def test_anonymous_users_are_sent_to_sign_in(self, client, case, visit, need):
        urls = [*read_pages(case, visit), *write_pages(case, visit), reverse("cases:new") + f"?need={need.pk}",
                reverse("cases:rate", args=[case.pk]), reverse("cases:need-experts", args=[need.pk]),
                reverse("visits:attachment", args=[visit.attachments.get().pk])]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("login"))

    def test_regulators_of_the_city_reach_every_page(self, client_for, bob, bianca, case, visit, need):
        for user in (bob, bianca):
            client = client_for(user)
            for url in [*read_pages(case, visit), *write_pages(case, visit),
                        reverse("cases:need-experts", args=[need.pk])]:
                assert client.get(url).status_code == 200, (user, url)
            assert case in client.get(reverse("cases:list")).context["object_list"]

    def test_a_regulator_of_another_city_gets_404_and_empty_lists(self, client_for, charlie, case, visit, need,
                                                                   expert):
        client = client_for(charlie)
        urls = [*read_pages(case, visit)[1:2], read_pages(case, visit)[3], *write_pages(case, visit),
                reverse("cases:new") + f"?need={need.pk}", reverse("cases:need-experts", args=[need.pk]),
                reverse("visits:attachment", args=[visit.attachments.get().pk])]
        for url in urls:
            assert client.get(url).status_code == 404, url
        for url, data in post_endpoints(case, expert):
            assert client.post(url, data).status_code == 404, url
        assert list(client.get(reverse("cases:list")).context["object_list"]) == []
        assert list(client.get(reverse("visits:list")).context["object_list"]) == []

    def test_the_province_supervisor_reads_everything_and_writes_nothing(self, client_for, diana, case, visit, need,
                                                                         expert, assigned):
        client = client_for(diana)
        for url in read_pages(case, visit):
            assert client.get(url).status_code == 200, url
        assert client.get(reverse("cases:need-experts", args=[need.pk])).status_code == 200
        for url in [*write_pages(case, visit), reverse("cases:new") + f"?need={need.pk}"]:
            assert client.get(url).status_code == 403, url
        for url, data in post_endpoints(case, expert):
            assert client.post(url, data).status_code == 403, url
        case.refresh_from_db()
        assert case.status == Status.OPEN and case.title == "计量帮扶" and case.visits.count() == 1
        assert CaseAssignment.objects.filter(case=case, active=True).count() == 1
        page = client.get(reverse("cases:detail", args=[case.pk]))
        assert page.context["next_step"] is None and not page.context["can_edit"]
        assert b'data-testid="audit-trail"' in page.content

    def test_an_expert_sees_a_case_only_once_assigned(self, client_for, erin, bob, case, visit, expert):
        client = client_for(erin)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
        assert client.get(reverse("cases:visit-new", args=[case.pk])).status_code == 404
        assert client.get(reverse("visits:detail", args=[visit.pk])).status_code == 404
        assert list(client.get(reverse("cases:list")).context["object_list"]) == []

        services.case_assign_expert(user=bob, case=case, expert=expert)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 200
        assert list(client.get(reverse("cases:list")).context["object_list"]) == [case]
        for url in [reverse("cases:close", args=[case.pk]), reverse("cases:experts", args=[case.pk]),
                    reverse("cases:new") + f"?enterprise={case.enterprise_id}"]:
            assert client.get(url).status_code == 403, url
        response = client.post(reverse("cases:transition", args=[case.pk]), {"to_status": "diagnosing"})
        assert response.status_code == 403
        # ... but she logs visits and writes the diagnosis and plan, nothing else.
        response = client.post(reverse("cases:visit-new", args=[case.pk]), visit_data(internal_remark="专家备注"))
        assert response.status_code == 302
        assert case.visits.filter(logged_by=erin).exists()
        form = client.get(reverse("cases:edit", args=[case.pk])).context["form"]
        assert form.editable_fields == ["diagnosis", "plan"]
        response = client.post(reverse("cases:edit", args=[case.pk]),
                               {"diagnosis": "计量器具未按期检定", "plan": "建立计量室", "version": case.version,
                                "title": "专家改的标题"})
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.diagnosis == "计量器具未按期检定" and case.title == "计量帮扶"
        # A visit someone else logged is hers to read, not to edit.
        assert client.get(reverse("visits:edit", args=[visit.pk])).status_code == 403

    def test_a_released_expert_no_longer_reaches_the_case(self, client_for, erin, bob, case, expert, assigned):
        services.case_release_expert(user=bob, case=case, expert=expert)
        client = client_for(erin)
        for url in [reverse("cases:detail", args=[case.pk]), reverse("cases:visit-new", args=[case.pk]),
                    reverse("cases:edit", args=[case.pk])]:
            assert client.get(url).status_code == 404, url
        assert list(client.get(reverse("cases:list")).context["object_list"]) == []

    def test_an_expert_who_saw_the_case_through_still_reads_it_but_works_on_it_no_more(
        self, client_for, erin, bob, case, need, expert, assigned
    ):
        close_resolved(bob, case, need)
        client = client_for(erin)
        page = client.get(reverse("cases:detail", args=[case.pk]))
        assert page.status_code == 200 and not page.context["can_work"] and not page.context["can_edit"]
        assert client.get(reverse("cases:visit-new", args=[case.pk])).status_code == 403
        assert client.get(reverse("cases:edit", args=[case.pk])).status_code == 403

    def test_the_firm_sees_its_cases_and_visits_without_internal_remarks(self, client_for, alice, bob, case, visit):
        client = client_for(alice)
        assert list(client.get(reverse("cases:list")).context["object_list"]) == [case]
        assert list(client.get(reverse("visits:list")).context["object_list"]) == [visit]
        for url in read_pages(case, visit):
            response = client.get(url)
            assert response.status_code == 200, url
            assert REMARK not in response.content.decode(), url
            assert b"internal-remark" not in response.content
        detail = client.get(reverse("cases:detail", args=[case.pk]))
        assert detail.context["audit_entries"] is None
        assert b'data-testid="audit-trail"' not in detail.content
        assert client.get(reverse("visits:attachment", args=[visit.attachments.get().pk])).status_code == 200
        for url in write_pages(case, visit):
            assert client.get(url).status_code == 403, url
        # Staff read the remark.
        assert REMARK in client_for(bob).get(reverse("cases:detail", args=[case.pk])).content.decode()

    def test_another_firm_sees_nothing_of_the_case(self, client_for, case, visit):
        from tests.factories import UserFactory

        stranger = UserFactory(username="other-sme")
        EnterpriseFactory(name="别家企业").users.add(stranger)
        client = client_for(stranger)
        assert client.get(reverse("cases:detail", args=[case.pk])).status_code == 404
        assert client.get(reverse("visits:detail", args=[visit.pk])).status_code == 404
        assert client.get(reverse("cases:rate", args=[case.pk])).status_code == 404

    def test_workflow_endpoints_answer_405_to_a_get(self, client_for, bob, case, expert):
        client = client_for(bob)
        for url in [reverse("cases:transition", args=[case.pk]), reverse("cases:assign", args=[case.pk]),
                    reverse("cases:release", args=[case.pk, expert.pk])]:
            assert client.get(url).status_code == 405, url


class TestOpening:
    def test_a_need_prefills_the_form_and_opening_accepts_the_need(self, client_for, bob, campaign, need):
        client = client_for(bob)
        url = reverse("cases:new") + f"?need={need.pk}"
        form = client.get(url).context["form"]
        assert form.initial["title"] == "压力表校准"
        assert form.initial["needs"] == [need.pk] and form.initial["lead"] == bob.pk
        assert form.initial["campaign"] == campaign.pk
        response = client.post(url, {"campaign": campaign.pk, "title": "计量帮扶", "needs": [need.pk], "lead": bob.pk,
                                     "diagnosis": "", "plan": ""})
        case = AssistanceCase.objects.get()
        assert response.status_code == 302 and response.url == reverse("cases:detail", args=[case.pk])
        assert list(case.needs.all()) == [need] and case.lead == bob and case.opened_by == bob
        need.refresh_from_db()
        assert need.status == NeedRequest.Status.TRIAGED

    def test_the_need_page_offers_to_open_a_case_until_one_answers_it(self, client_for, bob, diana, campaign, need):
        page = client_for(bob).get(reverse("needs:detail", args=[need.pk]))
        assert page.context["can_open_case"] and b'data-testid="open-case"' in page.content
        assert b'data-testid="open-case"' not in client_for(diana).get(reverse("needs:detail", args=[need.pk])).content
        case = services.case_open(user=bob, campaign=campaign, needs=[need], title="计量帮扶")
        page = client_for(bob).get(reverse("needs:detail", args=[need.pk]))
        assert not page.context["can_open_case"] and page.context["cases"] == [case]
        assert b'data-testid="need-cases"' in page.content

    def test_a_case_opens_for_a_firm_without_a_need(self, client_for, bob, campaign, firm):
        client = client_for(bob)
        assert b'data-testid="open-case"' in client.get(reverse("enterprises:detail", args=[firm.pk])).content
        response = client.post(reverse("cases:new") + f"?enterprise={firm.pk}",
                               {"campaign": campaign.pk, "title": "主动上门", "lead": bob.pk})
        assert response.status_code == 302
        assert AssistanceCase.objects.get().needs.count() == 0

    @pytest.mark.parametrize(("data", "field"), [
        ({"title": ""}, "title"),
        ({"campaign": ""}, "campaign"),
        ({"lead": ""}, "lead"),
        ({"title": "x" * 121}, "title"),
    ])
    def test_bad_input_answers_per_field_and_saves_nothing(self, client_for, bob, campaign, need, data, field):
        payload = {"campaign": campaign.pk, "title": "计量帮扶", "needs": [need.pk], "lead": bob.pk, **data}
        response = client_for(bob).post(reverse("cases:new") + f"?need={need.pk}", payload)
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert not AssistanceCase.objects.exists()

    def test_a_campaign_that_is_not_running_or_a_lead_from_another_city_is_refused(self, client_for, bob, charlie,
                                                                                    need):
        old = CampaignFactory(starts_on=datetime.date(2020, 1, 1), ends_on=datetime.date(2020, 12, 31))
        current = CampaignFactory()
        client = client_for(bob)
        url = reverse("cases:new") + f"?need={need.pk}"
        response = client.post(url, {"campaign": old.pk, "title": "x", "lead": bob.pk})
        assert response.context["form"].errors["campaign"]
        response = client.post(url, {"campaign": current.pk, "title": "x", "lead": charlie.pk})
        assert response.context["form"].errors["lead"]
        assert not AssistanceCase.objects.exists()

    def test_a_second_open_case_in_the_campaign_gets_a_message_not_a_500(self, client_for, bob, case, campaign, firm):
        response = client_for(bob).post(reverse("cases:new") + f"?enterprise={firm.pk}",
                                        {"campaign": campaign.pk, "title": "又一个", "lead": bob.pk})
        assert response.status_code == 200
        assert response.context["form"].non_field_errors()  # the form has no enterprise field to put it on
        assert AssistanceCase.objects.count() == 1

    @pytest.mark.parametrize("query", ["", "?need=abc", "?need=999999", "?enterprise=-1", "?need=99999999999999999999"])
    def test_a_missing_or_malformed_start_is_a_redirect_or_404(self, client_for, bob, query):
        response = client_for(bob).get(reverse("cases:new") + query)
        assert response.status_code == (302 if not query else 404)


class TestLifecycle:
    def test_the_next_step_moves_the_case_on(self, client_for, bob, case):
        client = client_for(bob)
        page = client.get(reverse("cases:detail", args=[case.pk]))
        assert page.context["next_step"] == Status.DIAGNOSING
        response = client.post(reverse("cases:transition", args=[case.pk]),
                               {"to_status": "diagnosing", "note": "开始诊断", "version": case.version}, follow=True)
        case.refresh_from_db()
        assert case.status == Status.DIAGNOSING and case.events.last().note == "开始诊断"
        assert response.status_code == 200

    def test_an_illegal_transition_gives_a_message_and_changes_nothing(self, client_for, bob, case):
        response = client_for(bob).post(reverse("cases:transition", args=[case.pk]),
                                         {"to_status": "in_progress", "version": case.version}, follow=True)
        assert response.status_code == 200
        messages = [str(m) for m in response.context["messages"]]
        assert len(messages) == 1 and "in_progress" not in messages[0]
        case.refresh_from_db()
        assert case.status == Status.OPEN and case.version == 1 and case.events.count() == 1

    @pytest.mark.parametrize("data", [{"to_status": "nonsense"}, {"to_status": "closed"}, {},
                                      {"to_status": "diagnosing", "version": "abc"}])
    def test_a_malformed_transition_is_refused_without_a_500(self, client_for, bob, case, data):
        response = client_for(bob).post(reverse("cases:transition", args=[case.pk]), data)
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.status == Status.OPEN

    def test_a_transition_from_a_stale_page_is_refused(self, client_for, bob, case):
        services.case_update(user=bob, case=case, version=1, diagnosis="已诊断")
        response = client_for(bob).post(reverse("cases:transition", args=[case.pk]),
                                        {"to_status": "diagnosing", "version": 1}, follow=True)
        assert any("reload" in str(m).lower() or "重新" in str(m) for m in response.context["messages"])
        case.refresh_from_db()
        assert case.status == Status.OPEN

    def test_plan_agreed_needs_a_diagnosis_and_a_plan(self, client_for, bob, case):
        services.case_transition(user=bob, case=case, to_status=Status.DIAGNOSING)
        case.refresh_from_db()
        client_for(bob).post(reverse("cases:transition", args=[case.pk]),
                             {"to_status": "plan_agreed", "version": case.version})
        case.refresh_from_db()
        assert case.status == Status.DIAGNOSING

    def test_closing_resolved_settles_the_needs_and_records_the_outcomes(self, client_for, bob, case, need, expert,
                                                                         assigned):
        move_to(bob, case, Status.IN_PROGRESS)
        response = client_for(bob).post(reverse("cases:close", args=[case.pk]), {
            "resolution": "resolved", "fulfilled_needs": [need.pk], "note": "", "lab_set_up": "on",
            "money_saved": "450000", "outcome_notes": "建成计量室", "version": case.version})
        assert response.status_code == 302
        case.refresh_from_db()
        need.refresh_from_db()
        assert case.status == Status.CLOSED and case.resolution == "resolved" and case.lab_set_up
        assert case.money_saved == 450000 and need.status == NeedRequest.Status.FULFILLED
        assert not case.assignments.filter(active=True).exists()
        page = client_for(bob).get(reverse("cases:detail", args=[case.pk]))
        assert b'data-testid="case-outcomes"' in page.content and page.context["next_step"] is None

    @pytest.mark.parametrize(("data", "field"), [
        ({"resolution": "unresolved", "note": ""}, "note"),
        ({"resolution": ""}, "resolution"),
        ({"resolution": "maybe"}, "resolution"),
        ({"resolution": "unresolved", "note": "企业停产", "money_saved": "-5"}, "money_saved"),
        ({"resolution": "unresolved", "note": "企业停产", "money_saved": "abc"}, "money_saved"),
        ({"resolution": "resolved"}, None),  # only once the plan is in progress
        ({"resolution": "unresolved", "note": "企业停产", "version": "0"}, "version"),
    ])
    def test_bad_closing_input_answers_per_field_and_closes_nothing(self, client_for, bob, case, data, field):
        payload = {"version": case.version, **data}
        response = client_for(bob).post(reverse("cases:close", args=[case.pk]), payload)
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert errors[field or "__all__"]
        case.refresh_from_db()
        assert case.status == Status.OPEN


class TestEditing:
    def test_two_people_editing_at_once_the_second_is_told_and_keeps_their_input(self, client_for, bob, bianca,
                                                                                  case):
        url = reverse("cases:edit", args=[case.pk])
        bob_client, bianca_client = client_for(bob), None
        bob_form = bob_client.get(url).context["form"]
        assert bob_form["version"].value() == 1
        data = {"title": case.title, "lead": bob.pk, "diagnosis": "", "plan": "", "outcome_notes": "",
                "money_saved": "", "version": 1}
        # Both load version 1; Bob saves first.
        response = bob_client.post(url, {**data, "diagnosis": "王的诊断：计量器具未按期检定"})
        assert response.status_code == 302
        bianca_client = client_for(bianca)
        response = bianca_client.post(url, {**data, "diagnosis": "李的诊断：缺少检验规程", "plan": "李的计划"})
        assert response.status_code == 200
        html = response.content.decode()
        assert response.context["form"].non_field_errors()
        assert 'data-testid="saved-meanwhile"' in html and "王的诊断" in html
        assert "李的诊断：缺少检验规程" in html and "李的计划" in html
        case.refresh_from_db()
        assert case.diagnosis == "王的诊断：计量器具未按期检定" and case.plan == "" and case.version == 2

    @pytest.mark.parametrize(("data", "field"), [
        ({"title": ""}, "title"),
        ({"money_saved": "-1"}, "money_saved"),
        ({"lead": "999999"}, "lead"),
        ({"version": ""}, "version"),
    ])
    def test_bad_edits_answer_per_field_and_save_nothing(self, client_for, bob, case, data, field):
        payload = {"title": "新标题", "lead": bob.pk, "diagnosis": "诊断", "plan": "", "outcome_notes": "",
                   "money_saved": "", "version": case.version, **data}
        response = client_for(bob).post(reverse("cases:edit", args=[case.pk]), payload)
        assert response.status_code == 200 and response.context["form"].errors[field]
        case.refresh_from_db()
        assert case.title == "计量帮扶" and case.version == 1

    def test_a_lead_outside_the_firms_region_is_not_offered(self, client_for, bob, charlie, case):
        form = client_for(bob).get(reverse("cases:edit", args=[case.pk])).context["form"]
        leads = set(form.fields["lead"].queryset)
        assert bob in leads and charlie not in leads

    def test_a_closed_case_keeps_only_its_outcome_notes_open(self, client_for, bob, case, need):
        close_resolved(bob, case, need)
        form = client_for(bob).get(reverse("cases:edit", args=[case.pk])).context["form"]
        assert form.editable_fields == ["outcome_notes"]
        response = client_for(bob).post(reverse("cases:edit", args=[case.pk]),
                                        {"outcome_notes": "半年后回访良好", "title": "偷改", "version": case.version})
        assert response.status_code == 302
        case.refresh_from_db()
        assert case.outcome_notes == "半年后回访良好" and case.title == "计量帮扶"


class TestExperts:
    def test_suggestions_are_ranked_with_reasons_and_can_be_assigned(self, client_for, bob, case):
        fits = ExpertFactory(name="计量专家")
        ExpertFactory(name="外市专家", region=Region.objects.get(code="130200"))
        client = client_for(bob)
        page = client.get(reverse("cases:experts", args=[case.pk]))
        suggestions = page.context["suggestions"]
        assert [s.expert for s in suggestions] == [fits]
        assert suggestions[0].reasons and b'data-testid="score"' in page.content
        response = client.post(reverse("cases:assign", args=[case.pk]), {"expert": fits.pk})
        assert response.status_code == 302
        assert case.assignments.get(active=True).expert == fits
        page = client.get(reverse("cases:experts", args=[case.pk]))
        assert page.context["suggestions"] == [] and list(page.context["assignments"])[0].expert == fits

    def test_an_expert_at_capacity_needs_a_reason_shown_on_the_case(self, client_for, bob, case, campaign):
        busy = ExpertFactory(name="忙碌专家", capacity=1)
        other = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="另一家")
        services.case_assign_expert(user=bob, case=other, expert=busy)
        client = client_for(bob)
        page = client.get(reverse("cases:experts", args=[case.pk]))
        assert page.context["suggestions"][0].at_capacity
        assert b'name="override_reason"' in page.content
        response = client.post(reverse("cases:assign", args=[case.pk]), {"expert": busy.pk, "override_reason": " "})
        assert response.status_code == 400
        assert response.context["form"].errors["override_reason"]
        assert b'data-testid="override-error"' in response.content
        assert not case.assignments.exists()
        response = client.post(reverse("cases:assign", args=[case.pk]),
                               {"expert": busy.pk, "override_reason": "唯一的压力计量专家"})
        assert response.status_code == 302
        detail = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert 'data-testid="override-reason"' in detail and "唯一的压力计量专家" in detail

    @pytest.mark.parametrize("expert_id", ["", "abc", "999999"])
    def test_assigning_nobody_or_an_unknown_expert_is_a_field_error(self, client_for, bob, case, expert_id):
        response = client_for(bob).post(reverse("cases:assign", args=[case.pk]), {"expert": expert_id})
        assert response.status_code == 400 and response.context["form"].errors["expert"]

    def test_an_expert_outside_the_users_pools_cannot_be_assigned(self, client_for, bob, case):
        stranger = ExpertFactory(region=Region.objects.get(code="130200"))
        response = client_for(bob).post(reverse("cases:assign", args=[case.pk]), {"expert": stranger.pk})
        assert response.status_code == 400 and not case.assignments.exists()

    def test_releasing_an_expert(self, client_for, bob, case, expert, assigned):
        response = client_for(bob).post(reverse("cases:release", args=[case.pk, expert.pk]))
        assert response.status_code == 302
        assert not case.assignments.filter(active=True).exists()
        assert client_for(bob).post(reverse("cases:release", args=[case.pk, expert.pk])).status_code == 404

    def test_suggestions_for_a_need_without_a_case(self, client_for, bob, alice, need):
        fits = ExpertFactory(name="计量专家")
        page = client_for(bob).get(reverse("cases:need-experts", args=[need.pk]))
        assert [s.expert for s in page.context["suggestions"]] == [fits] and page.context["can_open"]
        assert b"cases:assign" not in page.content and b'data-testid="assign"' not in page.content
        assert client_for(alice).get(reverse("cases:need-experts", args=[need.pk])).status_code == 403


class TestRating:
    def test_the_firms_contact_rates_a_closed_case_once_and_the_rating_shows(self, client_for, alice, bob, case,
                                                                             need):
        client = client_for(alice)
        assert client.get(reverse("cases:detail", args=[case.pk])).context["rating_form"] is None
        close_resolved(bob, case, need)
        page = client.get(reverse("cases:detail", args=[case.pk]))
        assert page.context["rating_form"] is not None and b'data-testid="rating-form"' in page.content
        response = client.post(reverse("cases:rate", args=[case.pk]), {"score": "5", "comment": "专家很专业"})
        assert response.status_code == 302
        rating = CaseRating.objects.get(case=case)
        assert rating.score == 5 and rating.rated_by == alice
        page = client_for(bob).get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert 'data-testid="case-rating"' in page and "专家很专业" in page
        response = client_for(alice).post(reverse("cases:rate", args=[case.pk]), {"score": "1"})
        assert response.status_code == 302 and CaseRating.objects.get(case=case).score == 5

    @pytest.mark.parametrize("score", ["", "0", "6", "abc"])
    def test_a_score_outside_one_to_five_is_a_field_error(self, client_for, alice, bob, case, need, score):
        close_resolved(bob, case, need)
        response = client_for(alice).post(reverse("cases:rate", args=[case.pk]), {"score": score})
        assert response.status_code == 200 and response.context["form"].errors["score"]
        assert not CaseRating.objects.exists()

    def test_staff_and_open_cases_cannot_be_rated(self, client_for, alice, bob, case):
        assert client_for(bob).get(reverse("cases:rate", args=[case.pk])).status_code == 403
        response = client_for(alice).post(reverse("cases:rate", args=[case.pk]), {"score": "4"})
        assert response.status_code == 302 and not CaseRating.objects.exists()


class TestVisits:
    def test_a_visit_is_logged_with_a_photo_and_shows_on_the_case(self, client_for, bob, case):
        client = client_for(bob)
        form = client.get(reverse("cases:visit-new", args=[case.pk])).context["form"]
        assert form.initial["visited_on"] == timezone.localdate()
        follow_up = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
        data = visit_data(next_follow_up_on=follow_up, internal_remark=REMARK,
                          attachments=[SimpleUploadedFile("现场.jpg", PNG, content_type="image/jpeg"),
                                       SimpleUploadedFile("记录.pdf", b"%PDF-1.4", content_type="application/pdf")])
        response = client.post(reverse("cases:visit-new", args=[case.pk]), data)
        assert response.status_code == 302
        visit = Visit.objects.get()
        assert visit.logged_by == bob and visit.internal_remark == REMARK
        assert sorted(visit.attachments.values_list("original_name", "is_photo")) == [("现场.jpg", True),
                                                                                      ("记录.pdf", False)]
        case.refresh_from_db()
        assert case.last_visit_on == timezone.localdate() and case.next_follow_up_on.isoformat() == follow_up
        page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
        assert 'data-testid="visit"' in page and "压力表超期未检" in page

    @pytest.mark.parametrize(("data", "field"), [
        ({"visited_on": "2024-13-45"}, "visited_on"),
        ({"visited_on": ""}, "visited_on"),
        ({"visited_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()}, "visited_on"),
        ({"visited_on": "2000-01-01"}, "visited_on"),  # before the campaign
        ({"hours": "0"}, "hours"),
        ({"hours": "30"}, "hours"),
        ({"hours": "abc"}, "hours"),
        ({"mode": "by_pigeon"}, "mode"),
        ({"people_present": ""}, "people_present"),
        ({"next_follow_up_on": timezone.localdate().isoformat()}, "next_follow_up_on"),
        ({"next_follow_up_on": "not a date"}, "next_follow_up_on"),
    ])
    def test_bad_visit_input_answers_per_field_and_logs_nothing(self, client_for, bob, case, data, field):
        response = client_for(bob).post(reverse("cases:visit-new", args=[case.pk]), visit_data(**data))
        assert response.status_code == 200
        assert response.context["form"].errors[field], response.context["form"].errors
        assert not Visit.objects.exists()

    def test_files_of_a_wrong_type_too_large_or_too_many_are_refused(self, client_for, bob, case, monkeypatch):
        client = client_for(bob)
        url = reverse("cases:visit-new", args=[case.pk])

        def refused(files):
            response = client.post(url, visit_data(attachments=files))
            assert response.status_code == 200
            assert response.context["form"].errors["attachments"]
            assert b'data-testid="attachment-error"' in response.content
            assert not Visit.objects.exists() and not VisitAttachment.objects.exists()

        refused([SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")])
        monkeypatch.setattr(services, "ATTACHMENT_MAX_BYTES", 1024)
        refused([SimpleUploadedFile("big.jpg", b"x" * 2048, content_type="image/jpeg")])
        refused([SimpleUploadedFile(f"p{i}.jpg", PNG, content_type="image/jpeg") for i in range(11)])

    def test_a_closed_case_takes_no_more_visits(self, client_for, bob, case, need):
        close_resolved(bob, case, need)
        response = client_for(bob).post(reverse("cases:visit-new", args=[case.pk]), visit_data())
        assert response.status_code == 302 and not Visit.objects.exists()

    def test_two_people_editing_a_visit_at_once(self, client_for, bob, bianca, visit):
        url = reverse("visits:edit", args=[visit.pk])
        data = visit_data(version=1)
        assert client_for(bob).post(url, {**data, "problems_found": "王补充：量程不符"}).status_code == 302
        response = client_for(bianca).post(url, {**data, "problems_found": "李补充：缺记录"})
        assert response.status_code == 200 and response.context["form"].non_field_errors()
        assert "李补充：缺记录" in response.content.decode()
        visit.refresh_from_db()
        assert visit.problems_found == "王补充：量程不符" and visit.version == 2
        page = client_for(bob).get(reverse("visits:detail", args=[visit.pk])).content.decode()
        assert 'data-testid="audit-trail"' in page and "王补充：量程不符" in page

    def test_an_edit_adds_files_and_keeps_the_old_values_in_the_history(self, client_for, bob, visit):
        extra = SimpleUploadedFile("补充.pdf", b"%PDF-1.4", content_type="application/pdf")
        response = client_for(bob).post(reverse("visits:edit", args=[visit.pk]),
                                        visit_data(version=1, hours="3", attachments=[extra]))
        assert response.status_code == 302
        visit.refresh_from_db()
        assert visit.hours == 3 and visit.attachments.count() == 2
        history = client_for(bob).get(reverse("visits:detail", args=[visit.pk])).context["audit_entries"]
        assert any(row["old"] == "2.0" or row["old"] == "2" for entry in history for row in entry.rows)

    def test_attachments_download_for_those_who_see_the_visit(self, client_for, bob, alice, charlie, visit):
        attachment = visit.attachments.get()
        url = reverse("visits:attachment", args=[attachment.pk])
        response = client_for(bob).get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
        assert "attachment" not in response.get("Content-Disposition", "")  # a photo opens inline
        assert "attachment" in client_for(bob).get(url + "?download=1")["Content-Disposition"]
        assert client_for(alice).get(url).status_code == 200
        assert client_for(charlie).get(url).status_code == 404


class TestFilters:
    @pytest.fixture
    def cases(self, bob, campaign, expert):
        today = timezone.localdate()
        first = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(name="恒泰食品"),
                                   title="计量帮扶")
        services.case_assign_expert(user=bob, case=first, expert=expert)
        log_visit(bob, first, days_ago=10, next_follow_up_on=today - datetime.timedelta(days=1))
        other_firm = EnterpriseFactory(name="新锐电子", region=Region.objects.get(code="130104"))
        second = services.case_open(user=bob, campaign=CampaignFactory(), title="品牌建设", enterprise=other_firm,
                                    lead=RegulatorFactory(username="lead2"))
        AssistanceCase.objects.filter(pk=second.pk).update(opened_at=timezone.now() - datetime.timedelta(days=60))
        services.case_transition(user=bob, case=second, to_status=Status.DIAGNOSING)
        return first, second

    @pytest.mark.parametrize(("params", "keeps"), [
        ({"q": "计量"}, "first"),
        ({"q": "新锐"}, "second"),
        ({"status": ["diagnosing"]}, "second"),
        ({"status": ["open", "diagnosing"]}, "both"),
        ({"region": "130104"}, "second"),
        ({"region": "130100"}, "both"),
        ({"region": "13010x"}, "none"),
        ({"overdue": "true"}, "first"),
        ({"stale": "true"}, "second"),
        ({"stale": "false"}, "first"),
    ])
    def test_case_filters_keep_the_rows_they_name(self, cases, params, keeps):
        first, second = cases
        expected = {"first": {first}, "second": {second}, "both": {first, second}, "none": set()}[keeps]
        assert set(CaseFilterSet(params, queryset=AssistanceCase.objects.all()).qs) == expected

    def test_case_filters_by_campaign_lead_and_expert(self, cases, campaign, expert, bob):
        first, second = cases

        def kept(params):
            return set(CaseFilterSet(params, queryset=AssistanceCase.objects.all()).qs)

        assert kept({"campaign": campaign.pk}) == {first}
        assert kept({"lead": second.lead_id}) == {second}
        assert kept({"lead": bob.pk}) == {first}
        assert kept({"expert": expert.pk}) == {first}
        assert not CaseFilterSet({"expert": "abc"}, queryset=AssistanceCase.objects.all()).is_valid()

    def test_the_list_page_applies_the_filters(self, client_for, bob, cases):
        first, second = cases
        client = client_for(bob)
        assert list(client.get(reverse("cases:list"), {"overdue": "true"}).context["object_list"]) == [first]
        response = client.get(reverse("cases:list"), {"status": ["diagnosing"], "campaign": "abc"})
        assert list(response.context["object_list"]) == [second]

    def test_visit_filters_keep_the_rows_they_name(self, bob, cases, campaign):
        first, second = cases
        older = log_visit(bob, second, days_ago=20, mode="remote", problems_found="商标未注册")
        newer = log_visit(bob, second, days_ago=1, mode="mobile_clinic")
        on_first = first.visits.get()

        def kept(params):
            return set(VisitFilterSet(params, queryset=Visit.objects.all()).qs)

        assert kept({"case": first.pk}) == {on_first}
        assert kept({"campaign": campaign.pk}) == {on_first}
        assert kept({"mode": ["remote", "mobile_clinic"]}) == {older, newer}
        since = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
        assert kept({"visited_after": since}) == {newer}
        assert kept({"visited_before": since}) == {on_first, older}
        assert kept({"region": "130104"}) == {older, newer}
        assert kept({"logged_by": bob.pk}) == {on_first, older, newer}
        assert kept({"q": "商标"}) == {older}
        assert kept({"q": "新锐"}) == {older, newer}


class TestQueryCounts:
    def make_cases(self, bob, campaign, n):
        experts = [ExpertFactory(capacity=50) for _ in range(3)]
        for i in range(n):
            case = services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title=f"案件{i}")
            services.case_assign_expert(user=bob, case=case, expert=experts[i % 3])
            log_visit(bob, case)

    def test_the_next_page_keeps_every_filter(self, client_for, bob, campaign):
        self.make_cases(bob, campaign, 26)
        response = client_for(bob).get(reverse("cases:list"), {"status": ["open", "diagnosing"], "per_page": 25})
        assert response.context["page_obj"].has_next()
        next_link = response.content.decode().split('class="page-link" href="?')[1].split('"')[0]
        assert "status=open" in next_link and "status=diagnosing" in next_link and "page=2" in next_link

    @pytest.mark.parametrize("per_page", [25, 50])
    def test_the_case_list_costs_the_same_at_any_page_size(self, client_for, bob, campaign,
                                                         django_assert_num_queries, per_page):
        self.make_cases(bob, campaign, 55)
        client = client_for(bob)
        # session, user, the user's region (jurisdiction) and its province (header), the count, one page of cases
        # with firm, region, campaign and lead joined, their active assignments with experts (one prefetch); the
        # filter choices: campaigns, leads and experts of the visible cases.
        with django_assert_num_queries(9):
            response = client.get(reverse("cases:list"), {"per_page": per_page})
        assert len(response.context["object_list"]) == per_page

    @pytest.mark.parametrize("per_page", [25, 50])
    def test_the_visit_list_costs_the_same_at_any_page_size(self, client_for, bob, campaign,
                                                          django_assert_num_queries, per_page):
        self.make_cases(bob, campaign, 55)
        client = client_for(bob)
        # session, user, the user's region (jurisdiction) and its province (header), the count, one page of visits
        # with case, firm, campaign and logger joined and the file count annotated; the filter choices: campaigns
        # and who logged visits.
        with django_assert_num_queries(7):
            response = client.get(reverse("visits:list"), {"per_page": per_page})
        assert len(response.context["object_list"]) == per_page

    @pytest.mark.parametrize("visits", [1, 5])
    def test_the_case_page_costs_the_same_whatever_its_visits_and_experts(self, client_for, bob, case,
                                                                          django_assert_num_queries, visits):
        for i in range(visits):
            log_visit(bob, case, days_ago=i, attachments=[SimpleUploadedFile(f"p{i}.png", PNG)])
            services.case_assign_expert(user=bob, case=case, expert=ExpertFactory(capacity=10))
        client = client_for(bob)
        client.get(reverse("cases:detail", args=[case.pk]))  # warms the content-type cache
        # session, user, the user's region (jurisdiction) and its province (header), the case with firm, region,
        # campaign and lead; its visits and their attachments; the rating; the audit entries of the case and its
        # visits; the needs; the assignments with experts and who assigned; the history with actors.
        with django_assert_num_queries(11):
            response = client.get(reverse("cases:detail", args=[case.pk]))
        assert len(response.context["visits"]) == visits


def test_the_navigation_offers_cases_to_everyone_and_visits_and_the_pool_to_those_who_use_them(
    client_for, alice, bob, diana, erin
):
    def links(user):
        return {item["url_name"] for item in client_for(user).get(reverse("home")).context["nav_items"]}

    assert {"cases:list", "visits:list", "experts:list"} <= links(bob)
    assert {"cases:list", "visits:list", "experts:list"} <= links(diana)
    assert "cases:list" in links(erin) and "visits:list" in links(erin) and "experts:list" not in links(erin)
    assert "cases:list" in links(alice) and not {"visits:list", "experts:list"} & links(alice)


def test_ids_past_the_databases_range_are_refused_not_crashed(client_for, bob, case, visit, need, expert):
    huge = "9" * 23
    client = client_for(bob)
    for url in [f"/cases/{huge}/", f"/visits/{huge}/", f"/visits/attachments/{huge}/",
                f"/cases/for-need/{huge}/experts/", reverse("cases:new") + f"?need={huge}"]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/cases/{case.pk}/experts/{huge}/release/").status_code == 404
    assert client.post(reverse("cases:assign", args=[case.pk]), {"expert": huge}).status_code == 400
    response = client.post(reverse("cases:new") + f"?need={need.pk}",
                           {"campaign": huge, "needs": [huge], "lead": huge, "title": "x"})
    assert set(response.context["form"].errors) == {"campaign", "needs", "lead"}
    response = client.post(reverse("cases:close", args=[case.pk]),
                           {"resolution": "resolved", "fulfilled_needs": [huge], "version": huge})
    assert response.context["form"].errors["fulfilled_needs"]
    assert client.get(reverse("cases:list"), {"campaign": huge, "lead": huge, "expert": huge}).status_code == 200
    assert client.get(reverse("visits:list"), {"case": huge, "logged_by": huge}).status_code == 200
    assert AssistanceCase.objects.count() == 1 and case.assignments.count() == 0


def test_the_firm_sees_the_phone_and_email_of_its_regulator_and_expert(client_for, alice, bob, case, assigned):
    bob.phone, bob.email, bob.organisation = "0311-87650000", "wangjg@sjz.example.cn", "石家庄市市场监督管理局"
    bob.save()
    assigned.expert.phone, assigned.expert.email = "13800001111", "wanghy@lab.example.cn"
    assigned.expert.save()
    html = client_for(alice).get(reverse("cases:detail", args=[case.pk])).content.decode()
    contacts = html[html.index('data-testid="case-contacts"'):html.index('data-testid="case-experts"')]
    for text in ["王建国", 'href="tel:0311-87650000"', "mailto:wangjg@sjz.example.cn", "石家庄市市场监督管理局",
                 "王海燕", 'href="tel:13800001111"', "mailto:wanghy@lab.example.cn"]:
        assert text in contacts
