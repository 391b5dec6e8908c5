"""Accessibility (GB/T 37668-2019, aligned with WCAG 2.1 AA): axe-core over every page of every
role's navigation and the forms they fill, at 1280x900 and on a 390x844 phone, with no serious or
critical violation; tap targets of at least 44x44 px on the phone; the case and visit forms used
with the keyboard alone. Screenshots of each page go to test-artifacts/screenshots/a11y/."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from campaigns.cases import services
from campaigns.cases.models import Visit
from enterprises.services import need_submit
from portal.models import ServiceArea
from tests.browser.test_role_home_pages import PHONE, sign_in
from tests.factories import CampaignFactory, ExpertFactory

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
DESK = {"width": 1280, "height": 900}
SIZES = {"desk": DESK, "phone": PHONE}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# The API docs are Swagger UI's own markup (nested controls in its operation headers), not the
# portal's: they are opened and must load, but axe is not run over them.
NOT_AXED = {"/api/docs/"}
# What a phone user taps: links in tables and lists, toggles, buttons, pagination (inline links in
# running text are exempt under WCAG 2.5.5).
TAP_TARGETS = ("main td a, main .list-group-item a, main details > summary, main .btn, main .page-link, "
               "#main-nav .nav-link, .navbar-toggler")


@pytest.fixture
def world(alice, bob, diana, erin, admin_user):
    """A case with an expert and a visit, so every list and page has something on it."""
    firm = alice.enterprises.get()
    need = need_submit(user=alice, enterprise=firm, service_area=ServiceArea.objects.get(code=2),
                       title="压力表校准", description="生产线上十台压力表需要校准。")
    campaign = CampaignFactory(name="2026年石家庄市中小企业一对一质量帮扶")
    expert = ExpertFactory(name="王海燕", user=erin)
    case = services.case_open(user=bob, campaign=campaign, needs=[need], title="计量帮扶")
    services.case_assign_expert(user=bob, case=case, expert=expert)
    services.visit_log(user=bob, case=case, visited_on=timezone.localdate(), mode="on_site", hours=2,
                       people_present="王建国", problems_found="压力表超期未检", actions_recommended="送检")
    return {"case": case, "need": need, "firm": firm, "expert": expert}


def forms_of(role: str, world) -> list[str]:
    case, firm = world["case"], world["firm"]
    return {
        "sme": [reverse("needs:new"), reverse("cases:detail", args=[case.pk])],
        "regulator": [reverse("cases:new") + f"?enterprise={firm.pk}", reverse("cases:visit-new", args=[case.pk]),
                      reverse("cases:edit", args=[case.pk]), reverse("enterprises:register"),
                      reverse("cases:detail", args=[case.pk])],
        "expert": [reverse("cases:visit-new", args=[case.pk]), reverse("cases:detail", args=[case.pk])],
        "supervisor": [reverse("cases:detail", args=[case.pk]), reverse("enterprises:detail", args=[firm.pk])],
        "administrator": [reverse("cases:detail", args=[case.pk])],
    }[role]


ROLES = [("sme", "alice"), ("regulator", "bob"), ("expert", "erin"), ("supervisor", "diana"),
         ("administrator", "admin_user")]


def axe_violations(page: Page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                       resultTypes: ['violations']})""", TAGS)
    return [f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] if isinstance(n["target"][0], str)
            else json.dumps(n["target"]) for n in v["nodes"][:3])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def small_targets(page: Page) -> list[str]:
    return page.evaluate("""selector => Array.from(document.querySelectorAll(selector))
        .filter(el => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden')
        .map(el => [el, el.getBoundingClientRect()])
        .filter(([el, box]) => box.width > 0 && (box.width < 43.5 || box.height < 43.5))
        .map(([el, box]) => `${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 20)}" `
                            + `${Math.round(box.width)}x${Math.round(box.height)}`)""", TAP_TARGETS)


@pytest.mark.parametrize(("role", "persona"), ROLES, ids=[role for role, _ in ROLES])
def test_every_page_of_the_role_passes_axe_at_both_sizes(request, browser: Browser, live_server, world, screenshots,
                                                         role, persona):
    user = request.getfixturevalue(persona)
    context = browser.new_context(viewport=DESK, bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    sign_in(page, live_server.url, user.username, "pw")
    expect(page.get_by_test_id("home-title")).to_be_visible()
    nav = page.locator("#main-nav a.nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    urls = list(dict.fromkeys([*nav, *forms_of(role, world)]))
    folder = screenshots / "a11y"
    folder.mkdir(exist_ok=True)
    problems = []
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for url in urls:
            response = page.goto(live_server.url + url)
            assert response is not None and response.status < 400, f"{url}: {response and response.status}"
            page.wait_for_load_state("networkidle")
            name = url.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") or "home"
            page.screenshot(path=folder / f"{role}-{size}-zh-{name}.png", full_page=True)
            if url in NOT_AXED:
                continue
            problems += [f"{size} {url}: {v}" for v in axe_violations(page)]
            if size == "phone":
                problems += [f"phone {url}: tap target {t}" for t in small_targets(page)]
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("role", "persona"), ROLES, ids=[role for role, _ in ROLES])
def test_screenshots_of_home_list_and_form_pages_in_english(request, browser: Browser, live_server, world,
                                                            screenshots, role, persona):
    user = request.getfixturevalue(persona)
    context = browser.new_context(viewport=DESK)
    page = context.new_page()
    sign_in(page, live_server.url, user.username, "pw")
    page.locator("#language-select").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    nav = page.locator("#main-nav a.nav-link").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    urls = [reverse("home"), *nav[1:2], *forms_of(role, world)[:1]]
    folder = screenshots / "a11y"
    folder.mkdir(exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        for url in urls:
            page.goto(live_server.url + url)
            expect(page.locator("html")).to_have_attribute("lang", "en")
            name = url.strip("/").replace("/", "_").replace("?", "_").replace("=", "-") or "home"
            page.screenshot(path=folder / f"{role}-{size}-en-{name}.png", full_page=True)
    context.close()


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element has the focus, as a keyboard user moves through the form."""
    target = page.locator(selector).first
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    expect(target).to_be_focused()


def test_the_visit_form_is_used_with_the_keyboard_alone(page: Page, live_server, bob, world):
    page.set_viewport_size(PHONE)
    sign_in(page, live_server.url, "bob", "pw")
    page.goto(live_server.url + reverse("cases:visit-new", args=[world["case"].pk]))
    # Tab from the top: the skip link comes first and leads to the content.
    page.keyboard.press("Tab")
    expect(page.locator("a.visually-hidden-focusable")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "input[name=mode]")
    page.keyboard.press("Space")  # the first mode, on site
    tab_to(page, "#id_hours")
    page.keyboard.type("2")
    tab_to(page, "#id_people_present")
    page.keyboard.type("王建国、企业质量主管")
    tab_to(page, "#id_problems_found")
    page.keyboard.type("安全阀未校验")
    tab_to(page, "#id_actions_recommended")
    page.keyboard.type("送检安全阀")
    tab_to(page, "main form button[type=submit] >> nth=-1")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/visits/new/" not in url)
    assert Visit.objects.filter(problems_found="安全阀未校验", actions_recommended="送检安全阀").exists()


def test_the_case_form_is_used_with_the_keyboard_alone(page: Page, live_server, bob, world):
    sign_in(page, live_server.url, "bob", "pw")
    case = world["case"]
    page.goto(live_server.url + reverse("cases:edit", args=[case.pk]))
    tab_to(page, "#id_diagnosis")
    page.keyboard.type("计量器具台账缺失")
    tab_to(page, "main form button[type=submit] >> nth=-1")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/edit/" not in url)
    case.refresh_from_db()
    assert "计量器具台账缺失" in case.diagnosis
