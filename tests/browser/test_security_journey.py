"""In the browser: an account is locked after wrong passwords, an administrator signs in with a
second factor and lifts the lockout, an idle session ends, and no page (Swagger included) breaks
the Content-Security-Policy."""

import time

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Browser, Page, expect

from portal.security.sessions import LAST_SEEN
from tests.browser.test_role_home_pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def watch_csp(page: Page) -> list[str]:
    """Collects the browser's Content-Security-Policy complaints on this page."""
    violations: list[str] = []
    page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text else None)
    return violations


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_lockout_two_factor_sign_in_of_an_administrator_and_lifting_the_lockout(
    browser: Browser, live_server, settings, bob, admin_user, screenshots
):
    settings.AXES_FAILURE_LIMIT = 3
    settings.TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS = True
    url = live_server.url

    # Three wrong passwords lock bob out: the right one is then refused, with the time to wait.
    regulator = browser.new_context().new_page()
    violations = watch_csp(regulator)
    for _ in range(3):
        sign_in(regulator, url, "bob", "wrong")
        expect(regulator.locator(".alert-danger")).to_be_visible()
    sign_in(regulator, url, "bob", "pw")
    message = regulator.get_by_test_id("lockout-message")
    expect(message).to_contain_text("登录失败次数过多")
    expect(message).to_contain_text("15 分钟后")
    regulator.screenshot(path=screenshots / "security-lockout.png", full_page=True)

    # The administrator signs in with the password, then the code from the authenticator app.
    device = TOTPDevice.objects.create(user=admin_user, name="authenticator", confirmed=True)
    operator = browser.new_context().new_page()
    violations += watch_csp(operator)
    sign_in(operator, url, "admin", "pw")
    expect(operator.get_by_test_id("2fa-verify-form")).to_be_visible()
    expect(operator.locator("h1")).to_have_text("双因素登录")
    operator.goto(url + reverse("security:lockouts"))  # nothing else opens before the code
    expect(operator.get_by_test_id("2fa-verify-form")).to_be_visible()
    operator.locator("#id_code").fill(code_for(device))
    operator.get_by_test_id("2fa-verify-form").locator("button[type=submit]").click()
    expect(operator.locator("h1")).to_have_text("登录锁定")

    # ... and lifts bob's lockout, after which bob signs in.
    row = operator.get_by_test_id("lockout-row").filter(has_text="bob")
    expect(row).to_be_visible()
    operator.screenshot(path=screenshots / "security-lockouts.png", full_page=True)
    row.get_by_test_id("lift-lockout").click()
    expect(operator.locator(".alert-success")).to_contain_text("bob")
    operator.goto(url + reverse("security:events") + "?q=bob")
    expect(operator.get_by_test_id("event-row").first).to_be_visible()
    expect(operator.locator("[data-kind=locked_out]").first).to_be_visible()

    sign_in(regulator, url, "bob", "pw")
    expect(regulator.get_by_test_id("home-title")).to_be_visible()
    assert violations == []


def test_an_idle_session_ends_and_asks_to_sign_in_again(browser: Browser, live_server, bob, screenshots):
    url = live_server.url
    page = browser.new_context().new_page()
    sign_in(page, url, "bob", "pw")
    expect(page.get_by_test_id("home-title")).to_be_visible()
    session_key = next(cookie["value"] for cookie in page.context.cookies()
                       if cookie["name"] == django_settings.SESSION_COOKIE_NAME)
    session = SessionStore(session_key=session_key)
    session[LAST_SEEN] = time.time() - 31 * 60  # as if the regulator had left the desk for 31 minutes
    session.save()
    page.goto(url + reverse("cases:list"))
    expect(page.locator("#id_username")).to_be_visible()
    expect(page.locator(".alert")).to_contain_text("30 分钟无操作")
    page.screenshot(path=screenshots / "security-idle-session.png", full_page=True)
    page.locator("#id_username").fill("bob")
    page.locator("#id_password").fill("pw")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("帮扶")  # back where they were going


def test_an_administrator_enrols_two_factor_in_the_browser(browser: Browser, live_server, settings, admin_user,
                                                          screenshots):
    settings.TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS = True
    page = browser.new_context().new_page()
    violations = watch_csp(page)
    sign_in(page, live_server.url, "admin", "pw")
    expect(page.get_by_test_id("2fa-enrol-form")).to_be_visible()
    expect(page.get_by_test_id("2fa-qr")).to_be_visible()
    assert page.get_by_test_id("2fa-qr").evaluate("img => img.naturalWidth") > 0  # the QR code is drawn
    page.screenshot(path=screenshots / "security-2fa-enrol.png", full_page=True)
    device = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    page.locator("#id_code").fill(code_for(device))
    page.get_by_test_id("2fa-enrol-form").locator("button[type=submit]").click()
    expect(page.get_by_test_id("recovery-codes").locator("li")).to_have_count(10)
    page.get_by_role("link", name="我已妥善保存").click()
    expect(page.get_by_test_id("home-title")).to_be_visible()
    assert violations == []


def test_pages_and_the_swagger_docs_work_under_the_content_security_policy(
    browser: Browser, live_server, bob, screenshots
):
    page = browser.new_context().new_page()
    violations = watch_csp(page)
    sign_in(page, live_server.url, "bob", "pw")
    for name in ("home", "enterprises:list", "cases:list", "experts:list", "dashboards:index", "security:2fa",
                 "security:tokens"):
        page.goto(live_server.url + reverse(name))
        expect(page.locator("h1").first).to_be_visible()
    page.goto(live_server.url + reverse("enterprises:list"))
    page.locator("#per-page").select_option("50")  # submitted by portal.js, no inline handler
    page.wait_for_url("**per_page=50**")
    page.goto(live_server.url + reverse("api:docs"))
    # The schema speaks the reader's language.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("质量帮扶平台接口")
    expect(page.locator(".opblock").first).to_be_visible()
    page.screenshot(path=screenshots / "security-swagger-under-csp.png")
    assert violations == []
