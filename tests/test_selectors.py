"""The selectors every page and endpoint starts from, read without HTTP: for each persona, exactly
which firms, needs, cases, visits, experts, campaigns and regions, and what they may do.

The world: firms in 长安区 (alice's), 裕华区 (Shijiazhuang), 路北区 (Tangshan) and 东莞 (Guangdong),
each with a need, a case and a visit carrying an internal remark; expert pools of Shijiazhuang, of
the province, of Tangshan and of Dongguan (one Dongguan expert serving 长安区); erin assigned to the
裕华区 case and released from the 路北区 one.
"""

import datetime

import pytest
from django.utils import timezone

from campaigns.cases import selectors as cases
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseRating
from campaigns.selectors import campaigns_for_entry, campaigns_open_for, campaigns_visible_to, may_manage_campaign
from enterprises import selectors as registry
from experts.selectors import experts_visible_to
from portal import selectors as jurisdiction
from tests.factories import (
    CampaignFactory,
    CaseFactory,
    EnterpriseFactory,
    ExpertFactory,
    NeedFactory,
    RegulatorFactory,
    VisitFactory,
    region,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["alice", "bob", "bianca", "charlie", "diana", "erin", "admin_user", "anonymous", "retired"]
TODAY = timezone.localdate()


class World:
    pass


@pytest.fixture
def world(alice, bob, bianca, charlie, diana, erin, admin_user):
    w = World()
    w.alice, w.bob = alice, bob
    w.hebei = CampaignFactory(name="河北")
    w.shijiazhuang = CampaignFactory(name="石家庄", region=region("130100"))
    w.tangshan = CampaignFactory(name="唐山", region=region("130200"))
    w.dongguan = CampaignFactory(name="东莞", region=region("441900"))
    w.ended = CampaignFactory(name="已结束", region=region("130100"), starts_on=TODAY - datetime.timedelta(days=90),
                              ends_on=TODAY - datetime.timedelta(days=1))
    w.firms = {
        "changan": alice.enterprises.get(),
        "yuhua": EnterpriseFactory(name="裕华", region=region("130108")),
        "lubei": EnterpriseFactory(name="路北", region=region("130203")),
        "dongguan": EnterpriseFactory(name="东莞", region=region("441900")),
    }
    w.needs, w.cases, w.visits = {}, {}, {}
    for name, firm in w.firms.items():
        campaign = w.dongguan if name == "dongguan" else w.hebei
        w.needs[name] = NeedFactory(enterprise=firm, title=name)
        w.cases[name] = CaseFactory(campaign=campaign, enterprise=firm, title=name, lead=bob)
        w.visits[name] = VisitFactory(case=w.cases[name], internal_remark=f"{name}: 内部意见", logged_by=bob)
    w.experts = {
        "shijiazhuang": ExpertFactory(code="130100-0001", name="石家庄专家"),
        "province": ExpertFactory(code="130000-0001", name="省级专家", region=region("130000")),
        "tangshan": ExpertFactory(code="130200-0001", name="唐山专家", region=region("130200")),
        "dongguan": ExpertFactory(code="441900-0001", name="东莞专家", region=region("441900")),
        "dongguan_serving_changan": ExpertFactory(code="441900-0002", name="东莞专家服务长安",
                                                  region=region("441900"),
                                                  regions_served=[region("441900"), region("130102")]),
        "erin": ExpertFactory(code="130100-0002", name="王海燕", user=erin),
    }
    CaseAssignment.objects.create(case=w.cases["yuhua"], expert=w.experts["erin"], assigned_by=bob)
    # Another expert on alice's case: erin must not see it for that.
    CaseAssignment.objects.create(case=w.cases["changan"], expert=w.experts["dongguan_serving_changan"],
                                  assigned_by=bob)
    CaseAssignment.objects.create(case=w.cases["lubei"], expert=w.experts["erin"], assigned_by=charlie,
                                  active=False, released_at=timezone.now(), released_by=charlie)
    return w


@pytest.fixture
def retired(db):
    """A Shijiazhuang regulator whose account was switched off."""
    return RegulatorFactory(username="retired", is_active=False)


def who(persona, name):
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser() if name == "anonymous" else persona(name)


# --- what each persona sees -----------------------------------------------------------------------

FIRMS = {
    "alice": {"changan"}, "bob": {"changan", "yuhua"}, "bianca": {"changan", "yuhua"}, "charlie": {"lubei"},
    "diana": {"changan", "yuhua", "lubei"}, "erin": set(), "admin_user": {"changan", "yuhua", "lubei", "dongguan"},
    "anonymous": set(), "retired": set(),
}
# An expert sees the cases and visits assigned to them, not one they were released from.
CASES = {**FIRMS, "erin": {"yuhua"}}
EXPERTS = {
    "alice": set(), "anonymous": set(), "retired": set(), "erin": {"erin"},
    "bob": {"shijiazhuang", "province", "dongguan_serving_changan", "erin"},
    "bianca": {"shijiazhuang", "province", "dongguan_serving_changan", "erin"},
    "charlie": {"province", "tangshan"},
    "diana": {"shijiazhuang", "province", "tangshan", "dongguan_serving_changan", "erin"},
    "admin_user": {"shijiazhuang", "province", "tangshan", "dongguan", "dongguan_serving_changan", "erin"},
}
CAMPAIGNS = {
    "alice": set(), "erin": set(), "anonymous": set(), "retired": set(),
    "bob": {"河北", "石家庄", "已结束"}, "bianca": {"河北", "石家庄", "已结束"}, "charlie": {"河北", "唐山"},
    "diana": {"河北", "石家庄", "唐山", "已结束"}, "admin_user": {"河北", "石家庄", "唐山", "东莞", "已结束"},
}
PREFIX = {"alice": None, "bob": "1301", "bianca": "1301", "charlie": "1302", "diana": "13", "erin": None,
          "admin_user": "", "anonymous": None, "retired": None}


@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_sees_exactly_its_firms_needs_cases_and_visits(world, persona, name):
    user = who(persona, name)
    assert {f.name for f in registry.enterprises_visible_to(user)} == {world.firms[f].name for f in FIRMS[name]}
    assert {n.title for n in registry.needs_visible_to(user)} == FIRMS[name]
    assert {c.title for c in cases.cases_visible_to(user)} == CASES[name]
    assert {v.case.title for v in cases.visits_visible_to(user)} == CASES[name]


@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_sees_exactly_its_experts_and_campaigns(world, persona, name):
    user = who(persona, name)
    names = {world.experts[key].name for key in EXPERTS[name]}
    assert {e.name for e in experts_visible_to(user)} == names
    assert {c.name for c in campaigns_visible_to(user)} == CAMPAIGNS[name]


def test_an_expert_serving_no_region_is_seen_where_their_pool_is_or_below_it(world, bob, charlie, diana):
    # Without any region served, only where the pool keeping them is decides.
    local = ExpertFactory(code="130100-0009", name="石家庄未定服务区", regions_served=[])
    provincial = ExpertFactory(code="130000-0009", name="省级未定服务区", region=region("130000"), regions_served=[])
    assert {e.name for e in experts_visible_to(bob).filter(pk__in=[local.pk, provincial.pk])} == {
        "石家庄未定服务区", "省级未定服务区"}
    assert {e.name for e in experts_visible_to(charlie).filter(pk__in=[local.pk, provincial.pk])} == {"省级未定服务区"}
    assert experts_visible_to(diana).filter(pk__in=[local.pk, provincial.pk]).count() == 2


@pytest.mark.parametrize("name", ["bob", "diana", "admin_user", "erin"])
def test_firms_and_experts_come_with_their_region_and_industry_in_one_query(world, persona, name,
                                                                           django_assert_num_queries):
    user = persona(name)
    with django_assert_num_queries(1 if FIRMS[name] else 0):  # an expert sees no firm: none is asked for
        firms = [(firm.region.name, firm.industry.name) for firm in registry.enterprises_visible_to(user)]
    assert len(firms) == len(FIRMS[name])
    with django_assert_num_queries(1):
        experts = [expert.region.name for expert in experts_visible_to(user)]
    assert len(experts) == len(EXPERTS[name])


@pytest.mark.parametrize("name", PERSONAS)
def test_the_jurisdiction_prefix_and_regions_of_each_persona(world, persona, name):
    user = who(persona, name)
    prefix = PREFIX[name]
    assert jurisdiction.jurisdiction_prefix(user) == prefix
    regions = jurisdiction.regions_visible_to(user)
    if prefix is None:
        assert not regions.exists()
    else:
        assert regions.count() == region("130100").__class__.objects.filter(code__startswith=prefix).count()
        assert all(code.startswith(prefix) for code in regions.values_list("code", flat=True))
    for code in ("130102", "130100", "130203", "441900"):
        assert jurisdiction.region_is_visible_to(user, code) == (prefix is not None and code.startswith(prefix))


@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_reads_its_firms_surveys_claims_needs_and_regions_with_what_they_show(
        world, persona, name, django_assert_num_queries):
    from enterprises.models import EnterpriseClaim, NeedsSurvey
    from portal.models import ServiceArea
    from tests.factories import UserFactory

    area = ServiceArea.objects.first()
    for key, firm in world.firms.items():
        survey = NeedsSurvey.objects.create(enterprise=firm, kind=NeedsSurvey.Kind.BASELINE, answered_by=world.bob)
        survey.services_wanted.add(area)
        EnterpriseClaim.objects.create(enterprise=firm, user=UserFactory(username=f"claimant-{key}", role="sme"),
                                       decided_by=world.bob)
    EnterpriseClaim.objects.create(enterprise=world.firms["yuhua"], user=world.alice)
    user = who(persona, name)
    sees_none = name in ("erin", "anonymous", "retired")  # answered without asking the database
    with django_assert_num_queries(0 if sees_none else 2):  # the surveys with their firms, then their services
        surveys = [(s.enterprise.name, [a.pk for a in s.services_wanted.all()])
                   for s in registry.surveys_visible_to(user)]
    assert sorted(surveys) == sorted((world.firms[f].name, [area.pk]) for f in FIRMS[name])
    with django_assert_num_queries(0 if sees_none else 1):  # the claims with firm, region, claimant, decider
        claims = {(c.enterprise.region.code, c.user.username, getattr(c.decided_by, "username", None))
                  for c in registry.claims_visible_to(user)}
    if name == "alice":  # only the claim she made herself
        assert [c.enterprise for c in registry.claims_visible_to(user)] == [world.firms["yuhua"]]
    else:
        assert {code for code, *_ in claims} == {world.firms[f].region_id for f in FIRMS[name]}
    with django_assert_num_queries(0 if sees_none else 1):  # the needs with their firm, its region, the area
        needs = {(n.enterprise.region.code, n.service_area.name) for n in registry.needs_visible_to(user)}
    assert {code for code, _area in needs} == {world.firms[f].region_id for f in FIRMS[name]}
    with django_assert_num_queries(0 if PREFIX[name] is None else 1):  # the regions with their parents
        assert all(r.parent is None or r.parent.name for r in jurisdiction.regions_visible_to(user)[:50])


# --- internal remarks -----------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "shows"), [("alice", False), ("bob", True), ("diana", True), ("erin", True),
                                             ("admin_user", True), ("anonymous", False)])
def test_only_the_firm_never_reads_internal_remarks(world, persona, name, shows):
    user = who(persona, name)
    assert cases.shows_internal_remarks(user) is shows


def test_a_switched_off_firm_or_expert_account_sees_no_cases_or_visits(world, alice, erin):
    for user in (alice, erin):
        user.is_active = False
        user.save()
        assert not cases.cases_visible_to(user).exists() and not cases.visits_visible_to(user).exists()


def test_the_firms_visits_are_read_without_their_internal_remarks(world, alice, bob):
    visit = cases.visits_visible_to(alice).get()
    assert "internal_remark" in visit.get_deferred_fields()
    assert "internal_remark" not in cases.visits_visible_to(bob).first().get_deferred_fields()


# --- what each may do -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "manages", "works", "rates"), [
    ("alice", set(), set(), {"changan"}),
    ("bob", {"changan", "yuhua"}, {"changan", "yuhua"}, set()),
    ("bianca", {"changan", "yuhua"}, {"changan", "yuhua"}, set()),
    ("charlie", {"lubei"}, {"lubei"}, set()),
    ("diana", set(), set(), set()),
    ("erin", set(), {"yuhua"}, set()),
    ("admin_user", {"changan", "yuhua", "lubei", "dongguan"}, {"changan", "yuhua", "lubei", "dongguan"}, set()),
    ("anonymous", set(), set(), set()),
])
def test_who_may_manage_work_on_and_rate_each_case(world, persona, name, manages, works, rates):
    user = who(persona, name)
    assert {key for key, case in world.cases.items() if cases.may_manage_case(user, case)} == manages
    assert {key for key, case in world.cases.items() if cases.may_work_on_case(user, case)} == works
    assert {key for key, case in world.cases.items() if cases.may_rate_case(user, case)} == rates
    assert {key for key, case in world.cases.items() if cases.is_assigned_expert(user, case)} == (
        {"yuhua"} if name == "erin" else set())


def test_an_expert_edits_only_the_visits_they_logged_on_a_case_assigned_to_them(world, erin, bob):
    own = VisitFactory(case=world.cases["yuhua"], logged_by=erin)
    assert cases.may_edit_visit(erin, own)
    assert not cases.may_edit_visit(erin, world.visits["yuhua"])  # logged by bob
    released = VisitFactory(case=world.cases["lubei"], logged_by=erin)
    assert not cases.may_edit_visit(erin, released)  # released from that case
    assert cases.may_edit_visit(bob, own) and not cases.may_edit_visit(bob, world.visits["lubei"])


@pytest.mark.parametrize(("name", "manages"), [
    ("alice", set()), ("erin", set()), ("diana", set()), ("anonymous", set()),
    ("bob", {"石家庄", "已结束"}), ("bianca", {"石家庄", "已结束"}), ("charlie", {"唐山"}),
    ("admin_user", {"河北", "石家庄", "唐山", "东莞", "已结束"}),
])
def test_who_may_manage_each_campaign(world, persona, name, manages):
    user = who(persona, name)
    campaigns = (world.hebei, world.shijiazhuang, world.tangshan, world.dongguan, world.ended)
    assert {c.name for c in campaigns if may_manage_campaign(user, c)} == manages


def test_a_firms_case_may_join_only_running_campaigns_covering_it(world):
    names = {c.name for c in campaigns_open_for(world.firms["changan"])}
    assert names == {"河北", "石家庄"}
    assert {c.name for c in campaigns_open_for(world.firms["lubei"])} == {"河北", "唐山"}
    assert {c.name for c in campaigns_open_for(world.firms["changan"], TODAY - datetime.timedelta(days=30))} == {
        "河北", "石家庄", "已结束"}
    assert {c.name for c in campaigns_open_for(world.firms["changan"], world.ended.ends_on)} == {
        "河北", "石家庄", "已结束"}
    assert {c.name for c in campaigns_open_for(world.firms["changan"], world.ended.starts_on)} == {
        "河北", "石家庄", "已结束"}
    assert "已结束" not in {c.name for c in campaigns_open_for(world.firms["changan"],
                                                                world.ended.starts_on - datetime.timedelta(days=1))}


# --- what needs attention -------------------------------------------------------------------------


def test_overdue_follow_ups_and_stale_cases(world, bob, alice):
    yesterday, long_ago = TODAY - datetime.timedelta(days=1), TODAY - datetime.timedelta(days=31)
    changan, yuhua = world.cases["changan"], world.cases["yuhua"]
    changan.next_follow_up_on, changan.last_visit_on = yesterday, long_ago
    changan.save()
    yuhua.next_follow_up_on, yuhua.last_visit_on = TODAY, TODAY - datetime.timedelta(days=30)
    yuhua.save()
    assert list(cases.overdue_follow_ups(bob)) == [changan]
    assert list(cases.stale_cases(bob)) == [changan]
    fresh = CaseFactory(campaign=world.shijiazhuang, enterprise=world.firms["yuhua"], lead=bob,
                        opened_at=timezone.now() - datetime.timedelta(days=40))
    assert fresh in cases.stale_cases(bob)  # never visited, opened 40 days ago
    recent = CaseFactory(campaign=world.shijiazhuang, enterprise=world.firms["changan"], lead=bob,
                         opened_at=timezone.now() - datetime.timedelta(days=10))
    assert recent not in cases.stale_cases(bob)  # never visited, but opened only 10 days ago
    assert list(cases.overdue_follow_ups(alice)) == [changan]
    changan.status, changan.resolution, changan.closed_at = "closed", "unresolved", timezone.now()
    changan.save()
    assert list(cases.overdue_follow_ups(bob)) == [] and changan not in cases.stale_cases(bob)
    assert list(cases.cases_awaiting_rating(alice)) == [changan]
    assert list(cases.cases_awaiting_rating(bob)) == []
    CaseRating.objects.create(case=changan, score=4, rated_by=alice)
    assert list(cases.cases_awaiting_rating(alice)) == []  # rated: nothing left to ask


def test_the_longest_overdue_and_the_longest_unvisited_come_first(world, bob):
    """Opened in the reverse of the order they are listed, so an order by opening or by id shows."""
    def case(**fields):
        opened = CaseFactory(campaign=world.shijiazhuang, enterprise=EnterpriseFactory(region=region("130102")),
                             lead=bob)
        AssistanceCase.objects.filter(pk=opened.pk).update(**fields)
        return opened

    def days_ago(days):
        return TODAY - datetime.timedelta(days=days)

    due_in_three = case(next_follow_up_on=days_ago(3), last_visit_on=days_ago(5))
    due_in_ten = case(next_follow_up_on=days_ago(10), last_visit_on=days_ago(12))
    mine = {due_in_three, due_in_ten}
    assert [c for c in cases.overdue_follow_ups(bob) if c in mine] == [due_in_ten, due_in_three]

    # Unvisited for 45 and 60 days, opened 100 and 70 days ago: the longest without a visit first.
    moment = timezone.now()
    unvisited_45 = case(last_visit_on=days_ago(45), opened_at=moment - datetime.timedelta(days=100))
    unvisited_60 = case(last_visit_on=days_ago(60), opened_at=moment - datetime.timedelta(days=70))
    mine = {unvisited_45, unvisited_60}
    assert [c for c in cases.stale_cases(bob) if c in mine] == [unvisited_60, unvisited_45]
    # Never visited: the one opened longer ago first.
    opened_40 = case(opened_at=moment - datetime.timedelta(days=40))
    opened_50 = case(opened_at=moment - datetime.timedelta(days=50))
    mine = {opened_40, opened_50}
    assert [c for c in cases.stale_cases(bob) if c in mine] == [opened_50, opened_40]


def test_the_campaigns_a_case_may_join_come_with_their_regions_in_one_query(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert {c.region.name for c in campaigns_open_for(world.firms["changan"])} == {"河北省", "石家庄市"}


def test_a_case_may_be_recorded_in_started_campaigns_covering_the_firm_until_entry_closes(world,
                                                                                       django_assert_num_queries):
    CampaignFactory(name="明年", region=region("130100"), starts_on=TODAY + datetime.timedelta(days=1),
                    ends_on=TODAY + datetime.timedelta(days=90))
    CampaignFactory(name="已关账", region=region("130100"), starts_on=TODAY - datetime.timedelta(days=90),
                    ends_on=TODAY - datetime.timedelta(days=30), entry_closed_at=timezone.now())
    # Running, or ended but still open for entry (补录); not one to come, one closed for entry or elsewhere.
    assert {c.name for c in campaigns_for_entry(world.firms["changan"])} == {"河北", "石家庄", "已结束"}
    assert {c.name for c in campaigns_for_entry(world.firms["lubei"])} == {"河北", "唐山"}
    with django_assert_num_queries(1):  # with their regions
        assert {c.region.name for c in campaigns_for_entry(world.firms["lubei"])} == {"河北省", "唐山市"}


def test_import_jobs_come_with_their_uploader_and_region_in_one_query(world, bob, admin_user,
                                                                     django_assert_num_queries):
    from enterprises.models import ImportJob

    for user in (bob, admin_user):
        ImportJob.objects.create(uploaded_by=user, region=user.region, file="imports/list.csv",
                                 original_name="list.csv", format="csv")
    with django_assert_num_queries(1):
        assert {(job.uploaded_by.username, job.region and job.region.name)
                for job in registry.import_jobs_visible_to(admin_user)} == {("bob", "石家庄市"), ("admin", None)}
    assert [job.uploaded_by for job in registry.import_jobs_visible_to(bob)] == [bob]


def test_a_case_visited_lately_is_not_stale_however_long_ago_it_opened_and_open_cases_await_no_rating(world, bob,
                                                                                                    alice):
    case = world.cases["changan"]
    case.opened_at = timezone.now() - datetime.timedelta(days=90)
    case.last_visit_on = TODAY - datetime.timedelta(days=10)
    case.save()
    assert case not in cases.stale_cases(bob)
    assert list(cases.cases_awaiting_rating(alice)) == []  # open: nothing to rate yet
