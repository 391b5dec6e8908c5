"""An SME sees the bell's count rise when the city's regulator declines its need, opens the
notification, reads the reason on the need's page, and the count goes back down."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from enterprises.services import need_submit
from portal.models import ServiceArea
from tests.browser.test_role_home_pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_sme_sees_the_bell_rise_after_a_decline_and_opens_the_notification(browser: Browser, live_server, alice,
                                                                               bob, charlie, screenshots):
    need = need_submit(user=alice, enterprise=alice.enterprises.get(), service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="十台压力表需要校准。")

    sme = browser.new_context().new_page()
    sign_in(sme, live_server.url, alice.username, "pw")
    sme.goto(live_server.url + reverse("home"))
    bell = sme.get_by_test_id("notification-bell")
    expect(bell).to_be_visible()
    expect(bell.get_by_test_id("unread-count")).to_have_count(0)

    # The Shijiazhuang regulator declines it with a reason.
    regulator = browser.new_context().new_page()
    sign_in(regulator, live_server.url, bob.username, "pw")
    regulator.goto(live_server.url + reverse("needs:detail", args=[need.pk]))
    regulator.locator("input[name=action][value=decline]").check()
    regulator.locator("#id_reason").fill("不属于本次活动的服务范围")
    regulator.locator(f"form[action='{reverse('needs:triage', args=[need.pk])}'] button[type=submit]").click()
    expect(regulator.get_by_test_id("need-status").first).to_have_text("未受理")

    # The SME's bell rises without a reload (it asks every 30 seconds) or at the next page.
    sme.reload()
    expect(bell.get_by_test_id("unread-count")).to_have_text("1")
    sme.screenshot(path=screenshots / "notification-bell.png")
    bell.click()
    item = sme.get_by_test_id("notification").first
    expect(item).to_contain_text("您的需求未被受理：压力表校准")
    expect(item).to_contain_text("不属于本次活动的服务范围")
    sme.screenshot(path=screenshots / "notification-inbox.png", full_page=True)
    item.click()
    expect(sme).to_have_url(live_server.url + reverse("needs:detail", args=[need.pk]))
    expect(sme.locator("main")).to_contain_text("不属于本次活动的服务范围")
    expect(sme.get_by_test_id("notification-bell").get_by_test_id("unread-count")).to_have_count(0)

    # The regulators, who declined it and who are of another city, were told nothing.
    outsider = browser.new_context().new_page()
    sign_in(outsider, live_server.url, charlie.username, "pw")
    outsider.goto(live_server.url + reverse("notifications:inbox"))
    expect(outsider.get_by_test_id("notification")).to_have_count(0)
