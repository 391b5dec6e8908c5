"""What keeps the registry fast at a province's size: the has_open_needs column the need services
keep (checked against the needs themselves after random sequences of writes), the region level
columns, and cursor pages (portal/pagination.py) with an estimated count past EXACT_COUNT_LIMIT."""

import random

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef
from django.urls import reverse

from campaigns.cases import services as case_services
from campaigns.cases.models import AssistanceCase
from enterprises import services
from enterprises.filters import SORTS, EnterpriseFilterSet
from enterprises.models import Enterprise, NeedRequest
from enterprises.selectors import enterprises_visible_to
from portal import pagination
from portal.models import Region, ServiceArea, User
from tests.factories import CampaignFactory, EnterpriseFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = NeedRequest.Status
# On PostgreSQL a registry list first asks the planner how many rows to expect (EXPLAIN), then
# counts inside a savepoint with a statement timeout: SAVEPOINT, SET, (COUNT), SET, RELEASE.
ESTIMATE_QUERIES = 5 if connection.vendor == "postgresql" else 0
# A search is counted (up to pagination.COUNT_CAP) the same way: EXPLAIN, SAVEPOINT, SET, (COUNT),
# SET, RELEASE.
CAPPED_COUNT_QUERIES = 5 if connection.vendor == "postgresql" else 0


def truth() -> dict[int, bool]:
    open_needs = NeedRequest.objects.filter(enterprise=OuterRef("pk"), status__in=NeedRequest.OPEN_STATUSES)
    return dict(Enterprise.objects.annotate(truth=Exists(open_needs)).values_list("pk", "truth"))


def flags() -> dict[int, bool]:
    return dict(Enterprise.objects.values_list("pk", "has_open_needs"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_has_open_needs_matches_the_needs_after_random_sequences_of_writes(bob, seed):
    rng = random.Random(seed)
    campaign = CampaignFactory(name="河北省质量提升行动")
    contact = UserFactory(role=User.Role.SME)
    firms = [EnterpriseFactory(region=Region.objects.get(code=rng.choice(["130102", "130104"]))) for _ in range(4)]
    for firm in firms:
        firm.users.add(contact)
    areas = list(ServiceArea.objects.filter(active=True))

    def submit():
        services.need_submit(user=contact, enterprise=rng.choice(firms), service_area=rng.choice(areas),
                             title="计量器具校准", description="需要帮助")

    def open_needs(status=None):
        needs = NeedRequest.objects.filter(status__in=[status] if status else NeedRequest.OPEN_STATUSES)
        return list(needs.select_related("enterprise"))

    def accept():
        if needs := open_needs(Status.SUBMITTED):
            services.need_accept(user=bob, need=rng.choice(needs))

    def decline():
        if needs := open_needs():
            services.need_decline(user=bob, need=rng.choice(needs), reason="不在服务范围")

    def duplicate():
        needs = open_needs()
        pairs = [(a, b) for a in needs for b in needs if a.pk != b.pk and a.enterprise_id == b.enterprise_id]
        if pairs:
            need, original = rng.choice(pairs)
            services.need_mark_duplicate(user=bob, need=need, original=original)

    def open_case():
        if needs := open_needs(Status.SUBMITTED) + open_needs(Status.TRIAGED):
            need = rng.choice(needs)
            if not AssistanceCase.objects.filter(needs=need).exists():
                case_services.case_open(user=bob, campaign=campaign, needs=[need], title="一对一帮扶")

    def close_case():
        cases = list(AssistanceCase.objects.exclude(status=AssistanceCase.Status.CLOSED))
        if cases:
            case = rng.choice(cases)
            settle = list(case.needs.all()) if rng.random() < 0.5 else []
            case_services.case_close(user=bob, case=case, resolution="unresolved", note="企业暂停生产",
                                     fulfilled_needs=settle)

    steps = [submit, submit, accept, decline, decline, duplicate, open_case, close_case]
    seen = set()
    for _ in range(50):
        try:
            rng.choice(steps)()
        except ValidationError:
            pass  # a step the random state does not allow changes nothing
        assert flags() == truth()
        with_needs = set(NeedRequest.objects.values_list("enterprise_id", flat=True))
        seen |= {flag for pk, flag in flags().items() if pk in with_needs}
    assert seen == {True, False}  # firms went from open needs to none and back


def test_the_open_needs_filter_reads_the_column(api_for, bob):
    with_needs, without = EnterpriseFactory(), EnterpriseFactory()
    NeedRequest.objects.create(enterprise=with_needs, service_area_id=1, title="t", description="d",
                               submitted_by=UserFactory())
    Enterprise.objects.filter(pk=without.pk).update(has_open_needs=True)  # what the filter reads, not the needs
    rows = api_for(bob).get(reverse("api:enterprise-list"), {"has_open_needs": "true"}).json()["results"]
    assert {row["id"] for row in rows} == {with_needs.pk, without.pk}


def test_the_region_level_columns_follow_a_move(bob):
    firm = EnterpriseFactory(region=Region.objects.get(code="130102"))
    assert (firm.province_code, firm.city_code) == ("13", "1301")
    services.enterprise_update(user=bob, enterprise=firm, region=Region.objects.get(code="130104"))
    firm.refresh_from_db()
    assert (firm.province_code, firm.city_code, firm.region_id) == ("13", "1301", "130104")
    assert "桥西区" in firm.search_text and "长安区" not in firm.search_text


@pytest.fixture
def city_firms(db):
    """23 firms of Shijiazhuang (two with the same name, so the id breaks the tie) and one of Tangshan."""
    counties = ["130102", "130104", "130105"]
    firms = [EnterpriseFactory(name="石家庄同名有限公司" if n in (4, 5) else f"石家庄企业{n:02d}有限公司",
                               region=Region.objects.get(code=counties[n % 3])) for n in range(23)]
    EnterpriseFactory(region=Region.objects.get(code="130203"))
    return firms


@pytest.mark.parametrize("sort", SORTS)
def test_cursor_pages_walk_every_row_once_forwards_and_back(bob, city_firms, sort):
    filterset = EnterpriseFilterSet({"sort": sort}, queryset=enterprises_visible_to(bob))
    expected = list(filterset.qs.values_list("pk", flat=True))
    assert len(expected) == 23
    pages, page = [], pagination.keyset_page(filterset.qs, filterset.ordering, per_page=5)
    while True:
        pages.append([firm.pk for firm in page.rows])
        if not page.next_cursor:
            break
        page = pagination.keyset_page(filterset.qs, filterset.ordering, per_page=5, after=page.next_cursor)
    assert [pk for rows in pages for pk in rows] == expected and [len(rows) for rows in pages] == [5, 5, 5, 5, 3]
    back = []
    while page.previous_cursor:
        page = pagination.keyset_page(filterset.qs, filterset.ordering, per_page=5, before=page.previous_cursor)
        back.insert(0, [firm.pk for firm in page.rows])
    assert back == pages[:-1]


def test_the_page_links_walk_the_registry(client_for, bob, city_firms):
    client = client_for(bob)
    seen, params = [], {"per_page": 25}
    response = client.get(reverse("enterprises:list"), params)
    seen += [firm.pk for firm in response.context["object_list"]]
    assert response.context["keyset"].next_cursor is None and len(seen) == 23  # one page of 25
    response = client.get(reverse("enterprises:list"), {"sort": "-created"})
    assert [firm.pk for firm in response.context["object_list"]] == [firm.pk for firm in reversed(city_firms)]


def test_past_the_exact_limit_the_count_is_an_estimate_shown_as_about(client_for, bob, city_firms, monkeypatch):
    # The planner never expects fewer than one row: with no exact counts allowed, PostgreSQL's
    # answer is its estimate; SQLite has no estimate and counts.
    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 0)
    response = client_for(bob).get(reverse("enterprises:list"))
    page = response.context["keyset"]
    assert page.count_is_estimate == (connection.vendor == "postgresql")
    if page.count_is_estimate:
        assert page.count > 0 and "约" in response.content.decode()
    else:
        assert page.count == 23 and "约" not in response.content.decode()


def test_below_the_limit_the_count_is_exact(client_for, bob, city_firms):
    page = client_for(bob).get(reverse("enterprises:list")).context["keyset"]
    assert (page.count, page.count_is_estimate) == (23, False)


@pytest.mark.parametrize("per_page", [25, 100])
def test_the_registry_page_costs_the_same_queries_at_both_page_sizes(client_for, bob, city_firms,
                                                                     django_assert_num_queries, per_page):
    client = client_for(bob)
    # session, user, the user's region and its province (header), the count (capped, as for every
    # search), one page of firms joined to region, city and industry, whatever the sort, search
    # and flag
    with django_assert_num_queries(6 + CAPPED_COUNT_QUERIES):
        response = client.get(reverse("enterprises:list"), {"per_page": per_page, "sort": "region",
                                                               "q": "石家庄", "has_open_needs": "false"})
    assert len(response.context["object_list"]) == 23


def test_the_size_filter_selects_no_distinct_rows(bob, city_firms):
    from django.http import QueryDict

    filterset = EnterpriseFilterSet(QueryDict("size=micro&size=small"), queryset=enterprises_visible_to(bob))
    assert not filterset.qs.query.distinct  # a DISTINCT over every column cannot use the sort's index


@pytest.mark.needs_postgres
def test_a_count_that_cannot_finish_in_time_gives_way_to_the_estimate(needs_postgres, city_firms, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_TIMEOUT_MS", 5)
    slow = Enterprise.objects.extra(where=["pg_sleep(0.01) IS NOT NULL"])  # 10 ms a row: 240 ms to count
    count, is_estimate = pagination.estimated_count(slow)
    assert is_estimate and count >= 1
    with connection.cursor() as cursor:  # the transaction goes on, with the timeout it had before
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
    assert Enterprise.objects.count() == 24


def test_a_search_word_every_firm_of_the_jurisdiction_holds_is_not_tested(client_for, bob, diana, city_firms):
    # Every Shijiazhuang firm's text holds 石家庄市: for the city's regulator "石家庄 企业0" is "企业0".
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        rows = client_for(bob).get(reverse("enterprises:list"), {"q": "石家庄 企业0"}).context["object_list"]
    assert [firm.name for firm in rows] == [f"石家庄企业{n:02d}有限公司" for n in range(10) if n not in (4, 5)]
    assert not [q for q in queries.captured_queries if "%石家庄%" in q["sql"]]
    # For the province's supervisor 石家庄 still narrows the rows: Tangshan's firm has no 石家庄.
    tangshan = Enterprise.objects.get(region_id="130203")
    tangshan.name = "唐山企业01有限公司"
    tangshan.save()  # and its search text
    found = client_for(diana).get(reverse("enterprises:list"), {"q": "石家庄 企业01", "per_page": 100})
    assert [firm.name for firm in found.context["object_list"]] == ["石家庄企业01有限公司"]
    assert [firm.name for firm in client_for(diana).get(reverse("enterprises:list"), {"q": "企业01"})
            .context["object_list"]] == ["唐山企业01有限公司", "石家庄企业01有限公司"]


def test_a_search_is_counted_exactly_up_to_the_cap_and_past_it_as_more_than(client_for, api_for, bob, city_firms,
                                                                            monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 20)
    page = client_for(bob).get(reverse("enterprises:list"), {"q": "企业"})
    assert (page.context["keyset"].count, page.context["keyset"].count_is_lower_bound) == (20, True)
    assert "more than 20 rows" in page.content.decode() or "超过 20 条" in page.content.decode()
    body = api_for(bob).get(reverse("api:enterprise-list"), {"q": "企业"}).json()
    assert (body["count"], body["count_is_lower_bound"], body["count_is_estimate"]) == (20, True, False)
    body = api_for(bob).get(reverse("api:enterprise-list"), {"q": "企业1"}).json()
    assert (body["count"], body["count_is_lower_bound"], body["count_is_estimate"]) == (10, False, False)


@pytest.mark.needs_postgres
def test_a_search_the_planner_expects_in_many_firms_is_not_counted(needs_postgres, client_for, bob, city_firms,
                                                                   monkeypatch):
    # A common word over a province: the planner knows how many firms hold it, and counting them
    # could not finish in time, so its estimate is shown at once, as "about".
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(pagination, "EXACT_COUNT_LIMIT", 0)
    with CaptureQueriesContext(connection) as queries:
        response = client_for(bob).get(reverse("enterprises:list"), {"q": "企业"})
    page = response.context["keyset"]
    assert page.count_is_estimate and not page.count_is_lower_bound and page.count >= 1
    assert "约" in response.content.decode()
    assert not [q for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    assert len(response.context["object_list"]) == 21  # the page itself: every 石家庄企业NN firm


@pytest.mark.parametrize("seed", [1, 2])
def test_certification_schemes_match_the_certificates_after_random_writes(api_for, bob, seed):
    from datetime import date

    from enterprises.models import Certification

    rng = random.Random(seed)
    firms = [EnterpriseFactory(region=Region.objects.get(code="130102")) for _ in range(4)]
    schemes = ["iso9001", "haccp", "ccc"]
    for step in range(30):
        certificates = list(Certification.objects.all())
        action = rng.choice(["add", "add", "delete", "move"])
        if action == "add" or not certificates:
            services.certification_add(user=bob, enterprise=rng.choice(firms), scheme=rng.choice(schemes),
                                       number=f"C-{seed}-{step}", body="中国质量认证中心", issued_on=date(2024, 5, 1))
        elif action == "delete":
            rng.choice(certificates).delete()
        else:
            certificate = rng.choice(certificates)
            certificate.enterprise = rng.choice(firms)
            certificate.save()
        held = {firm.pk: " ".join(sorted(set(Certification.objects.filter(enterprise=firm)
                                             .values_list("scheme", flat=True)))) for firm in firms}
        assert dict(Enterprise.objects.filter(pk__in=held).values_list("pk", "certification_schemes")) == held
    for scheme in schemes:
        rows = api_for(bob).get(reverse("api:enterprise-list"), {"certification": scheme}).json()["results"]
        assert {row["id"] for row in rows} == {pk for pk, text in held.items() if scheme in text.split()}, scheme
