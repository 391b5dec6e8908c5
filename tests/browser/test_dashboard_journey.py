"""A province supervisor reads a campaign's dashboard and drills into a city; a city regulator
records a training session and, once the KPI task has run, the city's person-times have gone up."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, expect

from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot
from campaigns.training import services
from portal.models import Region
from tests.browser.test_role_home_pages import PHONE, sign_in
from tests.factories import CampaignFactory, EnterpriseFactory

pytestmark = pytest.mark.django_db(transaction=True)


def person_times(campaign, code: str) -> int:
    return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period="", breakdown="").figures["person_times"]


def test_a_supervisor_drills_into_a_city_and_a_regulators_session_shows_up(
    browser: Browser, live_server, bob, diana, screenshots
):
    campaign = CampaignFactory(name="河北省质量提升行动年")
    firms = [EnterpriseFactory(region=Region.objects.get(code="130102")) for _ in range(2)]
    services.training_record(user=bob, campaign=campaign, region=Region.objects.get(code="130102"), topic="计量培训",
                             held_on=timezone.localdate() - datetime.timedelta(days=3), organiser="石家庄市局",
                             attendances=[(firms[0], 2, "")])
    kpis.compute_campaign(campaign.pk)
    assert person_times(campaign, "130100") == 2

    # The supervisor opens the province dashboard and drills into Shijiazhuang.
    supervisor = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True).new_page()
    sign_in(supervisor, live_server.url, diana.username, "pw")
    supervisor.goto(live_server.url + reverse("dashboards:campaign", args=[campaign.pk]))
    expect(supervisor.get_by_test_id("dashboard-title")).to_contain_text("河北省质量提升行动年")
    expect(supervisor.get_by_test_id("as-of")).to_be_visible()
    supervisor.get_by_test_id("drill-down").filter(has_text="石家庄市").first.click()
    expect(supervisor).to_have_url(f"{live_server.url}{reverse('dashboards:campaign', args=[campaign.pk])}"
                                   "?region=130100")
    expect(supervisor.get_by_test_id("kpi-person_times").get_by_test_id("kpi-value")).to_have_text("2")
    supervisor.screenshot(path=screenshots / "dashboard-city-1280.png", full_page=True)
    with supervisor.expect_download() as download:
        supervisor.get_by_test_id("export-xlsx").click()
    workbook = openpyxl.load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    cells = {str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row if cell.value}
    assert "河北省质量提升行动年" in cells and any("长安区" in value for value in cells)

    # The Shijiazhuang regulator records a session on a phone.
    regulator = browser.new_context(viewport=PHONE).new_page()
    sign_in(regulator, live_server.url, bob.username, "pw")
    regulator.goto(live_server.url + reverse("training:new"))
    regulator.locator("#id_campaign").select_option(str(campaign.pk))
    regulator.locator("#id_region").select_option("130102")
    regulator.locator("#id_topic").fill("ISO 9001 内审员培训")
    regulator.locator("#id_organiser").fill("石家庄市市场监督管理局")
    regulator.locator("#id_attendance-0-uscc").fill(firms[1].uscc)
    regulator.locator("#id_attendance-0-persons").fill("5")
    regulator.get_by_test_id("save-training").click()
    expect(regulator.locator("h1")).to_contain_text("ISO 9001 内审员培训")
    regulator.screenshot(path=screenshots / "training-recorded-390x844.png", full_page=True)

    # The KPI task ran once the session was committed (in-process here: no broker in tests).
    assert person_times(campaign, "130100") == 7
    supervisor.reload()
    expect(supervisor.get_by_test_id("kpi-person_times").get_by_test_id("kpi-value")).to_have_text("7")
