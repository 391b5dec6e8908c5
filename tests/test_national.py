"""The national level above the provinces: the country's region, national regulators and
supervisors, campaigns over the whole country drilled down by province, and who sees which rows."""

import datetime

import pytest
from django.urls import reverse

from campaigns.cases import services
from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import CampaignTarget
from campaigns.services import campaign_target_set
from portal.models import Region, code_prefix, enclosing_codes
from portal.selectors import regions_visible_to
from tests.factories import CampaignFactory, EnterpriseFactory, RegulatorFactory, SupervisorFactory

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()


def region(code: str) -> Region:
    return Region.objects.get(code=code)


@pytest.fixture
def nora(db):
    """A supervisor of the national regulator (国家市场监督管理总局): the whole country, read-only."""
    return SupervisorFactory(username="nora", region=region("000000"))


@pytest.fixture
def ned(db):
    """A regulator of the national regulator."""
    return RegulatorFactory(username="ned", region=region("000000"))


@pytest.fixture
def country(ned, bob, admin_user):
    """A campaign over the whole country with firms assisted in Hebei (two) and Guangdong (one)."""
    campaign = CampaignFactory(name="小微企业质量管理体系认证提升行动", organiser="国家市场监督管理总局",
                               region=region("000000"))
    firms = [EnterpriseFactory(region=region("130102")), EnterpriseFactory(region=region("130203")),
             EnterpriseFactory(region=region("441900"))]
    cases = [services.case_open(user=ned, campaign=campaign, enterprise=firm, title="一企一策") for firm in firms]
    services.visit_log(user=bob, case=cases[0], visited_on=TODAY, mode="on_site", hours=2, people_present="王建国")
    services.visit_log(user=ned, case=cases[2], visited_on=TODAY, mode="remote", hours=1, people_present="李明")
    kpis.compute_campaign(campaign.pk)
    return campaign


def test_the_country_lies_above_every_province_and_its_prefix_is_empty():
    assert code_prefix("000000") == ""
    assert enclosing_codes("130102") == ["000000", "130000", "130100", "130102"]
    assert region("130000").parent_id == "000000"
    # The country is above the provinces but no part of a place's name.
    assert region("130102").full_name() == "河北省石家庄市长安区"


def test_a_national_supervisor_sees_every_province_and_a_province_does_not_see_the_country(nora, diana):
    national = regions_visible_to(nora)
    assert national.filter(level="province").count() == 34
    assert national.filter(code="000000").exists()
    assert not regions_visible_to(diana).filter(code__in=["000000", "440000"]).exists()


def test_the_engine_counts_a_national_campaign_for_the_country_and_each_province(country):
    figures = KpiSnapshot.objects.get(campaign=country, region_id="000000", period="", breakdown="", key="").figures
    assert (figures["firms_assisted"], figures["visits"], figures["consultations"]) == (3, 2, 1)
    by_province = dict(KpiSnapshot.objects.filter(campaign=country, level="province", period="", breakdown="")
                       .values_list("region_id", "figures__firms_assisted"))
    assert by_province["130000"] == 2 and by_province["440000"] == 1 and by_province["340000"] == 0
    assert KpiSnapshot.objects.get(campaign=country, region_id="000000", period="", breakdown="").level == "national"


def test_a_national_campaigns_updates_give_the_full_counts_figures(country, ned):
    case = country.cases.get(enterprise__region_id="130203")
    services.visit_log(user=ned, case=case, visited_on=TODAY, mode="mobile_clinic", hours=3, people_present="张")
    kpis.recount(country.pk, kpis.Touched(cells={"visits": {("130203", TODAY.strftime("%Y-%m"))}}))
    total = KpiSnapshot.objects.get(campaign=country, region_id="000000", period="", breakdown="")
    assert total.figures["visits"] == 3
    kpis.compute_campaign(country.pk)
    assert kpis.KpiState.objects.get(campaign=country).corrections == 0


def test_an_update_touching_more_regions_than_it_filters_by_gives_the_same_figures(country, ned, monkeypatch):
    monkeypatch.setattr(kpis, "MAX_PREFIX_FILTERS", 0)  # as an import touching every county would
    case = country.cases.get(enterprise__region_id="441900")
    services.visit_log(user=ned, case=case, visited_on=TODAY, mode="on_site", hours=1, people_present="李明")
    kpis.recount(country.pk, kpis.Touched(cells={"visits": {("441900", None)}}))
    guangdong = KpiSnapshot.objects.get(campaign=country, region_id="440000", period="", breakdown="").figures
    assert guangdong["visits"] == 2
    kpis.compute_campaign(country.pk)
    assert kpis.KpiState.objects.get(campaign=country).corrections == 0


def test_a_target_for_each_province_applies_to_every_province_of_a_national_campaign(country, ned):
    campaign_target_set(user=ned, campaign=country, metric="firms_assisted", scope="each_province", value=2)
    kpis.recount(country.pk, kpis.Touched(targets=True))
    hebei = KpiSnapshot.objects.get(campaign=country, region_id="130000", period="", breakdown="").figures
    assert hebei["targets"] == {"firms_assisted": 2.0}


def test_only_a_national_campaign_takes_a_target_for_each_province(admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as raised:
        campaign_target_set(user=admin_user, campaign=CampaignFactory(), metric="firms_assisted",
                            scope=CampaignTarget.Scope.EACH_PROVINCE, value=2)
    assert "scope" in raised.value.message_dict


class TestTheNationalDashboardAndItsAccessMatrix:
    def url(self, campaign, code=None):
        url = reverse("dashboards:campaign", args=[campaign.pk])
        return f"{url}?region={code}" if code else url

    def test_a_national_supervisor_drills_down_from_the_country_to_every_province(self, client_for, nora, country):
        response = client_for(nora).get(self.url(country))
        assert response.status_code == 200
        dashboard = response.context["dashboard"]
        assert dashboard.region.code == "000000" and dashboard.child_level == "province"
        assert len(dashboard.children) == 34
        assert dashboard.children[0].region.code == "130000"  # most firms assisted first

    def test_a_national_regulator_colleague_sees_the_same(self, client_for, ned, country):
        assert client_for(ned).get(self.url(country, "440000")).status_code == 200

    def test_a_province_supervisor_sees_the_campaign_from_their_province_only(self, client_for, diana, country):
        client = client_for(diana)
        response = client.get(self.url(country))
        assert response.context["dashboard"].region.code == "130000"
        assert [r.code for r in response.context["dashboard"].trail] == ["130000"]
        assert client.get(self.url(country, "000000")).status_code == 404
        assert client.get(self.url(country, "440000")).status_code == 404

    def test_a_province_does_not_get_the_countrys_rows_from_the_api(self, api_for, diana, nora, country):
        url = reverse("api:kpi-snapshot-list")
        params = {"campaign": country.pk, "to_date": "true", "breakdown": "total"}
        seen = {row["region"] for row in api_for(diana).get(url, params).json()["results"]}
        assert "000000" not in seen and "440000" not in seen and "130000" in seen
        everything = api_for(nora).get(url, {**params, "level": "province", "per_page": 100}).json()
        assert everything["count"] == 34

    def test_a_read_only_national_supervisor_may_not_open_a_case(self, client_for, nora, country):
        assert client_for(nora).get(reverse("cases:new")).status_code == 403

    def test_anonymous_is_sent_to_sign_in(self, client_for, country):
        response = client_for(None).get(self.url(country))
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_national_regulator_sees_firms_in_every_province_and_a_city_regulator_does_not(client_for, ned, bob):
    EnterpriseFactory(name="东莞制造有限公司", region=region("441900"))
    assert "东莞制造有限公司" in client_for(ned).get(reverse("enterprises:list")).content.decode()
    assert "东莞制造有限公司" not in client_for(bob).get(reverse("enterprises:list")).content.decode()


def test_a_campaign_may_cover_the_whole_country(api_for, admin_user):
    response = api_for(admin_user).post(reverse("api:campaign-list"), {
        "name": "服务零距离、质量零缺陷", "organiser": "国家质检总局", "region": "000000",
        "starts_on": "2017-09-01", "ends_on": "2017-09-30"}, format="json")
    assert response.status_code == 201, response.content


class TestRankingByAnyFigure:
    """Double zero: regions are evaluated on SME satisfaction, not only on firms assisted."""

    @pytest.fixture
    def rated(self, country, ned):
        from campaigns.cases.models import AssistanceCase
        from tests.factories import UserFactory

        for region_code, score in (("441900", 5), ("130102", 2)):
            case = AssistanceCase.objects.get(campaign=country, enterprise__region_id=region_code)
            owner = UserFactory(role="sme")
            case.enterprise.users.add(owner)
            services.case_close(user=ned, case=case, resolution="unresolved", note="停产")
            services.case_rate(user=owner, case=AssistanceCase.objects.get(pk=case.pk), score=score)
        kpis.compute_campaign(country.pk)
        return country

    def test_the_page_ranks_the_provinces_by_satisfaction(self, client_for, nora, rated):
        url = reverse("dashboards:campaign", args=[rated.pk])
        by_firms = client_for(nora).get(url).context["dashboard"].children
        assert by_firms[0].region.code == "130000"
        by_satisfaction = client_for(nora).get(url, {"rank_by": "satisfaction_mean"}).context["dashboard"]
        assert [c.region.code for c in by_satisfaction.children[:2]] == ["440000", "130000"]
        assert by_satisfaction.children[0].rank == 1 and by_satisfaction.rank_by == "satisfaction_mean"

    def test_an_unknown_figure_falls_back_to_firms_assisted(self, client_for, nora, rated):
        response = client_for(nora).get(reverse("dashboards:campaign", args=[rated.pk]), {"rank_by": "<script>"})
        assert response.status_code == 200 and response.context["dashboard"].rank_by == "firms_assisted"

    def test_the_export_ranks_as_the_page(self, client_for, nora, rated):
        response = client_for(nora).get(reverse("dashboards:export", args=[rated.pk, "csv"]),
                                        {"rank_by": "satisfaction_mean"})
        text = response.content.decode("utf-8-sig")
        assert text.index("440000") < text.index("130000,")

    def test_the_api_orders_the_provinces_by_any_figure(self, api_for, nora, rated):
        rows = api_for(nora).get(reverse("api:kpi-snapshot-list"), {
            "campaign": rated.pk, "level": "province", "to_date": "true", "breakdown": "total",
            "rank_by": "satisfaction_mean"}).json()["results"]
        assert [row["region"] for row in rows[:2]] == ["440000", "130000"]
        assert api_for(nora).get(reverse("api:kpi-snapshot-list"), {"rank_by": "nope"}).status_code == 400
