"""The registry's pages: who reaches what, what bad input answers, and how many queries a list costs."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from enterprises.models import Enterprise, EnterpriseClaim, NeedRequest, NeedsSurvey
from enterprises.uscc import check_character, generate_uscc, validate_uscc
from portal.models import Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, UserFactory
from tests.test_registry_scale import ESTIMATE_QUERIES

pytestmark = pytest.mark.django_db


@pytest.fixture
def firm(alice):
    return alice.enterprises.get()


@pytest.fixture
def tangshan_firm(db):
    return EnterpriseFactory(name="唐山钢铁制品有限公司", region=Region.objects.get(code="130203"))


@pytest.fixture
def need(alice, firm):
    from enterprises.services import need_submit

    return need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                       title="计量器具校准", description="需要校准压力表")


def register_data(**overrides):
    data = {"uscc": generate_uscc("130104"), "name": "石家庄新锐电子有限公司", "region": "", "industry": "39",
            "size": "small", "employees": "40", "annual_revenue": "1200", "address": "", "contact_name": "王芳",
            "contact_phone": "13900000000", "contact_email": ""}
    data.update(overrides)
    return data


class TestAccess:
    def test_anonymous_users_are_sent_to_sign_in(self, client, firm, need):
        for url in [reverse("enterprises:list"), reverse("enterprises:detail", args=[firm.pk]),
                    reverse("needs:list"), reverse("needs:detail", args=[need.pk]), reverse("enterprises:register")]:
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))

    def test_regulators_of_the_city_see_the_firm_and_its_need(self, client_for, bob, bianca, firm, need):
        for user in (bob, bianca):
            client = client_for(user)
            assert client.get(reverse("enterprises:detail", args=[firm.pk])).status_code == 200
            assert client.get(reverse("needs:detail", args=[need.pk])).status_code == 200
            assert firm in client.get(reverse("enterprises:list")).context["object_list"]

    def test_a_regulator_of_another_city_gets_404_and_an_empty_list(self, client_for, charlie, firm, need):
        client = client_for(charlie)
        assert client.get(reverse("enterprises:detail", args=[firm.pk])).status_code == 404
        assert client.get(reverse("needs:detail", args=[need.pk])).status_code == 404
        assert firm not in client.get(reverse("enterprises:list")).context["object_list"]
        assert need not in client.get(reverse("needs:list")).context["object_list"]

    def test_the_province_supervisor_reads_but_may_not_triage_or_register(self, client_for, diana, firm, need):
        client = client_for(diana)
        assert client.get(reverse("enterprises:detail", args=[firm.pk])).status_code == 200
        response = client.post(reverse("needs:triage", args=[need.pk]), {"action": "accept"})
        assert response.status_code == 403
        assert client.get(reverse("enterprises:register")).status_code == 403
        need.refresh_from_db()
        assert need.status == NeedRequest.Status.SUBMITTED

    def test_an_sme_user_sees_only_its_own_firm(self, client_for, alice, firm, tangshan_firm):
        client = client_for(alice)
        assert client.get(reverse("enterprises:detail", args=[firm.pk])).status_code == 200
        assert client.get(reverse("enterprises:detail", args=[tangshan_firm.pk])).status_code == 404
        assert client.get(reverse("enterprises:list")).status_code == 403

    def test_an_expert_cannot_use_the_registry(self, client_for, erin, firm):
        client = client_for(erin)
        assert client.get(reverse("enterprises:list")).status_code == 403
        assert client.get(reverse("enterprises:detail", args=[firm.pk])).status_code == 404

    def test_triage_answers_405_to_a_get(self, client_for, bob, need):
        assert client_for(bob).get(reverse("needs:triage", args=[need.pk])).status_code == 405


class TestRegistration:
    def test_an_sme_registers_its_firm_with_the_region_its_credit_code_names(self, client_for, alice):
        data = register_data()
        response = client_for(alice).post(reverse("enterprises:register"), data)
        firm = Enterprise.objects.get(uscc=data["uscc"])
        assert response.status_code == 302
        assert firm.region_id == "130104"
        assert alice in firm.users.all()
        assert firm.is_key is False

    @pytest.mark.parametrize(("uscc", "code"), [
        ("91130104MA0", "uscc_length"),
        ("91130104MA0OOOOOOO", "uscc_character"),
    ])
    def test_it_rejects_a_malformed_credit_code_with_its_own_message(self, client_for, alice, uscc, code):
        with pytest.raises(ValidationError) as raised, translation.override("zh-hans"):
            validate_uscc(uscc)
        assert raised.value.code == code
        response = client_for(alice).post(reverse("enterprises:register"), register_data(uscc=uscc))
        assert response.status_code == 200
        assert response.context["form"].errors["uscc"] == raised.value.messages
        assert not Enterprise.objects.filter(name="石家庄新锐电子有限公司").exists()

    def test_it_rejects_a_credit_code_with_a_wrong_check_character(self, client_for, alice):
        code = generate_uscc("130104")
        wrong = code[:17] + next(c for c in "0123456789" if c != check_character(code[:17]))
        response = client_for(alice).post(reverse("enterprises:register"), register_data(uscc=wrong))
        assert response.context["form"].errors["uscc"]
        assert not Enterprise.objects.filter(uscc=wrong).exists()

    def test_a_code_already_in_the_registry_is_sent_to_claim_instead(self, client_for, alice, tangshan_firm):
        response = client_for(alice).post(reverse("enterprises:register"), register_data(uscc=tangshan_firm.uscc))
        assert "claim" in " ".join(response.context["form"].errors["uscc"]).lower() or response.context["form"].errors
        assert tangshan_firm.users.count() == 0

    def test_a_regulator_cannot_register_a_firm_outside_the_jurisdiction(self, client_for, bob):
        data = register_data(uscc=generate_uscc("130203"))
        response = client_for(bob).post(reverse("enterprises:register"), data)
        assert response.status_code == 200
        assert "region" in response.context["form"].errors
        assert not Enterprise.objects.filter(uscc=data["uscc"]).exists()

    def test_bad_numbers_get_per_field_messages(self, client_for, alice):
        response = client_for(alice).post(reverse("enterprises:register"),
                                          register_data(employees="many", industry="ZZ"))
        errors = response.context["form"].errors
        assert set(errors) == {"employees", "industry"}
        assert not Enterprise.objects.filter(name="石家庄新锐电子有限公司").exists()

    @pytest.mark.parametrize(("field", "value"), [("employees", "many"), ("employees", "-1"),
                                                  ("annual_revenue", "-5"), ("annual_revenue", "-0.01"),
                                                  ("industry", "ZZ")])
    def test_each_bad_number_alone_is_refused_with_its_own_message(self, client_for, alice, field, value):
        response = client_for(alice).post(reverse("enterprises:register"), register_data(**{field: value}))
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {field}
        assert not Enterprise.objects.filter(name="石家庄新锐电子有限公司").exists()

    def test_a_revenue_of_zero_is_accepted(self, client_for, alice):
        response = client_for(alice).post(reverse("enterprises:register"), register_data(annual_revenue="0"))
        assert response.status_code == 302
        assert Enterprise.objects.get(name="石家庄新锐电子有限公司").annual_revenue == 0

    def test_the_credit_code_check_names_the_region(self, client_for, alice):
        code = generate_uscc("130102")
        response = client_for(alice).get(reverse("enterprises:uscc-check"), {"uscc": code.lower()})
        assert response.context["region"].code == "130102"


class TestClaims:
    def test_a_claim_waits_for_a_regulator_and_confirmation_links_the_account(
        self, client_for, bob, tangshan_firm, firm
    ):
        newcomer = UserFactory(username="newcomer")
        client_for(newcomer).post(reverse("enterprises:claim"), {"uscc": firm.uscc, "message": "我是质量负责人"})
        claim = EnterpriseClaim.objects.get(user=newcomer)
        assert claim.status == EnterpriseClaim.Status.PENDING
        assert newcomer not in firm.users.all()
        client_for(bob).post(reverse("enterprises:claim-decide", args=[claim.pk]), {"confirm": "1"})
        claim.refresh_from_db()
        assert claim.status == EnterpriseClaim.Status.CONFIRMED
        assert newcomer in firm.users.all()

    def test_a_regulator_of_another_city_cannot_decide_the_claim(self, client_for, charlie, firm):
        newcomer = UserFactory(username="newcomer")
        claim = EnterpriseClaim.objects.create(enterprise=firm, user=newcomer)
        response = client_for(charlie).post(reverse("enterprises:claim-decide", args=[claim.pk]), {"confirm": "1"})
        assert response.status_code == 404
        claim.refresh_from_db()
        assert claim.status == EnterpriseClaim.Status.PENDING

    def test_rejecting_needs_a_note(self, client_for, bob, firm):
        claim = EnterpriseClaim.objects.create(enterprise=firm, user=UserFactory(username="newcomer"))
        client_for(bob).post(reverse("enterprises:claim-decide", args=[claim.pk]), {"confirm": "0", "note": ""})
        claim.refresh_from_db()
        assert claim.status == EnterpriseClaim.Status.PENDING


class TestNeeds:
    def test_an_sme_submits_a_need_with_an_attachment_and_sees_it_submitted(self, client_for, alice, firm):
        client = client_for(alice)
        upload = SimpleUploadedFile("report.pdf", b"%PDF-1.4 test", content_type="application/pdf")
        response = client.post(reverse("needs:new"), {
            "enterprise": firm.pk, "service_area": 2, "title": "压力表校准", "description": "十台压力表需要校准",
            "urgency": "high", "attachments": [upload],
        })
        need = NeedRequest.objects.get(title="压力表校准")
        assert response.status_code == 302
        assert need.status == NeedRequest.Status.SUBMITTED
        assert need.attachments.get().original_name == "report.pdf"
        assert need.events.get().to_status == NeedRequest.Status.SUBMITTED
        assert client.get(reverse("needs:attachment", args=[need.attachments.get().pk])).status_code == 200

    def test_a_forbidden_attachment_type_saves_nothing(self, client_for, alice, firm):
        upload = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
        response = client_for(alice).post(reverse("needs:new"), {
            "enterprise": firm.pk, "service_area": 2, "title": "压力表校准", "description": "x", "urgency": "normal",
            "attachments": [upload],
        })
        assert response.status_code == 200
        assert "attachments" in response.context["form"].errors
        assert not NeedRequest.objects.exists()

    def test_a_need_cannot_be_filed_for_another_firm(self, client_for, alice, tangshan_firm):
        response = client_for(alice).post(reverse("needs:new"), {
            "enterprise": tangshan_firm.pk, "service_area": 2, "title": "t", "description": "d", "urgency": "normal",
        })
        assert "enterprise" in response.context["form"].errors
        assert not NeedRequest.objects.exists()

    def test_the_attachment_of_a_need_is_not_served_to_another_city(self, client_for, alice, charlie, firm):
        from enterprises.services import need_submit

        upload = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
        need = need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=1), title="t",
                           description="d", attachments=[upload])
        assert client_for(charlie).get(reverse("needs:attachment", args=[need.attachments.get().pk])).status_code == 404

    def test_triage_accept_decline_and_duplicate(self, client_for, alice, bob, firm, need):
        from enterprises.services import need_submit

        client = client_for(bob)
        client.post(reverse("needs:triage", args=[need.pk]), {"action": "accept", "reason": "安排专家"})
        need.refresh_from_db()
        assert need.status == NeedRequest.Status.TRIAGED
        second = need_submit(user=alice, enterprise=firm, service_area=need.service_area, title="again",
                             description="d")
        client.post(reverse("needs:triage", args=[second.pk]), {"action": "duplicate", "duplicate_of": need.pk})
        second.refresh_from_db()
        assert second.status == NeedRequest.Status.DECLINED
        assert second.duplicate_of == need
        assert [e.to_status for e in second.events.all()] == ["submitted", "declined"]

    def test_declining_without_a_reason_changes_nothing(self, client_for, bob, need):
        response = client_for(bob).post(reverse("needs:triage", args=[need.pk]), {"action": "decline", "reason": " "})
        assert response.status_code == 400
        assert "reason" in response.context["triage_form"].errors
        need.refresh_from_db()
        assert need.status == NeedRequest.Status.SUBMITTED

    def test_a_declined_need_cannot_be_accepted(self, client_for, bob, need):
        from enterprises.services import need_decline

        need_decline(user=bob, need=need, reason="不属于帮扶范围")
        response = client_for(bob).post(reverse("needs:triage", args=[need.pk]), {"action": "accept"})
        assert response.status_code == 400
        need.refresh_from_db()
        assert need.status == NeedRequest.Status.DECLINED

    def test_duplicate_of_a_need_in_another_city_is_refused(self, client_for, bob, need, tangshan_firm):
        from enterprises.services import need_submit

        tangshan_user = UserFactory(username="ts_sme")
        tangshan_firm.users.add(tangshan_user)
        other = need_submit(user=tangshan_user, enterprise=tangshan_firm, service_area=need.service_area,
                            title="o", description="d")
        response = client_for(bob).post(reverse("needs:triage", args=[need.pk]),
                                        {"action": "duplicate", "duplicate_of": other.pk})
        assert response.status_code == 400
        need.refresh_from_db()
        assert need.status == NeedRequest.Status.SUBMITTED


@pytest.fixture
def hebei_campaign(db):
    return CampaignFactory(name="河北省质量提升行动")


@pytest.fixture
def shijiazhuang_campaign(db):
    return CampaignFactory(name="石家庄市一对一帮扶", region=Region.objects.get(code="130100"))


class TestSurveys:
    def test_a_follow_up_without_outcome_answers_or_campaign_is_refused_per_field(self, client_for, alice, firm,
                                                                                  hebei_campaign):
        response = client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "follow_up"]),
                                          {"services_wanted": [1], "revenue_change_pct": "12"})
        assert response.status_code == 200
        assert {"awareness_improved", "performance_improved", "campaign"} <= set(response.context["form"].errors)
        assert not NeedsSurvey.objects.exists()

    def test_a_follow_up_with_outcomes_is_recorded_for_its_campaign(self, client_for, alice, firm, hebei_campaign):
        client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "follow_up"]), {
            "campaign": hebei_campaign.pk, "services_wanted": [1, 8], "awareness_improved": "true",
            "performance_improved": "false", "revenue_change_pct": "12.5", "output_change_pct": "13",
            "profit_margin_change_pct": "-2",
        })
        survey = NeedsSurvey.objects.get()
        assert survey.campaign == hebei_campaign
        assert survey.awareness_improved is True and survey.performance_improved is False
        assert str(survey.revenue_change_pct) == "12.50"
        assert sorted(survey.services_wanted.values_list("code", flat=True)) == [1, 8]

    def test_a_baseline_may_be_answered_outside_any_campaign(self, client_for, alice, firm, hebei_campaign):
        response = client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "baseline"]),
                                          {"services_wanted": [2]})
        assert response.status_code == 302
        assert NeedsSurvey.objects.get().campaign is None

    def test_an_out_of_range_change_is_refused(self, client_for, alice, firm, hebei_campaign):
        response = client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "follow_up"]), {
            "campaign": hebei_campaign.pk, "awareness_improved": "true", "performance_improved": "true",
            "revenue_change_pct": "-250",
        })
        assert "revenue_change_pct" in response.context["form"].errors
        assert not NeedsSurvey.objects.exists()

    def test_only_campaigns_covering_the_firm_are_offered(self, client_for, alice, firm, hebei_campaign,
                                                           shijiazhuang_campaign):
        tangshan = CampaignFactory(name="唐山市计量帮扶", region=Region.objects.get(code="130200"))
        response = client_for(alice).get(reverse("enterprises:survey", args=[firm.pk, "follow_up"]))
        offered = set(response.context["form"].fields["campaign"].queryset)
        assert offered == {hebei_campaign, shijiazhuang_campaign}
        response = client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "follow_up"]), {
            "campaign": tangshan.pk, "awareness_improved": "true", "performance_improved": "true"})
        assert response.status_code == 200 and "campaign" in response.context["form"].errors
        assert not NeedsSurvey.objects.exists()

    def test_the_campaign_of_the_firms_latest_case_is_proposed(self, client_for, alice, bob, firm, hebei_campaign,
                                                               shijiazhuang_campaign):
        from campaigns.cases.services import case_open

        case_open(user=bob, campaign=shijiazhuang_campaign, enterprise=firm, title="计量帮扶")
        response = client_for(alice).get(reverse("enterprises:survey", args=[firm.pk, "follow_up"]))
        assert response.context["form"]["campaign"].value() == shijiazhuang_campaign.pk

    def test_the_only_campaign_covering_a_firm_without_cases_is_proposed(self, client_for, alice, firm,
                                                                         hebei_campaign):
        response = client_for(alice).get(reverse("enterprises:survey", args=[firm.pk, "follow_up"]))
        assert response.context["form"]["campaign"].value() == hebei_campaign.pk

    @pytest.mark.parametrize("value", ["abc", "99999999999999999999", "-1"])
    def test_a_malformed_campaign_is_a_field_error_not_a_crash(self, client_for, alice, firm, value):
        response = client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "baseline"]),
                                          {"campaign": value})
        assert response.status_code == 200 and "campaign" in response.context["form"].errors
        assert not NeedsSurvey.objects.exists()

    def test_an_unknown_survey_kind_is_404(self, client_for, alice, firm):
        client = client_for(alice)
        assert client.get(reverse("enterprises:survey", args=[firm.pk, "baseline"])).status_code == 200
        assert client.get(reverse("enterprises:survey", args=[firm.pk, "weekly"])).status_code == 404
        assert client.post(reverse("enterprises:survey", args=[firm.pk, "weekly"]), {}).status_code == 404
        assert not NeedsSurvey.objects.exists()


def test_the_demo_ties_each_follow_up_survey_to_the_firms_case_or_the_narrowest_campaign(alice, bob):
    from campaigns.cases.demo import link_follow_up_surveys
    from campaigns.cases.services import case_open

    hebei = CampaignFactory(name="河北省质量提升行动")
    shijiazhuang = CampaignFactory(name="石家庄市一对一帮扶", region=Region.objects.get(code="130100"))
    assisted, other = EnterpriseFactory(), EnterpriseFactory(region=Region.objects.get(code="130104"))
    anhui = EnterpriseFactory(region=Region.objects.get(code="340102"))
    case_open(user=bob, campaign=hebei, enterprise=assisted, title="帮扶")
    surveys = {firm: NeedsSurvey.objects.create(enterprise=firm, kind=NeedsSurvey.Kind.FOLLOW_UP, answered_by=alice,
                                                awareness_improved=True, performance_improved=True)
               for firm in (assisted, other, anhui)}
    baseline = NeedsSurvey.objects.create(enterprise=other, kind=NeedsSurvey.Kind.BASELINE, answered_by=alice)
    assert link_follow_up_surveys([hebei, shijiazhuang]) == 2
    campaign_of = {firm: NeedsSurvey.objects.get(pk=survey.pk).campaign for firm, survey in surveys.items()}
    # The campaign of the firm's case; else the narrowest covering it; none outside every campaign.
    assert campaign_of == {assisted: hebei, other: shijiazhuang, anhui: None}
    assert NeedsSurvey.objects.get(pk=baseline.pk).campaign is None
    assert link_follow_up_surveys([hebei, shijiazhuang]) == 0  # again: nothing left to link


class TestRegistryList:
    def make_firms(self, count):
        for index in range(count):
            EnterpriseFactory(name=f"企业{index:03d}", region=Region.objects.get(code="130104"))

    @pytest.mark.parametrize("per_page", [25, 100])
    def test_the_list_costs_the_same_queries_at_any_page_size(
        self, client_for, bob, django_assert_num_queries, per_page
    ):
        self.make_firms(110)
        client = client_for(bob)
        # session, user, the user's region (jurisdiction) and its province (header), the count
        # (on PostgreSQL after the planner's estimate), and one page of firms with region, parent
        # and industry joined, the open-needs flag a column of its own.
        with django_assert_num_queries(6 + ESTIMATE_QUERIES):
            response = client.get(reverse("enterprises:list"), {"per_page": per_page})
        assert len(response.context["object_list"]) == per_page

    def test_filters_narrow_the_list(self, client_for, bob, firm):
        EnterpriseFactory(name="石家庄出口企业", region=Region.objects.get(code="130104"), is_exporter=True)
        client = client_for(bob)

        def names(params):
            return [f.name for f in client.get(reverse("enterprises:list"), params).context["object_list"]]

        assert names({"is_exporter": "true"}) == ["石家庄出口企业"]
        assert names({"region": "130102"}) == [firm.name]

    @pytest.mark.parametrize(("params", "status", "names"), [
        # A value that is no choice is ignored: the whole list, not an error page.
        ({"per_page": "x"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
        ({"size": "gigantic"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
        ({"certification": "nope"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
        ({"is_key": "maybe"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
        # A region prefix that names no region keeps nothing.
        ({"region": "abc"}, 200, []),
        # Pages are cursors: one that was not made by the list (or an old page number) gives the
        # first page.
        ({"after": "abc"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
        ({"before": "not-a-cursor"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
        ({"page": "9"}, 200, ["石家庄出口企业", "石家庄恒泰食品有限公司"]),
    ])
    def test_nonsense_filter_values_do_not_fail(self, client_for, bob, firm, params, status, names):
        EnterpriseFactory(name="石家庄出口企业", region=Region.objects.get(code="130104"), is_exporter=True)
        response = client_for(bob).get(reverse("enterprises:list"), params)
        assert response.status_code == status
        if names is not None:
            assert [f.name for f in response.context["object_list"]] == names


def test_the_next_page_link_keeps_every_value_of_a_repeated_filter(client_for, bob):
    from tests.factories import EnterpriseFactory

    for _ in range(30):
        EnterpriseFactory(size="micro")
    response = client_for(bob).get(reverse("enterprises:list"), {"size": ["micro", "small"], "is_key": "false"})
    html = response.content.decode()
    assert "size=micro&amp;size=small" in html and "is_key=false" in html and "after=" in html
    assert '<option value="false" selected>' in html


def test_a_service_area_id_past_the_columns_range_is_an_invalid_choice_not_a_crash(client_for, alice):
    firm = alice.enterprises.get()
    response = client_for(alice).post(reverse("enterprises:survey", args=[firm.pk, "baseline"]),
                                      {"services_wanted": ["99999999999999999999"]})
    assert response.status_code == 200
    assert "services_wanted" in response.context["form"].errors


def test_the_enterprise_page_names_the_campaign_of_each_follow_up_survey(client_for, alice):
    from enterprises.services import survey_answer
    from tests.factories import CampaignFactory

    firm = alice.enterprises.get()
    campaign = CampaignFactory(name="河北省质量提升行动年")
    survey_answer(user=alice, enterprise=firm, kind="follow_up", campaign=campaign, awareness_improved=True,
                  performance_improved=True)
    html = client_for(alice).get(reverse("enterprises:detail", args=[firm.pk])).content.decode()
    assert "河北省质量提升行动年" in html
