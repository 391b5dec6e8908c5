"""/api/experts/: the expert pool, its load and satisfaction record, and who keeps which pool.

Personas (tests/conftest.py): bob and bianca regulate Shijiazhuang (130100) and keep its pool;
charlie regulates Tangshan (130200); diana supervises Hebei (130000) read-only; erin is an expert
whose record (erins_record) sits in the Shijiazhuang pool; alice is an SME user, who sees no expert
through the API. Anonymous callers get 403 (session authentication sends no challenge).
"""

import pytest
from django.urls import reverse

from campaigns.cases import services as case_services
from experts.models import Expert
from portal.models import AuditEntry, Specialty
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory, region

pytestmark = pytest.mark.django_db

ANONYMOUS = 403
FORBIDDEN = 403
HIDDEN = 404


def specialties(*codes: str) -> list[Specialty]:
    return list(Specialty.objects.filter(code__in=codes))


@pytest.fixture
def pool(erin):
    """An expert in each pool the personas tell apart, each with one trait the filters pick out."""
    return {
        "shijiazhuang": ExpertFactory(code="130100-0001", name="刘计量", employer="石家庄市计量测试所"),
        "province": ExpertFactory(code="130000-0001", name="孙品牌", region=region("130000"),
                                  employer="河北大学", employer_kind="university", specialties=specialties("brand")),
        "tangshan": ExpertFactory(code="130200-0001", name="周标准", region=region("130200"),
                                  employer="唐山标准化研究院", employer_kind="consultancy", is_active=False,
                                  specialties=specialties("standardization")),
        "erin": ExpertFactory(code="130100-0002", name="王海燕", user=erin, capacity=1),
    }


@pytest.fixture
def erin_busy(bob, pool):
    """Erin carries one open case: her capacity of one is used up."""
    case = case_services.case_open(user=bob, campaign=CampaignFactory(), enterprise=EnterpriseFactory(),
                                   title="计量帮扶")
    case_services.case_assign_expert(user=bob, case=case, expert=pool["erin"])
    return case


def expert_url(expert: Expert) -> str:
    return reverse("api:expert-detail", kwargs={"pk": expert.pk})


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def new_expert(**overrides) -> dict:
    payload = {"code": "130100-0100", "name": "赵质量", "title": "高级工程师", "employer": "河北省质量技术监督研究院",
               "employer_kind": "metrology", "phone": "0311-12345678", "email": "zhao@example.cn", "region": "130100",
               "specialties": ["quality-management"], "regions_served": ["130102", "130104"], "capacity": 4}
    return {**payload, **overrides}


# --- who sees whom -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("bob", {"shijiazhuang", "province", "erin"}),
        ("bianca", {"shijiazhuang", "province", "erin"}),
        ("charlie", {"tangshan", "province"}),
        ("diana", {"shijiazhuang", "province", "tangshan", "erin"}),
        ("admin_user", {"shijiazhuang", "province", "tangshan", "erin"}),
        ("erin", {"erin"}),
    ],
)
def test_the_expert_list_shows_what_each_persona_may_see(api, persona, pool, who, sees):
    assert names(api(persona(who)).get(reverse("api:expert-list"))) == {pool[key].name for key in sees}


@pytest.mark.parametrize(("who", "code"), [("alice", FORBIDDEN), ("anonymous", ANONYMOUS)])
def test_sme_users_and_anonymous_callers_cannot_list_experts(api, persona, pool, who, code):
    assert api(persona(who)).get(reverse("api:expert-list")).status_code == code


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("charlie", HIDDEN), ("diana", 200), ("admin_user", 200), ("erin", HIDDEN),
     ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_retrieving_an_expert_of_the_shijiazhuang_pool(api, persona, pool, who, code):
    response = api(persona(who)).get(expert_url(pool["shijiazhuang"]))
    assert response.status_code == code
    if code == 200:
        assert response.json()["code"] == "130100-0001"


def test_an_expert_reads_their_own_record(api, erin, pool, erin_busy):
    body = api(erin).get(expert_url(pool["erin"])).json()
    assert (body["name"], body["user"], body["load"], body["capacity"], body["has_capacity"]) == (
        "王海燕", "erin", 1, 1, False)


def test_an_expert_shows_codes_with_names_and_the_record(api, bob, pool):
    body = api(bob).get(expert_url(pool["shijiazhuang"])).json()
    assert (body["region"], body["region_name"]) == ("130100", "河北省石家庄市")
    assert (body["employer_kind"], body["employer_kind_label"]) == (
        "metrology", "Metrology or standardization institute")
    assert set(body["specialties"]) == {"quality-management", "metrology"}
    assert body["regions_served"] == ["130100"]
    assert (body["load"], body["has_capacity"], body["rating_mean"], body["rating_count"]) == (0, True, None, 0)
    assert body["user"] is None


def test_the_record_counts_open_cases_and_the_ratings_of_cases_seen_through(api, bob, alice, pool):
    expert = pool["shijiazhuang"]
    campaign = CampaignFactory()
    rated = case_services.case_open(user=bob, campaign=campaign, enterprise=alice.enterprises.get(), title="已结")
    case_services.case_assign_expert(user=bob, case=rated, expert=expert)
    rated = case_services.case_close(user=bob, case=rated, resolution="unresolved", note="企业停产")
    case_services.case_rate(user=alice, case=rated, score=4)
    running = case_services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="进行中")
    case_services.case_assign_expert(user=bob, case=running, expert=expert)
    body = api(bob).get(expert_url(expert)).json()
    assert (body["load"], body["rating_mean"], body["rating_count"]) == (1, 4.0, 1)


@pytest.mark.parametrize("path", ["abc/", "99999999999999999999/", "0/", "1.5/"])
def test_malformed_or_unknown_ids_answer_404(api, admin_user, path):
    assert api(admin_user).get(reverse("api:expert-list") + path).status_code == 404


@pytest.mark.parametrize("method", ["put", "delete"])
def test_experts_cannot_be_replaced_or_deleted(api, bob, pool, method):
    response = getattr(api(bob), method)(expert_url(pool["shijiazhuang"]), new_expert(), format="json")
    assert response.status_code == 405
    assert Expert.objects.filter(pk=pool["shijiazhuang"].pk).exists()


# --- adding experts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 201), ("bianca", 201), ("admin_user", 201), ("charlie", FORBIDDEN), ("diana", FORBIDDEN),
     ("erin", FORBIDDEN), ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_add_an_expert_to_the_shijiazhuang_pool(api, persona, erin, who, code):
    response = api(persona(who)).post(reverse("api:expert-list"), new_expert(), format="json")
    assert response.status_code == code
    assert Expert.objects.filter(code="130100-0100").exists() is (code == 201)


def test_a_regulator_adds_an_expert_with_a_login_and_it_is_audited(api, bob, erin):
    response = api(bob).post(reverse("api:expert-list"), new_expert(user="erin"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["region_name"], body["user"], body["load"], body["rating_count"]) == ("河北省石家庄市", "erin", 0, 0)
    assert set(body["regions_served"]) == {"130102", "130104"}
    entry = AuditEntry.objects.get(content_type__model="expert", object_id=str(body["id"]))
    assert (entry.action, entry.actor, entry.region_code) == ("create", bob, "130100")


def test_charlie_adds_an_expert_to_his_own_pool(api, charlie):
    response = api(charlie).post(reverse("api:expert-list"), new_expert(code="130200-0100", region="130200"),
                                 format="json")
    assert response.status_code == 201, response.content


def test_adding_an_expert_with_an_empty_body_lists_every_required_field(api, bob):
    response = api(bob).post(reverse("api:expert-list"), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "name", "employer", "employer_kind", "region"}


def test_an_expert_needs_a_specialty_and_a_region_served(api, bob):
    payload = new_expert(specialties=[], regions_served=[])
    response = api(bob).post(reverse("api:expert-list"), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"specialties": ["Choose at least one specialty."],
                               "regions_served": ["Choose at least one region the expert serves."]}
    assert not Expert.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 51}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"specialties": ["astrology"]}, "specialties"),
        ({"specialties": "metrology"}, "specialties"),
        ({"regions_served": ["999999"]}, "regions_served"),
        ({"region": "999999"}, "region"),
        ({"employer_kind": "pirate"}, "employer_kind"),
        ({"email": "not-an-email"}, "email"),
        ({"name": ""}, "name"),
        ({"code": "1" * 33}, "code"),
        ({"user": "alice"}, "user"),
        ({"user": "nobody"}, "user"),
    ],
)
def test_a_bad_value_is_refused_per_field_and_saves_nothing(api, bob, alice, overrides, field):
    response = api(bob).post(reverse("api:expert-list"), new_expert(**overrides), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    assert not Expert.objects.exists()


def test_a_pool_number_already_taken_is_refused(api, bob, pool):
    response = api(bob).post(reverse("api:expert-list"), new_expert(code="130100-0001"), format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code"}
    assert Expert.objects.count() == 4


def test_a_login_already_used_by_another_expert_is_refused(api, bob, pool):
    response = api(bob).post(reverse("api:expert-list"), new_expert(user="erin"), format="json")
    assert response.status_code == 400
    assert response.json() == {"user": ["This account is already the login of another expert."]}


# --- changing experts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "code"),
    [("bob", 200), ("bianca", 200), ("admin_user", 200), ("charlie", HIDDEN), ("diana", FORBIDDEN),
     ("erin", FORBIDDEN), ("alice", FORBIDDEN), ("anonymous", ANONYMOUS)],
)
def test_who_may_change_an_expert_of_the_shijiazhuang_pool(api, persona, pool, who, code):
    expert = pool["shijiazhuang"]
    response = api(persona(who)).patch(expert_url(expert), {"capacity": 5}, format="json")
    assert response.status_code == code
    expert.refresh_from_db()
    assert (expert.capacity == 5) is (code == 200)


def test_a_regulator_cannot_change_an_expert_kept_by_the_province(api, bob, pool):
    response = api(bob).patch(expert_url(pool["province"]), {"capacity": 5}, format="json")
    assert response.status_code == FORBIDDEN


def test_an_expert_cannot_change_their_own_record(api, erin, pool):
    response = api(erin).patch(expert_url(pool["erin"]), {"capacity": 5}, format="json")
    assert response.status_code == FORBIDDEN


def test_only_the_fields_sent_change(api, bob, pool):
    expert = pool["shijiazhuang"]
    response = api(bob).patch(expert_url(expert), {"specialties": ["standardization"], "is_active": False},
                              format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["specialties"], body["is_active"], body["regions_served"], body["capacity"]) == (
        ["standardization"], False, ["130100"], 3)


def test_an_expert_cannot_be_moved_to_a_pool_outside_the_jurisdiction(api, bob, pool):
    response = api(bob).patch(expert_url(pool["shijiazhuang"]), {"region": "130200"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"region": ["This pool lies outside your jurisdiction."]}
    pool["shijiazhuang"].refresh_from_db()
    assert pool["shijiazhuang"].region_id == "130100"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"specialties": []}, "specialties"), ({"regions_served": []}, "regions_served"), ({"capacity": 0}, "capacity"),
     ({"code": "130000-0001"}, "code"), ({"user": "alice"}, "user")],
)
def test_a_bad_change_is_refused_per_field_and_changes_nothing(api, bob, alice, pool, payload, field):
    expert = pool["shijiazhuang"]
    response = api(bob).patch(expert_url(expert), payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {field}
    expert.refresh_from_db()
    assert (expert.code, expert.capacity, expert.specialties.count(), expert.regions_served.count()) == (
        "130100-0001", 3, 2, 1)


# --- ExpertFilterSet through the API --------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "刘"}, {"shijiazhuang"}),
        ({"q": "130200"}, {"tangshan"}),
        ({"q": "河北大学"}, {"province"}),
        ({"specialty": "brand"}, {"province"}),
        ({"specialty": ["brand", "standardization"]}, {"province", "tangshan"}),
        ({"service_area": "4"}, {"province"}),
        ({"region_served": "130102"}, {"shijiazhuang", "province", "erin"}),
        ({"region_served": "130200"}, {"province", "tangshan"}),
        ({"pool": "130100"}, {"shijiazhuang", "erin"}),
        ({"pool": "130000"}, {"shijiazhuang", "province", "tangshan", "erin"}),
        ({"employer_kind": "university"}, {"province"}),
        ({"employer_kind": ["university", "consultancy"]}, {"province", "tangshan"}),
        ({"is_active": "false"}, {"tangshan"}),
        ({"has_capacity": "false"}, {"erin"}),
        ({"has_capacity": "true"}, {"shijiazhuang", "province", "tangshan"}),
    ],
    ids=lambda value: "&".join(f"{k}={v}" for k, v in value.items()) if isinstance(value, dict) else None,
)
def test_each_expert_filter_keeps_the_matching_experts(api, admin_user, pool, erin_busy, params, expected):
    response = api(admin_user).get(reverse("api:expert-list"), params)
    assert names(response) == {pool[key].name for key in expected}


def test_filters_never_widen_what_a_regulator_sees(api, charlie, pool):
    assert names(api(charlie).get(reverse("api:expert-list"), {"pool": "130100"})) == set()


@pytest.mark.parametrize("params", [{"specialty": "astrology"}, {"service_area": "999"}, {"employer_kind": "pirate"},
                                    {"service_area": "abc"}])
def test_an_invalid_filter_value_answers_400(api, bob, params):
    response = api(bob).get(reverse("api:expert-list"), params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


# --- query counts ------------------------------------------------------------------------------


@pytest.fixture
def busy_pool(bob):
    """25 experts of the Shijiazhuang pool, some with an open case."""
    campaign = CampaignFactory()
    experts = [ExpertFactory(regions_served=[region("130100"), region("130102")]) for _ in range(25)]
    for expert in experts[::3]:
        case = case_services.case_open(user=bob, campaign=campaign, enterprise=EnterpriseFactory(), title="帮扶")
        case_services.case_assign_expert(user=bob, case=case, expert=expert)
    return experts


@pytest.mark.parametrize("page_size", [2, 20])
def test_the_expert_list_runs_a_constant_number_of_queries(api, bob, busy_pool, django_assert_num_queries,
                                                           page_size):
    client = api(bob)
    # 1 COUNT for the paginator; 1 page of experts joined to pool region -> province and login, with
    # load and rating as subqueries; 1 prefetch of specialties; 1 prefetch of regions served.
    with django_assert_num_queries(4):
        response = client.get(reverse("api:expert-list"), {"page_size": page_size})
    assert len(response.json()["results"]) == page_size
