"""An SME registers its firm and asks for help; the city's regulator triages; another city sees nothing."""

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Browser, Page, expect

from enterprises.models import Enterprise, NeedRequest
from enterprises.uscc import generate_uscc
from portal.models import User
from tests.browser.test_role_home_pages import PHONE, sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def label(choice) -> str:
    with translation.override("zh-hans"):
        return str(choice.label)


def new_page(browser: Browser, **options) -> Page:
    return browser.new_context(**options).new_page()


def test_an_sme_registers_asks_for_help_and_the_city_regulator_triages_it(
    browser: Browser, live_server, bob, charlie, screenshots
):
    owner = UserFactory(username="xinrui", full_name="何晓东", role=User.Role.SME)
    code = generate_uscc("130104")

    # The SME, on a phone: register the firm; the credit code suggests the region.
    sme = new_page(browser, viewport=PHONE)
    sign_in(sme, live_server.url, owner.username, "pw")
    sme.goto(live_server.url + reverse("enterprises:register"))
    sme.locator("#id_uscc").fill(code.lower())
    expect(sme.locator("#uscc-check")).to_contain_text("130104")
    sme.locator("#id_name").fill("石家庄新锐电子有限公司")
    sme.locator("#id_industry").select_option("39")
    sme.locator("#id_size").select_option("small")
    sme.locator("#id_contact_phone").fill("13900000000")
    sme.locator("main form button[type=submit]").click()
    expect(sme.locator("h1")).to_contain_text("石家庄新锐电子有限公司")
    firm = Enterprise.objects.get(uscc=code)
    assert firm.region_id == "130104"

    # ... and ask for help.
    sme.goto(live_server.url + reverse("needs:new"))
    sme.locator("#id_service_area").select_option("2")
    sme.locator("#id_title").fill("压力表校准")
    sme.locator("#id_description").fill("生产线上十台压力表需要校准。")
    sme.locator("#id_urgency").select_option("high")
    sme.locator("main form button[type=submit]").click()
    expect(sme.get_by_test_id("need-status").first).to_have_text(label(NeedRequest.Status.SUBMITTED))
    sme.screenshot(path=screenshots / "need-submitted-390x844.png", full_page=True)
    need = NeedRequest.objects.get(enterprise=firm)

    # The Shijiazhuang regulator finds it in the needs list and accepts it.
    regulator = new_page(browser)
    sign_in(regulator, live_server.url, bob.username, "pw")
    regulator.goto(live_server.url + reverse("needs:list"))
    regulator.get_by_role("link", name="压力表校准").click()
    regulator.locator("input[name=action][value=accept]").check()
    regulator.locator("#id_reason").fill("安排计量专家上门")
    regulator.locator(f"form[action='{reverse('needs:triage', args=[need.pk])}'] button[type=submit]").click()
    expect(regulator.get_by_test_id("need-status").first).to_have_text(label(NeedRequest.Status.TRIAGED))
    regulator.screenshot(path=screenshots / "need-triaged.png", full_page=True)

    # The SME sees the new status.
    sme.goto(live_server.url + reverse("needs:detail", args=[need.pk]))
    expect(sme.get_by_test_id("need-status").first).to_have_text(label(NeedRequest.Status.TRIAGED))

    # A Tangshan regulator neither lists it nor opens it.
    outsider = new_page(browser)
    sign_in(outsider, live_server.url, charlie.username, "pw")
    outsider.goto(live_server.url + reverse("needs:list"))
    expect(outsider.get_by_role("link", name="压力表校准")).to_have_count(0)
    response = outsider.goto(live_server.url + reverse("needs:detail", args=[need.pk]))
    assert response.status == 404
