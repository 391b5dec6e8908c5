"""A regulator runs a one-to-one case on a phone, from the firm's need to its close; the firm rates it."""

import datetime
import struct
import zlib

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from enterprises.models import NeedRequest
from enterprises.services import need_submit
from portal.models import ServiceArea
from tests.browser.test_role_home_pages import PHONE, sign_in
from tests.factories import CampaignFactory, ExpertFactory

pytestmark = pytest.mark.django_db(transaction=True)

def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain-coloured PNG, big enough to see as a thumbnail in the screenshots."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = png(160, 120, (70, 130, 180))


def new_page(browser: Browser, **options) -> Page:
    return browser.new_context(**options).new_page()


def assert_fits_the_phone(page: Page) -> None:
    """Nothing to scroll sideways on a 390-pixel screen."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone"


def next_step(page: Page, status: str) -> None:
    page.get_by_test_id("next-step").click()
    expect(page.locator("h1").get_by_test_id("case-status")).to_have_attribute("data-status", status)
    assert AssistanceCase.objects.get().status == status


def test_a_regulator_runs_a_case_on_a_phone_and_the_firm_rates_it(
    browser: Browser, live_server, alice, bob, screenshots
):
    firm = alice.enterprises.get()
    need = need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="生产线上十台压力表需要校准。")
    CampaignFactory(name="2026年石家庄市中小企业一对一质量帮扶", organiser="石家庄市市场监督管理局")
    expert = ExpertFactory(name="刘建华", title="高级工程师", capacity=3)
    ExpertFactory(name="孙丽", title="工程师", employer="河北省产品质量监督检验研究院", employer_kind="test_lab")
    url = live_server.url

    # The regulator, on site with a phone: open a case from the need.
    regulator = new_page(browser, viewport=PHONE)
    sign_in(regulator, url, bob.username, "pw")
    regulator.goto(url + reverse("needs:detail", args=[need.pk]))
    regulator.get_by_test_id("open-case").click()
    expect(regulator.locator("#id_title")).to_have_value("压力表校准")
    expect(regulator.locator(f"input[name=needs][value='{need.pk}']")).to_be_checked()
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "case-open-390x844.png", full_page=True)
    regulator.locator("#id_title").fill("压力表计量帮扶")
    regulator.get_by_test_id("case-open-form").locator("button[type=submit]").click()
    expect(regulator.locator("h1")).to_contain_text("压力表计量帮扶")
    case = AssistanceCase.objects.get()

    # Assign the best-ranked expert.
    regulator.get_by_test_id("assign-experts").click()
    best = regulator.get_by_test_id("suggestion").first
    expect(best).to_contain_text("刘建华")
    expect(best.get_by_test_id("score")).to_be_visible()
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "case-experts-390x844.png", full_page=True)
    best.get_by_test_id("assign").click()
    expect(regulator.get_by_test_id("assigned-experts")).to_contain_text("刘建华")
    assert case.assignments.get(active=True).expert == expert

    # Log the visit, with a photo of the gauges.
    regulator.goto(url + reverse("cases:detail", args=[case.pk]))
    regulator.get_by_test_id("log-visit").first.click()
    expect(regulator.locator("#id_visited_on")).to_have_value(timezone.localdate().isoformat())
    regulator.locator("#id_hours").fill("2.5")
    regulator.locator("label[for=id_mode_0]").click()
    regulator.locator("#id_people_present").fill("王建国、刘建华；企业质量主管杨春华")
    regulator.locator("#id_problems_found").fill("十台压力表中三台超期未检定，无计量台账。")
    regulator.locator("#id_actions_recommended").fill("本周内送检三台压力表，建立计量器具台账。")
    follow_up = timezone.localdate() + datetime.timedelta(days=14)
    regulator.locator("#id_next_follow_up_on").fill(follow_up.isoformat())
    regulator.locator("#id_internal_remark").fill("企业负责人配合度一般，需再次督促。")
    regulator.locator("#id_attachments").set_input_files(
        files=[{"name": "压力表.png", "mimeType": "image/png", "buffer": PNG}])
    expect(regulator.locator("#chosen-files")).to_contain_text("压力表.png")
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "case-visit-form-390x844.png", full_page=True)
    regulator.get_by_test_id("save-visit").click()
    expect(regulator.get_by_test_id("visit")).to_have_count(1)
    expect(regulator.get_by_test_id("visit")).to_contain_text("三台超期未检定")
    expect(regulator.get_by_test_id("visit").locator(".visit-photos img")).to_have_count(1)
    visit = Visit.objects.get()
    assert visit.attachments.get().is_photo and visit.next_follow_up_on == follow_up
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "case-after-visit-390x844.png", full_page=True)

    # Diagnosing, the diagnosis and plan written, plan agreed, in progress.
    next_step(regulator, AssistanceCase.Status.DIAGNOSING)
    regulator.get_by_test_id("edit-case").click()
    regulator.locator("#id_diagnosis").fill("计量器具管理缺失：无台账、无周期检定计划。")
    regulator.locator("#id_plan").fill("一、送检超期压力表；二、建立计量台账；三、制定年度检定计划。")
    regulator.get_by_test_id("case-edit-form").locator("button[type=submit]").click()
    expect(regulator.get_by_test_id("case-plan")).to_contain_text("建立计量台账")
    next_step(regulator, AssistanceCase.Status.PLAN_AGREED)
    next_step(regulator, AssistanceCase.Status.IN_PROGRESS)

    # Close it resolved: the need was met and a measurement lab set up.
    regulator.get_by_test_id("close-case").click()
    regulator.locator("label[for=id_resolution_0]").click()
    regulator.locator(f"input[name=fulfilled_needs][value='{need.pk}']").check()
    regulator.locator("#id_lab_set_up").check()
    regulator.locator("#id_money_saved").fill("450000")
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "case-close-390x844.png", full_page=True)
    regulator.get_by_test_id("case-close-form").locator("button[type=submit]").click()
    expect(regulator.get_by_test_id("case-outcomes")).to_be_visible()
    case.refresh_from_db()
    need.refresh_from_db()
    assert case.status == AssistanceCase.Status.CLOSED and case.resolution == "resolved" and case.lab_set_up
    assert need.status == NeedRequest.Status.FULFILLED

    # The firm's contact rates the case, on her phone too, and reads no internal remark.
    sme = new_page(browser, viewport=PHONE)
    sign_in(sme, url, alice.username, "pw")
    sme.goto(url + reverse("cases:detail", args=[case.pk]))
    expect(sme.get_by_test_id("visit")).to_contain_text("三台超期未检定")
    expect(sme.locator("body")).not_to_contain_text("配合度一般")
    sme.locator("label[for=rating-5]").click()
    sme.locator("#id_comment").fill("专家很专业，帮我们建起了计量室。")
    assert_fits_the_phone(sme)
    sme.get_by_test_id("rating-form").locator("button[type=submit]").click()
    expect(sme.get_by_test_id("case-rating")).to_contain_text("专家很专业")
    assert CaseRating.objects.get(case=case).score == 5
    sme.screenshot(path=screenshots / "case-rated-sme-390x844.png", full_page=True)

    # The regulator sees the rating on the case page, at a desk as well.
    regulator.set_viewport_size({"width": 1280, "height": 900})
    regulator.goto(url + reverse("cases:detail", args=[case.pk]))
    expect(regulator.get_by_test_id("case-rating")).to_contain_text("专家很专业")
    expect(regulator.get_by_test_id("audit-trail")).to_be_visible()
    regulator.screenshot(path=screenshots / "case-detail-desktop.png", full_page=True)
    regulator.goto(url + reverse("cases:list"))
    regulator.screenshot(path=screenshots / "case-list-desktop.png", full_page=True)
    regulator.set_viewport_size(PHONE)
    regulator.goto(url + reverse("cases:list"))
    expect(regulator.get_by_test_id("case-cards")).to_contain_text("压力表计量帮扶")
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "case-list-390x844.png", full_page=True)
    regulator.goto(url + reverse("visits:list"))
    assert_fits_the_phone(regulator)
    regulator.screenshot(path=screenshots / "visit-list-390x844.png", full_page=True)
