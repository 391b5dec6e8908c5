"""/api/kpi-snapshots/: staff read the snapshots of the campaigns they may see, only in the regions of
their own jurisdiction; filters by campaign, region, level, period and breakdown; constant queries."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from portal.models import Region
from tests.factories import CampaignFactory
from tests.test_dashboards import build_hebei_campaign

pytestmark = pytest.mark.django_db

URL = reverse("api:kpi-snapshot-list")
THIS_MONTH = f"{timezone.localdate():%Y-%m}"


@pytest.fixture
def hebei(bob, charlie, admin_user):
    return build_hebei_campaign(bob, charlie, admin_user)


@pytest.fixture
def dongguan():
    campaign = CampaignFactory(region=Region.objects.get(code="441900"))
    kpis.compute_campaign(campaign.pk)
    return campaign


def rows(api, **params) -> list[dict]:
    """Every row the filter keeps, across pages."""
    response = api.get(URL, {"page_size": 500, **params})
    assert response.status_code == 200, response.data
    assert response.data["next"] is None
    return response.data["results"]


def keys(results) -> set[tuple]:
    return {(row["region"], row["period"], row["breakdown"], row["key"]) for row in results}


class TestScope:
    def test_a_city_regulator_reads_only_the_rows_of_his_city(self, api_for, bob, hebei, dongguan):
        results = rows(api_for(bob))
        assert results and {row["region"][:4] for row in results} == {"1301"}
        assert {row["campaign"] for row in results} == {hebei.pk}
        assert ("130100", "", "", "") in keys(results) and ("130000", "", "", "") not in keys(results)

    def test_the_other_city_regulator_reads_his_own(self, api_for, charlie, hebei):
        results = rows(api_for(charlie))
        assert {row["region"][:4] for row in results} == {"1302"}

    def test_a_province_supervisor_reads_the_province_and_every_region_inside(self, api_for, diana, hebei, dongguan):
        results = rows(api_for(diana))
        regions = {row["region"] for row in results}
        assert {"130000", "130100", "130200", "130102"} <= regions
        assert all(code.startswith("13") for code in regions)

    def test_an_administrator_reads_every_campaign(self, api_for, admin_user, hebei, dongguan):
        results = rows(api_for(admin_user), level="city", to_date="true", breakdown="total")
        assert {row["campaign"] for row in results} == {hebei.pk, dongguan.pk}

    def test_a_campaign_out_of_sight_gives_nothing(self, api_for, bob, dongguan):
        assert rows(api_for(bob), campaign=dongguan.pk) == []

    @pytest.mark.parametrize("persona", ["alice", "erin"])
    def test_sme_users_and_experts_are_refused(self, request, api_for, hebei, persona):
        assert api_for(request.getfixturevalue(persona)).get(URL).status_code == 403

    def test_anonymous_callers_are_refused(self, api_for, hebei):
        assert api_for(None).get(URL).status_code == 403

    def test_it_is_read_only(self, api_for, admin_user, hebei):
        api = api_for(admin_user)
        assert api.post(URL, {}, format="json").status_code == 405
        snapshot = KpiSnapshot.objects.filter(campaign=hebei).first()
        assert api.get(f"{URL}{snapshot.pk}/").status_code == 404


class TestOutput:
    def test_a_row_carries_its_campaign_region_period_breakdown_figures_and_time(self, api_for, bob, hebei):
        (row,) = rows(api_for(bob), region="130100", period="to_date", breakdown="total")
        snapshot = KpiSnapshot.objects.get(campaign=hebei, region_id="130100", period="", breakdown="", key="")
        assert row == {
            "id": snapshot.pk, "campaign": hebei.pk, "campaign_name": hebei.name, "region": "130100",
            "region_name": "石家庄市", "level": "city", "period": "", "breakdown": "", "key": "",
            "figures": snapshot.figures, "computed_at": row["computed_at"],
        }
        assert row["figures"]["firms_assisted"] == 2 and row["figures"]["targets"] == {"key_firms_assisted": 50.0}
        assert datetime.datetime.fromisoformat(row["computed_at"]) == snapshot.computed_at


class TestFilters:
    def test_campaign_keeps_that_campaigns_rows(self, api_for, admin_user, hebei, dongguan):
        assert {row["campaign"] for row in rows(api_for(admin_user), campaign=dongguan.pk)} == {dongguan.pk}

    def test_region_keeps_exactly_that_region(self, api_for, diana, hebei):
        assert {row["region"] for row in rows(api_for(diana), region="130100")} == {"130100"}

    def test_within_keeps_the_region_and_everything_inside_it(self, api_for, diana, hebei):
        regions = {row["region"] for row in rows(api_for(diana), within="130100", to_date="true", breakdown="total")}
        assert "130100" in regions and "130102" in regions and all(code.startswith("1301") for code in regions)
        assert rows(api_for(diana), within="13") == []  # not a region code

    def test_level_keeps_one_level(self, api_for, diana, hebei):
        assert {row["level"] for row in rows(api_for(diana), level="county")} == {"county"}

    def test_period_to_date_and_a_month(self, api_for, diana, hebei):
        api = api_for(diana)
        assert {row["period"] for row in rows(api, period="to_date")} == {""}
        assert {row["period"] for row in rows(api, to_date="true")} == {""}
        assert {row["period"] for row in rows(api, period=THIS_MONTH)} == {THIS_MONTH}
        assert {row["period"] for row in rows(api, to_date="false")} == {THIS_MONTH}

    def test_breakdown_and_key(self, api_for, diana, hebei):
        api = api_for(diana)
        assert {row["breakdown"] for row in rows(api, breakdown="total")} == {""}
        industry = rows(api, breakdown="industry", region="130000")
        assert {row["key"] for row in industry} == {"C"} and industry[0]["figures"]["firms_assisted"] == 3
        (small,) = rows(api, breakdown="size", key="small", region="130000")
        assert small["figures"]["firms_assisted"] == 2

    def test_a_bad_choice_answers_400(self, api_for, diana, hebei):
        assert api_for(diana).get(URL, {"level": "planet"}).status_code == 400
        assert api_for(diana).get(URL, {"breakdown": "colour"}).status_code == 400


@pytest.mark.parametrize("page_size", [10, 100])
def test_the_list_costs_the_same_queries_at_any_page_size(api_for, diana, hebei, django_assert_num_queries, page_size):
    api = api_for(diana)
    # The count, then one page of snapshots with their campaign and region joined (the visible
    # campaigns are a subquery).
    with django_assert_num_queries(2):
        response = api.get(URL, {"page_size": page_size})
    assert len(response.data["results"]) == page_size
