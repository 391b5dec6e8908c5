"""Campaign dashboards: who may open which region, the figures and targets they show (straight from
the KPI snapshots), drill-down, a constant number of queries, and the CSV / XLSX export."""

import csv
import datetime
import io
import json
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.cases import services
from campaigns.cases.models import AssistanceCase
from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from enterprises import services as registry
from portal.models import Region, ServiceArea
from tests.factories import CampaignFactory, EnterpriseFactory, UserFactory, region

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(n: int) -> datetime.date:
    return TODAY - datetime.timedelta(days=n)


def build_hebei_campaign(bob, charlie, admin_user, **campaign_fields):
    """A Hebei province campaign with firms assisted in two Shijiazhuang counties and in Tangshan,
    visits, a closed and rated case, two training sessions and targets at every scope; computed."""
    campaign = CampaignFactory(**campaign_fields)
    owner = UserFactory(role="sme")
    a = EnterpriseFactory(region=region("130102"), is_key=True, industry_id="13", size="small")
    b = EnterpriseFactory(region=region("130104"), industry_id="39", size="micro")
    c = EnterpriseFactory(region=region("130203"), is_key=True, industry_id="14", size="small")
    for firm in (a, b, c):
        firm.users.add(owner)
    need_a = registry.need_submit(user=owner, enterprise=a, service_area=ServiceArea.objects.get(code=2),
                                  title="计量校准", description="需要校准")
    case_a = services.case_open(user=bob, campaign=campaign, needs=[need_a], title="甲")
    services.case_open(user=bob, campaign=campaign, enterprise=b, title="乙")
    case_c = services.case_open(user=charlie, campaign=campaign, enterprise=c, title="丙")
    services.visit_log(user=bob, case=case_a, visited_on=days_ago(2), mode="on_site", hours=2, people_present="王")
    services.visit_log(user=charlie, case=case_c, visited_on=days_ago(1), mode="remote", hours=1, people_present="张")
    services.case_transition(user=bob, case=case_a, to_status="diagnosing")
    services.case_update(user=bob, case=AssistanceCase.objects.get(pk=case_a.pk), version=None, diagnosis="诊断",
                         plan="方案")
    for step in ("plan_agreed", "in_progress"):
        services.case_transition(user=bob, case=case_a, to_status=step)
    services.case_close(user=bob, case=case_a, resolution="resolved", fulfilled_needs=[need_a], lab_set_up=True,
                        money_saved=450000)
    case_a.refresh_from_db()
    services.case_rate(user=owner, case=case_a, score=5)
    training_services.training_record(user=bob, campaign=campaign, region=region("130102"), topic="计量培训",
                             held_on=days_ago(3), organiser="石家庄市局", attendances=[(a, 2, ""), (b, 5, "")])
    training_services.training_record(user=charlie, campaign=campaign, region=region("130200"), topic="质量管理培训",
                             held_on=days_ago(3), organiser="唐山市局", attendances=[(c, 4, "")])
    campaign_target_set(user=admin_user, campaign=campaign, metric="key_firms_assisted",
                                 scope="each_city", value=50)
    campaign_target_set(user=admin_user, campaign=campaign, metric="firms_assisted",
                                 scope="each_county", value=1)
    campaign_target_set(user=admin_user, campaign=campaign, metric="person_times", value=100)
    kpis.compute_campaign(campaign.pk)
    return campaign


@pytest.fixture
def hebei(bob, charlie, admin_user):
    return build_hebei_campaign(bob, charlie, admin_user)


def page_url(campaign, code: str | None = None) -> str:
    url = reverse("dashboards:campaign", args=[campaign.pk])
    return f"{url}?region={code}" if code else url


def export_url(campaign, fmt: str, code: str | None = None) -> str:
    url = reverse("dashboards:export", args=[campaign.pk, fmt])
    return f"{url}?region={code}" if code else url


def snapshot(campaign, code: str) -> dict:
    return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period="", breakdown="", key="").figures


def card_value(html: str, figure: str) -> str:
    match = re.search(rf'data-testid="kpi-{figure}".*?data-testid="kpi-value">([^<]*)<', html, re.S)
    assert match, f"no card for {figure}"
    return match.group(1).strip()


def chart_json(response) -> dict:
    block = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>',
                      response.content.decode(), re.S)
    return json.loads(block.group(1))


def ranked_codes(response) -> list[str]:
    return [child.region.code for child in response.context["dashboard"].children]


# --- who sees what ---------------------------------------------------------------------------


class TestAccess:
    def test_a_city_regulator_opens_his_city_with_its_counties_below(self, client_for, bob, hebei):
        response = client_for(bob).get(page_url(hebei))
        assert response.status_code == 200
        assert response.context["dashboard"].region.code == "130100"
        assert {"130102", "130104"} <= set(ranked_codes(response))
        assert all(code.startswith("1301") for code in ranked_codes(response))

    def test_a_city_regulator_may_not_open_another_city_or_the_province(self, client_for, bob, hebei):
        client = client_for(bob)
        assert client.get(page_url(hebei, "130200")).status_code == 404
        assert client.get(page_url(hebei, "130203")).status_code == 404
        assert client.get(page_url(hebei, "130000")).status_code == 404
        assert client.get(page_url(hebei, "130102")).status_code == 200

    def test_the_other_city_regulator_sees_the_reverse(self, client_for, charlie, hebei):
        client = client_for(charlie)
        response = client.get(page_url(hebei))
        assert response.context["dashboard"].region.code == "130200"
        assert client.get(page_url(hebei, "130100")).status_code == 404
        assert client.get(page_url(hebei, "130102")).status_code == 404

    def test_a_province_supervisor_drills_down_from_province_to_city_to_county(self, client_for, diana, hebei):
        client = client_for(diana)
        province = client.get(page_url(hebei))
        assert province.context["dashboard"].region.code == "130000"
        assert set(ranked_codes(province)) >= {"130100", "130200", "130300"}
        assert f'href="{page_url(hebei, "130100")}"' in province.content.decode()

        city = client.get(page_url(hebei, "130100"))
        assert city.status_code == 200
        assert f'href="{page_url(hebei, "130102")}"' in city.content.decode()
        assert [r.code for r in city.context["dashboard"].trail] == ["130000", "130100"]

        county = client.get(page_url(hebei, "130102"))
        assert county.status_code == 200
        assert [r.code for r in county.context["dashboard"].trail] == ["130000", "130100", "130102"]
        html = county.content.decode()
        # Back up: the province and the city are links, the county is where we are.
        assert f'href="{page_url(hebei, "130000")}"' in html and f'href="{page_url(hebei, "130100")}"' in html
        assert county.context["dashboard"].children == []

    def test_the_trail_shows_only_the_levels_the_user_may_open(self, client_for, bob, hebei):
        response = client_for(bob).get(page_url(hebei, "130102"))
        assert [r.code for r in response.context["dashboard"].trail] == ["130100", "130102"]
        assert f'href="{page_url(hebei, "130000")}"' not in response.content.decode()

    def test_a_city_campaign_opens_at_its_own_region_for_a_province_supervisor(self, client_for, diana):
        campaign = CampaignFactory(region=region("130100"))
        kpis.compute_campaign(campaign.pk)
        client = client_for(diana)
        response = client.get(page_url(campaign))
        assert response.context["dashboard"].region.code == "130100"
        assert [r.code for r in response.context["dashboard"].trail] == ["130100"]
        assert client.get(page_url(campaign, "130000")).status_code == 404
        assert client.get(page_url(campaign, "130200")).status_code == 404

    def test_a_campaign_out_of_sight_is_not_found(self, client_for, bob, charlie):
        dongguan = CampaignFactory(region=region("441900"))
        shijiazhuang = CampaignFactory(region=region("130100"))
        assert client_for(bob).get(page_url(dongguan)).status_code == 404
        assert client_for(charlie).get(page_url(shijiazhuang)).status_code == 404
        assert client_for(charlie).get(export_url(shijiazhuang, "csv")).status_code == 404
        assert client_for(bob).get(reverse("dashboards:campaign", args=[999999])).status_code == 404

    @pytest.mark.parametrize("code", ["abc", "1301", "13010x", "999999", "130100 "])
    def test_a_malformed_or_unknown_region_is_not_found(self, client_for, diana, hebei, code):
        status = client_for(diana).get(page_url(hebei), {"region": code}).status_code
        assert status == (200 if code == "130100 " else 404)

    @pytest.mark.parametrize("persona", ["alice", "erin"])
    def test_sme_users_and_experts_are_refused(self, request, client_for, hebei, persona):
        client = client_for(request.getfixturevalue(persona))
        assert client.get(page_url(hebei)).status_code == 403
        assert client.get(export_url(hebei, "xlsx")).status_code == 403
        assert client.get(reverse("dashboards:index")).status_code == 403

    def test_anonymous_visitors_are_sent_to_sign_in(self, client_for, hebei):
        client = client_for(None)
        for url in (page_url(hebei), export_url(hebei, "csv"), reverse("dashboards:index")):
            response = client.get(url)
            assert response.status_code == 302 and response.url.startswith(reverse("login"))

    def test_the_dashboard_is_read_only(self, client_for, diana, bob, hebei):
        assert client_for(bob).post(page_url(hebei)).status_code == 405
        assert client_for(diana).post(export_url(hebei, "csv")).status_code == 405

    def test_an_administrator_opens_the_campaign_region(self, client_for, admin_user, hebei):
        response = client_for(admin_user).get(page_url(hebei))
        assert response.context["dashboard"].region.code == "130000"


# --- what the page shows ---------------------------------------------------------------------


class TestContent:
    def test_the_cards_show_the_snapshot_figures_and_when_they_were_computed(self, client_for, bob, hebei):
        response = client_for(bob).get(page_url(hebei))
        html = response.content.decode()
        figures = snapshot(hebei, "130100")
        assert (figures["firms_assisted"], figures["visits"], figures["person_times"]) == (2, 1, 7)
        assert card_value(html, "firms_assisted") == "2"
        assert card_value(html, "key_firms_assisted") == "1"
        assert card_value(html, "visits") == "1"
        assert card_value(html, "person_times") == "7"
        assert card_value(html, "firm_times") == "2"
        assert card_value(html, "training_sessions") == "1"
        assert card_value(html, "needs_fulfilled") == "1"
        assert card_value(html, "fulfilment_rate") == "100%"
        assert card_value(html, "satisfaction_mean") == "5"
        assert card_value(html, "labs_set_up") == "1"
        assert card_value(html, "money_saved") == "450,000"
        assert card_value(html, "revenue_change_mean") == "—"  # no follow-up survey yet
        computed_at = KpiSnapshot.objects.filter(campaign=hebei).values_list("computed_at", flat=True)[0]
        stamp = timezone.localtime(computed_at).strftime("%Y-%m-%d %H:%M")
        assert stamp in html and 'data-testid="as-of"' in html

    def test_every_headline_figure_has_a_card(self, client_for, diana, hebei):
        html = client_for(diana).get(page_url(hebei)).content.decode()
        for name in ("firms_assisted", "key_firms_assisted", "key_industries", "training_sessions", "person_times",
                     "firm_times", "visits", "consultations", "needs_received", "needs_fulfilled", "fulfilment_rate",
                     "days_to_first_visit", "firms_certified", "certified_share", "satisfaction_mean",
                     "satisfied_share", "awareness_up_share", "performance_up_share", "revenue_change_mean",
                     "output_change_mean", "margin_change_mean", "labs_set_up", "money_saved"):
            card_value(html, name)
        assert card_value(html, "firms_assisted") == "3" and card_value(html, "consultations") == "1"

    def test_a_campaign_not_computed_yet_says_so(self, client_for, diana):
        campaign = CampaignFactory()
        response = client_for(diana).get(page_url(campaign))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="not-computed"' in html
        assert 'data-testid="headline"' not in html and 'data-chart=' not in html

    def test_the_region_targets_and_those_of_the_regions_below_are_shown(self, client_for, diana, bob, hebei):
        province = client_for(diana).get(page_url(hebei)).context
        assert [(row.metric, row.target, row.actual) for row in province["dashboard"].targets] == [
            ("person_times", 100.0, 11)]
        assert [metric for metric, _label in province["target_columns"]] == ["key_firms_assisted"]
        tangshan = next(cells for child, cells in province["target_matrix"] if child.region.code == "130200")
        assert (tangshan[0].target, tangshan[0].actual, tangshan[0].attainment) == (50.0, 1, 2.0)

        city = client_for(bob).get(page_url(hebei))
        assert [(row.metric, row.target, row.actual) for row in city.context["dashboard"].targets] == [
            ("key_firms_assisted", 50.0, 1)]
        changan = next(cells for child, cells in city.context["target_matrix"] if child.region.code == "130102")
        assert (changan[0].metric, changan[0].actual, changan[0].met) == ("firms_assisted", 1, True)
        html = city.content.decode()
        assert 'data-testid="own-targets"' in html and 'data-testid="child-targets"' in html
        assert "2%" in html  # key enterprises: 1 of 50

    def test_the_ranking_puts_the_most_firms_assisted_first_with_links_to_drill_down(self, client_for, diana, hebei):
        response = client_for(diana).get(page_url(hebei))
        children = response.context["dashboard"].children
        assert [(c.region.code, c.rank) for c in children[:2]] == [("130100", 1), ("130200", 2)]
        assert children[2].rank == 3 and all(c.rank == 3 for c in children[2:])  # ties share a rank
        html = response.content.decode()
        assert html.count('data-testid="drill-down"') == len(children)
        # Attainment: Shijiazhuang has its key-enterprise target 1/50 reached, so 2%.
        assert children[0].attainment == 2.0

    def test_the_charts_get_their_data_from_a_json_script_block(self, client_for, diana, bob, hebei):
        response = client_for(diana).get(page_url(hebei))
        html = response.content.decode()
        data = chart_json(response)
        assert data["regions"]["names"][0] == "石家庄市"
        assert data["regions"]["urls"][0] == page_url(hebei, "130100")
        assert [chart["series"][0]["data"][0] for chart in data["regions"]["charts"]] == [2, 1]
        assert data["monthly"]["months"][0] == f"{hebei.starts_on:%Y-%m}"
        assert data["monthly"]["months"][-1] == f"{TODAY:%Y-%m}"
        assert sum(data["monthly"]["series"][0]["data"]) == 3  # firms assisted, by the month their case opened
        assert dict(zip(data["industry"]["names"], data["industry"]["series"][0]["data"], strict=True)) == {
            "C 制造业": 3}
        assert {item["value"] for item in data["size"]} == {1, 2}
        assert "vendor/echarts/echarts.min.js" in html and "portal/dashboard.js" in html
        # In Shijiazhuang every county has a firms-assisted target: its chart replaces the plain one.
        (chart,) = chart_json(client_for(bob).get(page_url(hebei)))["regions"]["charts"]
        actual, target = (series["data"] for series in chart["series"])
        assert actual[:2] == [1, 1] and set(actual[2:]) == {0} and set(target) == {1.0}
        # No inline script besides the data block.
        assert len(re.findall(r"<script(?![^>]*\bsrc=)", html)) == 1

    def test_the_page_has_a_print_button_and_export_links(self, client_for, diana, hebei):
        html = client_for(diana).get(page_url(hebei, "130100")).content.decode()
        assert 'data-action="print"' in html
        assert f'href="{export_url(hebei, "xlsx", "130100")}"' in html
        assert f'href="{export_url(hebei, "csv", "130100")}"' in html

    @pytest.mark.parametrize("size", ["few", "many"])
    def test_the_page_costs_the_same_queries_with_one_region_and_month_or_many(
        self, client_for, diana, bob, charlie, admin_user, django_assert_num_queries, size
    ):
        campaign = CampaignFactory(starts_on=days_ago(400))
        counties = ["130102"] if size == "few" else [
            r.code for r in Region.objects.filter(level="county", code__startswith="13")[:40]]
        months = 1 if size == "few" else 12
        firm = EnterpriseFactory(region=region("130102"), industry_id="13")
        for n, code in enumerate(counties):
            training_services.training_record(user=admin_user, campaign=campaign, region=region(code), topic=f"培训{n}",
                                     held_on=days_ago(31 * (n % months)), organiser="省局",
                                     attendances=[(firm, 3, "")])
        kpis.compute_campaign(campaign.pk)
        rows = KpiSnapshot.objects.filter(campaign=campaign, region_id="130000").exclude(period="").count()
        assert rows == months
        client = client_for(diana)
        # session, user, the supervisor's region (jurisdiction), the campaign (with its region),
        # the trail of regions, every snapshot shown (the region's and its children's totals),
        # the industry sections and the service areas (chart labels), when the campaign was last
        # recounted and the changes still waiting to be counted.
        with django_assert_num_queries(10):
            response = client.get(page_url(campaign))
        assert response.status_code == 200
        assert len(response.context["dashboard"].children) >= 11

    def test_the_index_lists_the_campaigns_the_user_may_read(self, client_for, bob, diana, hebei):
        dongguan = CampaignFactory(region=region("441900"), name="东莞质量强市")
        response = client_for(bob).get(reverse("dashboards:index"))
        html = response.content.decode()
        assert list(response.context["object_list"]) == [hebei]
        assert f'href="{page_url(hebei)}"' in html and dongguan.name not in html
        home = client_for(diana).get(reverse("home")).content.decode()
        assert f'href="{reverse("dashboards:index")}"' in home

    @pytest.mark.parametrize("per_page", [25, 100])
    def test_the_index_costs_the_same_queries_at_any_page_size(
        self, client_for, admin_user, django_assert_num_queries, per_page
    ):
        for _n in range(110):
            CampaignFactory()
        client = client_for(admin_user)
        # session, user, the count, one page of campaigns with their region, its parents and the
        # time of their latest snapshot as a subquery.
        with django_assert_num_queries(4):
            response = client.get(reverse("dashboards:index"), {"per_page": per_page})
        assert len(response.context["object_list"]) == per_page


# --- export ----------------------------------------------------------------------------------


def in_english(client):
    """Export headers are translated: these tests read them in English (the language switcher's cookie)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


class TestExport:
    def test_the_csv_export_holds_every_section_one_after_another(self, client_for, bob, hebei):
        response = in_english(client_for(bob)).get(export_url(hebei, "csv"))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert ".csv" in response["Content-Disposition"]
        rows = csv_rows(response)
        titles = [row[0] for n, row in enumerate(rows) if n == 0 or (rows[n - 1] == [] and row)]
        assert titles == ["Headline figures", "Targets", "Regions", "Monthly", "Industry", "Size class",
                          "Service area", "Certification scheme"]
        assert ["Campaign", hebei.name] in rows
        stamp = timezone.localtime(KpiSnapshot.objects.filter(campaign=hebei).first().computed_at)
        assert ["Firms assisted", "2", f"{stamp:%Y-%m-%d %H:%M}"] in rows
        assert ["Key enterprises assisted", "50.0", "1", "2.0", "no", ""] in rows  # the city's own target, missed
        regions = rows[rows.index(["Regions"]) + 2:]
        assert regions[0][:4] == ["1", "130102", "长安区", "1"] or regions[0][:4] == ["1", "130104", "桥西区", "1"]

    def test_the_xlsx_export_has_one_sheet_per_section(self, client_for, diana, hebei):
        response = in_english(client_for(diana)).get(export_url(hebei, "xlsx", "130100"))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        book = load_workbook(io.BytesIO(response.content))
        assert book.sheetnames == ["Headline figures", "Targets", "Regions", "Monthly", "Industry", "Size class",
                                   "Service area", "Certification scheme"]
        headline = book["Headline figures"]
        assert headline["A1"].value == "Campaign" and headline["B1"].value == hebei.name
        assert headline["B4"].value == "130100"
        assert [cell.value for cell in headline[6]] == ["Figure", "Value", "As of"]
        rows = {row[0]: row[1] for row in headline.iter_rows(min_row=7, values_only=True)}
        assert (rows["Firms assisted"], rows["Person-times trained"], rows["Money saved (yuan)"]) == (2, 7, 450000)
        monthly = list(book["Monthly"].iter_rows(values_only=True))
        assert monthly[0][:4] == ("Month", "Firms assisted", "Visits", "Person-times")
        assert monthly[-1][0] == f"{TODAY:%Y-%m}"
        regions = list(book["Regions"].iter_rows(values_only=True))
        assert {row[1] for row in regions[1:]} >= {"130102", "130104"}
        # Size classes by name in the reader's language, never by their stored codes.
        sizes = list(book["Size class"].iter_rows(values_only=True))
        assert sizes[0][:2] == ("Size class", "Firms assisted")
        names = {row[0] for row in sizes[1:]}
        assert "Small" in names and not names & {"micro", "small", "medium", "large"}

    def test_text_a_spreadsheet_would_evaluate_is_neutralised(self, client_for, diana, bob, charlie, admin_user):
        campaign = build_hebei_campaign(bob, charlie, admin_user, name='=HYPERLINK("http://x","点我")',
                                        organiser="+省局")
        client = in_english(client_for(diana))
        book = load_workbook(io.BytesIO(client.get(export_url(campaign, "xlsx")).content))
        cell = book["Headline figures"]["B1"]
        assert cell.value == "'=HYPERLINK(\"http://x\",\"点我\")" and cell.data_type == "s"
        assert book["Headline figures"]["B2"].value == "'+省局"
        rows = csv_rows(client.get(export_url(campaign, "csv")))
        assert ["Campaign", "'=HYPERLINK(\"http://x\",\"点我\")"] in rows

    def test_an_export_before_the_first_run_says_the_figures_are_not_computed(self, client_for, diana):
        campaign = CampaignFactory()
        rows = csv_rows(in_english(client_for(diana)).get(export_url(campaign, "csv")))
        assert ["Figures as of", "figures not computed yet"] in rows

    def test_an_unknown_format_is_not_found(self, client_for, diana, hebei):
        assert in_english(client_for(diana)).get(export_url(hebei, "pdf")).status_code == 404

    def test_the_export_follows_the_page_region_rules(self, client_for, bob, hebei):
        client = in_english(client_for(bob))
        assert client.get(export_url(hebei, "csv", "130200")).status_code == 404
        rows = csv_rows(client.get(export_url(hebei, "csv")))
        assert ["Region code", "130100"] in rows


class TestFreshness:
    def test_each_set_of_figures_says_when_it_was_counted_and_waiting_changes_are_shown(
        self, client_for, diana, bob, hebei, django_capture_on_commit_callbacks
    ):
        from django.test import override_settings

        from campaigns.cases.models import AssistanceCase
        from portal import outbox
        from portal.models import OutboxEntry

        outbox.drain_all()  # what the fixture's writes noted, as a worker would
        kpis.compute_campaign(hebei.pk)
        page = client_for(diana).get(page_url(hebei))
        dashboard = page.context["dashboard"]
        assert set(dashboard.as_of) == {"totals", "trend", "breakdowns", "regions"}
        assert all(dashboard.as_of.values()) and dashboard.waiting == 0
        assert page.content.decode().count('data-testid="section-as-of"') == 5
        assert b'data-testid="waiting"' not in page.content
        case = AssistanceCase.objects.filter(campaign=hebei, enterprise__region__code__startswith="1301").exclude(
            status="closed").first()
        # A visit noted but not yet counted (no worker has drained the outbox).
        with override_settings(OUTBOX_DRAIN_INLINE=False), django_capture_on_commit_callbacks(execute=False):
            services.visit_log(user=bob, case=case, visited_on=days_ago(0), mode="on_site", hours=1,
                               people_present="王建国")
        assert OutboxEntry.objects.exists()
        page = client_for(diana).get(page_url(hebei))
        assert page.context["dashboard"].waiting >= 1
        assert b'data-testid="waiting"' in page.content
