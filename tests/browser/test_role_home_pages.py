"""Each role signs in through the real login form and lands on its home page, in Chinese."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

# The live server answers from another thread, so the test's data must be committed: transaction=True.
# The reference data it empties at the end comes back through the `reference_data` fixture.
pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}

ROLES = [
    # role, persona (tests/conftest.py), the Chinese heading of its home page
    ("sme", "alice", "企业服务中心"),
    ("regulator", "bob", "监管工作台"),
    ("expert", "erin", "专家工作台"),
    ("supervisor", "diana", "督导总览"),
    ("administrator", "admin_user", "门户管理"),
]


def sign_in(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + reverse("login"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()


@pytest.mark.parametrize(("role", "persona", "heading"), ROLES, ids=[role for role, _, _ in ROLES])
def test_each_role_signs_in_and_lands_on_its_home_page_in_chinese(
    request, page: Page, live_server, screenshots, role, persona, heading
):
    user = request.getfixturevalue(persona)
    sign_in(page, live_server.url, user.username, "pw")

    title = page.get_by_test_id("home-title")
    expect(title).to_be_visible()
    expect(page).to_have_url(live_server.url + reverse("home"))

    # Taken before the language assertions, so the pictures exist even while those fail.
    page.screenshot(path=screenshots / f"{role}.png", full_page=True)
    page.set_viewport_size(PHONE)
    expect(title).to_be_visible()
    page.screenshot(path=screenshots / f"{role}-{PHONE['width']}x{PHONE['height']}.png", full_page=True)

    # Playwright's Chromium asks for English (Accept-Language: en-US): the portal answers in
    # Chinese all the same until the user picks English in the switcher.
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(title).to_have_text(heading)
    expect(page.locator(f"form[action='{reverse('logout')}'] button")).to_have_text("退出登录")


def test_a_wrong_password_keeps_the_visitor_on_the_login_page(page: Page, live_server, bob):
    sign_in(page, live_server.url, "bob", "not the password")
    expect(page.locator("main .alert-danger")).to_be_visible()
    expect(page.get_by_test_id("home-title")).to_have_count(0)
    expect(page).to_have_url(live_server.url + reverse("login"))


def test_a_signed_in_user_can_switch_the_portal_to_english(page: Page, live_server, bob):
    sign_in(page, live_server.url, "bob", "pw")
    expect(page.get_by_test_id("home-title")).to_be_visible()
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("home-title")).to_have_text("Regulator workbench")
    expect(page.locator(f"form[action='{reverse('logout')}'] button")).to_have_text("Sign out")
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", "en")
