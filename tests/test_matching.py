"""Matching: which experts are suggested for a need, in what order, and why."""

import pytest

from campaigns.cases import services
from campaigns.cases.matching import suggest_experts
from portal.models import Region, Specialty
from tests.factories import CampaignFactory, EnterpriseFactory, ExpertFactory

pytestmark = pytest.mark.django_db


def specialties(*codes):
    return list(Specialty.objects.filter(code__in=codes))


def regions(*codes):
    return list(Region.objects.filter(code__in=codes))


@pytest.fixture
def firm():
    return EnterpriseFactory(region=Region.objects.get(code="130102"))


def test_it_ranks_a_fitting_specialty_first_and_explains_why(bob, firm):
    fits = ExpertFactory(name="计量专家", specialties=specialties("metrology"))
    ExpertFactory(name="品牌专家", specialties=specialties("brand"))
    suggestions = suggest_experts(user=bob, enterprise=firm, service_area_ids=[2])
    assert [s.expert.name for s in suggestions] == ["计量专家", "品牌专家"]
    assert suggestions[0].expert == fits and suggestions[0].specialty_fits
    assert not suggestions[1].specialty_fits
    assert suggestions[0].score > suggestions[1].score
    assert len(suggestions[0].reasons) == 4


def test_it_suggests_only_active_experts_serving_the_region_or_above(bob, firm):
    ExpertFactory(name="服务长安区", regions_served=regions("130102"))
    ExpertFactory(name="服务全省", regions_served=regions("130000"))
    ExpertFactory(name="服务桥西区", regions_served=regions("130104"))
    ExpertFactory(name="服务唐山", regions_served=regions("130200"))
    ExpertFactory(name="已停用", is_active=False)
    names = {s.expert.name for s in suggest_experts(user=bob, enterprise=firm, service_area_ids=[2])}
    assert names == {"服务长安区", "服务全省"}


def test_a_closer_region_and_free_capacity_rank_higher(bob, firm):
    near = ExpertFactory(name="服务长安区", regions_served=regions("130102"))
    far = ExpertFactory(name="服务全省", regions_served=regions("130000"))
    ranked = suggest_experts(user=bob, enterprise=firm, service_area_ids=[2])
    assert [s.expert for s in ranked] == [near, far]
    assert ranked[0].served_region.code == "130102" and ranked[1].served_region.code == "130000"


def test_an_expert_at_capacity_is_flagged_and_ranked_lower(bob, firm):
    campaign = CampaignFactory()
    busy = ExpertFactory(name="满负荷", capacity=1)
    free = ExpertFactory(name="有空")
    other = EnterpriseFactory()
    case = services.case_open(user=bob, campaign=campaign, enterprise=other, title="已有案件")
    services.case_assign_expert(user=bob, case=case, expert=busy)
    ranked = suggest_experts(user=bob, enterprise=firm, service_area_ids=[2])
    assert [s.expert for s in ranked] == [free, busy]
    assert ranked[1].at_capacity and ranked[1].load == 1 and not ranked[0].at_capacity


def test_a_rating_counts_in_the_record_of_the_experts_who_saw_the_case_through(bob, alice):
    from campaigns.cases.models import AssistanceCase
    from campaigns.cases.ratings import expert_rating_records_rebuild
    from experts.models import Expert
    from experts.selectors import with_record

    firm = alice.enterprises.get()
    stayed, released = ExpertFactory(name="到底"), ExpertFactory(name="中途")
    case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=firm, title="评价")
    services.case_assign_expert(user=bob, case=case, expert=stayed)
    services.case_assign_expert(user=bob, case=case, expert=released)
    services.case_release_expert(user=bob, case=case, expert=released)
    services.case_close(user=bob, case=case, resolution="unresolved", note="企业停产")
    services.case_rate(user=alice, case=AssistanceCase.objects.get(pk=case.pk), score=4)
    records = {e.name: (e.rating_count, e.rating_mean) for e in with_record(Expert.objects.all())}
    assert records == {"到底": (1, 4.0), "中途": (0, None)}
    Expert.objects.update(rating_count=0, rating_total=0)
    expert_rating_records_rebuild()
    assert Expert.objects.get(pk=stayed.pk).rating_total == 4
    assert Expert.objects.get(pk=released.pk).rating_count == 0
