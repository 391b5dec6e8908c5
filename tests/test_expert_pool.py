"""The expert pool's pages: who reaches what, what each filter keeps, bad input, and query counts."""

from urllib.parse import urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.http import QueryDict
from django.urls import reverse

from campaigns.cases import services as case_services
from experts.filters import ExpertFilterSet
from experts.models import Expert
from experts.selectors import with_record
from portal.models import AuditEntry, Region, Specialty, User
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory, UserFactory

pytestmark = pytest.mark.django_db


def specialties(*codes):
    return list(Specialty.objects.filter(code__in=codes))


def regions(*codes):
    return list(Region.objects.filter(code__in=codes))


@pytest.fixture
def client_for(client_for, settings):
    """Signed in and switched to English (the switcher's cookie), so assertions read the msgids."""

    def sign_in(user):
        client = client_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def expert(db):
    """An expert of the Shijiazhuang pool (130100) serving the city."""
    return ExpertFactory(code="130100-0001", name="李明", employer="河北省计量监督检测研究院")


@pytest.fixture
def erin_expert(erin):
    return ExpertFactory(code="130100-0099", name="王海燕", user=erin)


@pytest.fixture
def province_expert(db):
    """Kept by the province pool and serving the whole province: bob sees but does not keep it."""
    province = Region.objects.get(code="130000")
    return ExpertFactory(code="130000-0001", name="省级专家", region=province, regions_served=[province])


def assign(expert, *, by, enterprise=None, campaign=None):
    """Open a case for a firm in 长安区 and assign `expert` to it."""
    case = case_services.case_open(user=by, campaign=campaign or CampaignFactory(),
                                   enterprise=enterprise or EnterpriseFactory(), title="计量器具校准")
    case_services.case_assign_expert(user=by, case=case, expert=expert)
    return case


def closed_and_rated(expert, *, by, sme, score, comment=""):
    """A case of `sme`'s firm that `expert` saw to the end, closed and rated."""
    case = assign(expert, by=by, enterprise=sme.enterprises.get())
    case = case_services.case_close(user=by, case=case, resolution="unresolved", note="企业暂停生产")
    case_services.case_rate(user=sme, case=case, score=score, comment=comment)
    return case


def form_data(**overrides):
    data = {
        "code": "130100-0100", "name": "陈静", "title": "高级工程师", "employer": "石家庄市质量技术服务中心",
        "employer_kind": "test_lab", "phone": "0311-8888888", "email": "chenjing@example.cn", "region": "130100",
        "specialties": ["metrology", "inspection-testing"], "regions_served": ["130100", "130102"],
        "capacity": "4", "is_active": "on", "user": "", "notes": "",
    }
    data.update(overrides)
    return data


class TestAccess:
    def test_anonymous_users_are_sent_to_sign_in(self, client, expert):
        for url in [reverse("experts:list"), reverse("experts:detail", args=[expert.pk]), reverse("experts:new"),
                    reverse("experts:edit", args=[expert.pk]), reverse("experts:import")]:
            response = client.get(url)
            assert response.status_code == 302
            assert response.url.startswith(reverse("login"))

    def test_the_pool_keeper_and_a_same_city_colleague_read_and_edit(self, client_for, bob, bianca, expert):
        for user in (bob, bianca):
            client = client_for(user)
            assert expert in client.get(reverse("experts:list")).context["object_list"]
            assert client.get(reverse("experts:detail", args=[expert.pk])).status_code == 200
            assert client.get(reverse("experts:new")).status_code == 200
            assert client.get(reverse("experts:edit", args=[expert.pk])).status_code == 200
            assert client.get(reverse("experts:import")).status_code == 200

    def test_a_regulator_of_another_city_gets_404_and_an_empty_list(self, client_for, charlie, expert):
        client = client_for(charlie)
        assert client.get(reverse("experts:detail", args=[expert.pk])).status_code == 404
        assert client.get(reverse("experts:edit", args=[expert.pk])).status_code == 404
        assert client.post(reverse("experts:edit", args=[expert.pk]), form_data()).status_code == 404
        assert expert not in client.get(reverse("experts:list")).context["object_list"]

    def test_the_province_supervisor_reads_but_may_not_write(self, client_for, diana, expert):
        client = client_for(diana)
        assert expert in client.get(reverse("experts:list")).context["object_list"]
        assert client.get(reverse("experts:detail", args=[expert.pk])).status_code == 200
        assert client.get(reverse("experts:new")).status_code == 403
        assert client.post(reverse("experts:new"), form_data()).status_code == 403
        assert client.get(reverse("experts:edit", args=[expert.pk])).status_code == 403
        assert client.post(reverse("experts:edit", args=[expert.pk]), form_data(name="改名")).status_code == 403
        assert client.get(reverse("experts:import")).status_code == 403
        expert.refresh_from_db()
        assert expert.name == "李明" and not Expert.objects.filter(code="130100-0100").exists()

    def test_an_expert_opens_only_their_own_record_and_not_the_list(self, client_for, erin, erin_expert, expert):
        client = client_for(erin)
        assert client.get(reverse("experts:list")).status_code == 403
        assert client.get(reverse("experts:detail", args=[erin_expert.pk])).status_code == 200
        assert client.get(reverse("experts:detail", args=[expert.pk])).status_code == 404
        assert client.get(reverse("experts:edit", args=[erin_expert.pk])).status_code == 403
        assert client.get(reverse("experts:new")).status_code == 403

    def test_an_expert_sees_no_audit_trail_of_their_record(self, client_for, erin, erin_expert):
        response = client_for(erin).get(reverse("experts:detail", args=[erin_expert.pk]))
        assert b'data-testid="audit-trail"' not in response.content

    def test_an_sme_user_may_not_use_the_pool(self, client_for, alice, expert):
        client = client_for(alice)
        assert client.get(reverse("experts:list")).status_code == 403
        assert client.get(reverse("experts:detail", args=[expert.pk])).status_code == 403

    def test_the_administrator_reads_every_pool(self, client_for, admin_user, expert):
        tangshan = ExpertFactory(region=Region.objects.get(code="130200"))
        listed = client_for(admin_user).get(reverse("experts:list")).context["object_list"]
        assert {expert, tangshan} <= set(listed)

    def test_a_regulator_may_not_edit_an_expert_kept_by_the_province_pool(self, client_for, bob, province_expert):
        client = client_for(bob)
        assert client.get(reverse("experts:detail", args=[province_expert.pk])).status_code == 200
        assert client.get(reverse("experts:edit", args=[province_expert.pk])).status_code == 403

    def test_the_detail_page_answers_405_to_a_post(self, client_for, bob, expert):
        assert client_for(bob).post(reverse("experts:detail", args=[expert.pk])).status_code == 405

    def test_an_unknown_expert_is_404(self, client_for, bob):
        assert client_for(bob).get(reverse("experts:detail", args=[999999])).status_code == 404


class TestFilters:
    """One test per filter of ExpertFilterSet, on the model's own queryset as the API will use it."""

    @staticmethod
    def kept(params, queryset=None) -> set[str]:
        data = QueryDict(urlencode(params, doseq=True))
        filterset = ExpertFilterSet(data, queryset=Expert.objects.all() if queryset is None else queryset)
        return set(filterset.qs.values_list("name", flat=True))

    def test_q_matches_name_pool_number_prefix_and_employer(self, db):
        ExpertFactory(name="李明", code="130100-0001", employer="河北省计量院")
        ExpertFactory(name="张红", code="130200-0001", employer="唐山市检验检测中心")
        ExpertFactory(name="赵强", code="139900-0007", employer="河北大学")
        assert self.kept({"q": "李"}) == {"李明"}
        assert self.kept({"q": "130200"}) == {"张红"}
        assert self.kept({"q": "0001"}) == set()  # the pool number matches from its start
        assert self.kept({"q": "河北"}) == {"李明", "赵强"}
        assert self.kept({"q": "  "}) == {"李明", "张红", "赵强"}

    def test_specialty_keeps_experts_with_any_of_the_given_specialties(self, db):
        ExpertFactory(name="计量", specialties=specialties("metrology"))
        ExpertFactory(name="计量与标准", specialties=specialties("metrology", "standardization"))
        ExpertFactory(name="品牌", specialties=specialties("brand"))
        assert self.kept({"specialty": "metrology"}) == {"计量", "计量与标准"}
        assert self.kept({"specialty": ["standardization", "brand"]}) == {"计量与标准", "品牌"}

    def test_an_unknown_specialty_is_a_form_error_not_a_crash(self, db):
        ExpertFactory(name="计量", specialties=specialties("metrology"))
        filterset = ExpertFilterSet(QueryDict("specialty=astrology"), queryset=Expert.objects.all())
        assert not filterset.is_valid() and "specialty" in filterset.errors

    def test_service_area_keeps_experts_with_a_specialty_serving_it(self, db):
        ExpertFactory(name="计量", specialties=specialties("metrology"))  # serves areas 2 and 10
        ExpertFactory(name="品牌", specialties=specialties("brand"))  # serves area 4
        assert self.kept({"service_area": "2"}) == {"计量"}
        assert self.kept({"service_area": "4"}) == {"品牌"}

    def test_region_served_keeps_experts_serving_inside_or_above_the_region(self, db):
        ExpertFactory(name="长安区", regions_served=regions("130102"))
        ExpertFactory(name="石家庄", regions_served=regions("130100"))
        ExpertFactory(name="河北", regions_served=regions("130000"))
        ExpertFactory(name="桥西区", regions_served=regions("130104"))
        ExpertFactory(name="唐山", regions_served=regions("130200"))
        assert self.kept({"region_served": "130102"}) == {"长安区", "石家庄", "河北"}
        assert self.kept({"region_served": "130100"}) == {"长安区", "石家庄", "河北", "桥西区"}
        assert self.kept({"region_served": "130000"}) == {"长安区", "石家庄", "河北", "桥西区", "唐山"}
        assert self.kept({"region_served": "13"}) == set()

    def test_pool_keeps_experts_kept_by_pools_inside_the_region(self, db):
        ExpertFactory(name="石家庄库", region=Region.objects.get(code="130100"))
        ExpertFactory(name="长安区库", region=Region.objects.get(code="130102"))
        ExpertFactory(name="唐山库", region=Region.objects.get(code="130200"))
        assert self.kept({"pool": "130100"}) == {"石家庄库", "长安区库"}
        assert self.kept({"pool": "130102"}) == {"长安区库"}
        assert self.kept({"pool": "abc"}) == set()

    def test_employer_kind_keeps_the_kinds_given(self, db):
        ExpertFactory(name="计量院", employer_kind="metrology")
        ExpertFactory(name="大学", employer_kind="university")
        ExpertFactory(name="咨询", employer_kind="consultancy")
        assert self.kept({"employer_kind": "university"}) == {"大学"}
        assert self.kept({"employer_kind": ["university", "consultancy"]}) == {"大学", "咨询"}

    def test_is_active_keeps_active_or_inactive_experts(self, db):
        ExpertFactory(name="在库")
        ExpertFactory(name="出库", is_active=False)
        assert self.kept({"is_active": "true"}) == {"在库"}
        assert self.kept({"is_active": "false"}) == {"出库"}

    def test_has_capacity_keeps_experts_with_room_for_another_case(self, bob):
        campaign = CampaignFactory()
        full = ExpertFactory(name="满负荷", capacity=1)
        ExpertFactory(name="有空", capacity=1)
        busy = ExpertFactory(name="还有空", capacity=2)
        assign(full, by=bob, campaign=campaign)
        assign(busy, by=bob, campaign=campaign)
        assert self.kept({"has_capacity": "true"}) == {"有空", "还有空"}
        assert self.kept({"has_capacity": "false"}) == {"满负荷"}
        # The same answer on the list's queryset, which already carries the `load` annotation.
        annotated = with_record(Expert.objects.all())
        assert self.kept({"has_capacity": "true"}, annotated) == {"有空", "还有空"}
        assert self.kept({"has_capacity": "false"}, annotated) == {"满负荷"}


class TestList:
    def test_the_list_shows_load_satisfaction_specialties_and_regions(self, client_for, bob, alice, expert):
        closed_and_rated(expert, by=bob, sme=alice, score=4)
        closed_and_rated(expert, by=bob, sme=alice, score=5)
        assign(expert, by=bob)
        response = client_for(bob).get(reverse("experts:list"))
        row = next(e for e in response.context["object_list"] if e.pk == expert.pk)
        assert (row.load, row.rating_count, row.rating_mean) == (1, 2, 4.5)
        html = response.content.decode()
        assert "1 / 3" in html and "4.5" in html and "(2)" in html
        assert "Metrology" in html and "石家庄市" in html and "130100-0001" in html

    def test_filters_narrow_the_page(self, client_for, bob, expert):
        ExpertFactory(name="品牌专家", specialties=specialties("brand"))
        response = client_for(bob).get(reverse("experts:list"), {"specialty": "brand"})
        assert [e.name for e in response.context["object_list"]] == ["品牌专家"]

    @pytest.mark.parametrize(("params", "status", "names"), [
        # A value that is no choice is ignored: the whole pool, not an error page.
        ({"specialty": "x"}, 200, ["李明"]),
        ({"service_area": "99"}, 200, ["李明"]),
        ({"employer_kind": "pirate"}, 200, ["李明"]),
        ({"is_active": "maybe"}, 200, ["李明"]),
        ({"has_capacity": "2"}, 200, ["李明"]),
        ({"per_page": "7"}, 200, ["李明"]),
        ({"q": "\x00"}, 200, ["李明"]),
        # A region or pool prefix that names none keeps nothing.
        ({"region_served": "abc"}, 200, []),
        ({"pool": "1"}, 200, []),
        ({"page": "9"}, 404, None),
    ])
    def test_nonsense_filter_values_do_not_fail(self, client_for, bob, expert, params, status, names):
        response = client_for(bob).get(reverse("experts:list"), params)
        assert response.status_code == status
        if names is not None:
            assert [e.name for e in response.context["object_list"]] == names

    def test_the_filter_form_shows_the_values_chosen(self, client_for, bob, expert):
        response = client_for(bob).get(reverse("experts:list"), {"specialty": "metrology", "has_capacity": "true",
                                                                 "is_active": "false", "pool": "130100"})
        html = response.content.decode()
        assert '<option value="metrology" selected>' in html
        has_capacity = html[html.index('id="f-has_capacity"'):]
        assert has_capacity.index('<option value="true" selected>') < has_capacity.index("</select>")
        is_active = html[html.index('id="f-is_active"'):]
        assert is_active.index('<option value="false" selected>') < is_active.index("</select>")
        assert 'name="pool" inputmode="numeric" maxlength="6" value="130100"' in html

    @pytest.mark.parametrize("per_page", [25, 100])
    def test_the_list_costs_the_same_queries_at_any_page_size(
        self, client_for, bob, alice, django_assert_num_queries, per_page
    ):
        for _number in range(30):
            ExpertFactory(specialties=specialties("metrology", "brand"),
                          regions_served=regions("130100", "130102"))
        closed_and_rated(Expert.objects.first(), by=bob, sme=alice, score=5)
        client = client_for(bob)
        # session, user, the user's region and its province (the navbar), the filter form's
        # specialty and service-area choices, count, the page of experts with their load and
        # rating subqueries, prefetched specialties, prefetched regions served.
        with django_assert_num_queries(9):
            response = client.get(reverse("experts:list"), {"per_page": per_page})
        assert len(response.context["object_list"]) == min(per_page, 30)


class TestDetail:
    def test_it_shows_the_record_ratings_and_cases_the_viewer_may_see(self, client_for, bob, alice, expert):
        rated = closed_and_rated(expert, by=bob, sme=alice, score=4, comment="专家很专业")
        current = assign(expert, by=bob)
        response = client_for(bob).get(reverse("experts:detail", args=[expert.pk]))
        html = response.content.decode()
        assert response.context["expert"].load == 1 and response.context["expert"].rating_mean == 4
        assert "专家很专业" in html
        assert {a.case for a in response.context["assignments"]} == {rated, current}
        assert reverse("cases:detail", args=[current.pk]) in html

    def test_another_citys_cases_are_left_out(self, client_for, bob, diana, charlie, expert):
        tangshan_firm = EnterpriseFactory(region=Region.objects.get(code="130203"))
        ours = assign(expert, by=bob)
        # A province-wide campaign: the expert helps a Tangshan firm, assigned by the province.
        expert.regions_served.add(Region.objects.get(code="130200"))
        theirs = assign(expert, by=charlie, enterprise=tangshan_firm)
        cases = {a.case for a in client_for(bob).get(reverse("experts:detail", args=[expert.pk]))
                 .context["assignments"]}
        assert cases == {ours}
        cases = {a.case for a in client_for(diana).get(reverse("experts:detail", args=[expert.pk]))
                 .context["assignments"]}
        assert cases == {ours, theirs}

    def test_staff_see_the_audit_trail(self, client_for, bob, diana):
        client_for(bob).post(reverse("experts:new"), form_data())
        expert = Expert.objects.get(code="130100-0100")
        response = client_for(diana).get(reverse("experts:detail", args=[expert.pk]))
        assert b'data-testid="audit-trail"' in response.content
        assert [entry.action for entry in response.context["entries"]] == [AuditEntry.Action.CREATE]
        assert "陈静" in response.content.decode()


class TestCreateAndEdit:
    def test_a_regulator_adds_an_expert_to_the_pool(self, client_for, bob):
        login = UserFactory(username="chenjing", role=User.Role.EXPERT)
        response = client_for(bob).post(reverse("experts:new"), form_data(user=str(login.pk)))
        expert = Expert.objects.get(code="130100-0100")
        assert response.status_code == 302 and response.url == reverse("experts:detail", args=[expert.pk])
        assert expert.region_id == "130100" and expert.capacity == 4 and expert.user == login
        assert set(expert.specialties.values_list("code", flat=True)) == {"metrology", "inspection-testing"}
        assert set(expert.regions_served.values_list("code", flat=True)) == {"130100", "130102"}
        content_type = ContentType.objects.get_for_model(Expert)
        assert AuditEntry.objects.filter(content_type=content_type, object_id=str(expert.pk), actor=bob).exists()

    def test_an_administrator_adds_an_expert_to_any_pool(self, client_for, admin_user):
        data = form_data(code="130200-0100", region="130200", regions_served=["130200", "130203"])
        assert client_for(admin_user).post(reverse("experts:new"), data).status_code == 302
        assert Expert.objects.get(code="130200-0100").region_id == "130200"

    def test_the_form_offers_the_users_pools_and_the_regions_around_them(self, client_for, bob):
        form = client_for(bob).get(reverse("experts:new")).context["form"]
        pools = set(form.fields["region"].queryset.values_list("code", flat=True))
        served = set(form.fields["regions_served"].queryset.values_list("code", flat=True))
        assert "130100" in pools and "130102" in pools and "130000" not in pools and "130200" not in pools
        assert {"130000", "130100", "130102"} <= served and "130200" not in served
        assert form.initial["region"] == "130100"

    def test_only_expert_accounts_without_a_record_are_offered_as_login(self, client_for, bob, erin, erin_expert):
        free = UserFactory(username="free-expert", role=User.Role.EXPERT)
        UserFactory(username="an-sme", role=User.Role.SME)
        logins = set(client_for(bob).get(reverse("experts:new")).context["form"].fields["user"].queryset)
        assert logins == {free}
        edit_logins = client_for(bob).get(reverse("experts:edit", args=[erin_expert.pk])).context["form"]
        assert set(edit_logins.fields["user"].queryset) == {free, erin}

    @pytest.mark.parametrize(("overrides", "field"), [
        ({"name": ""}, "name"),
        ({"employer": ""}, "employer"),
        ({"employer_kind": "pirate"}, "employer_kind"),
        ({"email": "not-an-address"}, "email"),
        ({"capacity": "0"}, "capacity"),
        ({"capacity": "51"}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"specialties": []}, "specialties"),
        ({"specialties": ["astrology"]}, "specialties"),
        ({"regions_served": []}, "regions_served"),
        ({"regions_served": ["130200"]}, "regions_served"),
        ({"region": "130200"}, "region"),
        ({"region": ""}, "region"),
        ({"user": "999999"}, "user"),
    ])
    def test_bad_input_gets_a_message_on_its_field_and_saves_nothing(self, client_for, bob, overrides, field):
        response = client_for(bob).post(reverse("experts:new"), form_data(**overrides))
        assert response.status_code == 200
        assert list(response.context["form"].errors) == [field]
        assert not Expert.objects.exists()
        assert not AuditEntry.objects.exists()

    def test_the_missing_lists_have_their_own_words(self, client_for, bob):
        response = client_for(bob).post(reverse("experts:new"), form_data(specialties=[], regions_served=[]))
        errors = response.context["form"].errors
        assert errors["specialties"] == ["Choose at least one specialty."]
        assert errors["regions_served"] == ["Choose at least one region the expert serves."]

    def test_a_pool_number_already_taken_is_refused_on_its_field(self, client_for, bob, expert):
        response = client_for(bob).post(reverse("experts:new"), form_data(code=expert.code))
        assert response.status_code == 200 and list(response.context["form"].errors) == ["code"]
        assert Expert.objects.count() == 1

    def test_a_login_already_used_by_another_expert_is_refused(self, client_for, bob, erin, erin_expert):
        response = client_for(bob).post(reverse("experts:new"), form_data(user=str(erin.pk)))
        assert "user" in response.context["form"].errors
        assert not Expert.objects.filter(code="130100-0100").exists()

    def test_a_regulator_edits_an_expert_and_the_change_is_audited(self, client_for, bob, expert):
        data = form_data(code=expert.code, name=expert.name, capacity="6", specialties=["brand"],
                         regions_served=["130100"])
        response = client_for(bob).post(reverse("experts:edit", args=[expert.pk]), data)
        assert response.status_code == 302
        expert.refresh_from_db()
        assert expert.capacity == 6 and list(expert.specialties.values_list("code", flat=True)) == ["brand"]
        entry = AuditEntry.objects.get(object_id=str(expert.pk), action=AuditEntry.Action.UPDATE)
        assert entry.changes["capacity"] == [3, 6]

    def test_a_bad_edit_changes_nothing(self, client_for, bob, expert):
        response = client_for(bob).post(reverse("experts:edit", args=[expert.pk]),
                                        form_data(code=expert.code, name="", capacity="0"))
        assert response.status_code == 200
        assert set(response.context["form"].errors) == {"name", "capacity"}
        expert.refresh_from_db()
        assert expert.name == "李明" and expert.capacity == 3
        assert not AuditEntry.objects.exists()

    def test_editing_keeps_a_region_served_outside_the_choices(self, client_for, bob, expert):
        """An expert of the city pool also serving Tangshan (set by the province): bob's form keeps it."""
        expert.regions_served.add(Region.objects.get(code="130200"))
        form = client_for(bob).get(reverse("experts:edit", args=[expert.pk])).context["form"]
        assert "130200" in set(form.fields["regions_served"].queryset.values_list("code", flat=True))
        data = form_data(code=expert.code, name=expert.name, regions_served=["130100", "130200"])
        assert client_for(bob).post(reverse("experts:edit", args=[expert.pk]), data).status_code == 302
        assert set(expert.regions_served.values_list("code", flat=True)) == {"130100", "130200"}
