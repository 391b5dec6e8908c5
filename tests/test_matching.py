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


def test_a_pressure_gauge_calibration_need_ranks_the_metrology_institutes_experts_above_food_inspectors(bob, alice):
    """Both specialties serve the quality-infrastructure area (2); the need's words decide. The food
    inspectors serve the county itself and are rated 5, which alone used to rank them first."""
    from enterprises.services import need_submit
    from portal.models import ServiceArea

    firm = alice.enterprises.get()
    need = need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="车间12台压力表超过检定周期，需要送检校准并建立计量器具台账。")
    county = regions(firm.region_id)
    food = [ExpertFactory(name=f"食品检验{i}", employer="河北省食品检验研究院", regions_served=county,
                          specialties=specialties("food-safety", "inspection-testing"), rating_total=10, rating_count=2)
            for i in range(2)]
    metrology = [ExpertFactory(name=f"计量院{i}", employer="河北省计量监督检测研究院", regions_served=regions("130000"),
                               specialties=specialties("metrology")) for i in range(2)]
    ranked = suggest_experts(user=bob, enterprise=firm, service_area_ids=[2], text=f"{need.title} {need.description}")
    order = [s.expert for s in ranked]
    assert set(order[:2]) == set(metrology) and set(order[2:4]) == set(food)
    top = ranked[0]
    assert top.named_specialty.code == "metrology"
    assert {"压力表", "校准", "检定", "计量"} <= set(top.named_words)
    assert any("压力表" in reason for reason in top.reasons)
    # Without the words, the county's rated food inspectors came first: the words make the difference.
    blind = suggest_experts(user=bob, enterprise=firm, service_area_ids=[2])
    assert set(s.expert for s in blind[:2]) == set(food)


def test_past_cases_on_the_subject_count_and_are_named(bob, alice):
    firm = alice.enterprises.get()
    veteran, newcomer = ExpertFactory(name="老手", capacity=10), ExpertFactory(name="新手", capacity=10)
    for title in ["压力表校准", "衡器计量检定"]:
        case = services.case_open(user=bob, campaign=CampaignFactory(), enterprise=EnterpriseFactory(), title=title)
        services.case_assign_expert(user=bob, case=case, expert=veteran)
    ranked = suggest_experts(user=bob, enterprise=firm, service_area_ids=[8], text="计量器具校准")
    assert [s.expert for s in ranked] == [veteran, newcomer]
    assert ranked[0].past_cases == 2 and ranked[1].past_cases == 0
    assert any("2" in reason for reason in ranked[0].reasons)


def test_full_width_words_are_read_too():
    from campaigns.cases.matching import specialties_named

    assert specialties_named("需要ＩＳＯ　９００１认证")["certification"] == ["认证", "iso", "9001"]
