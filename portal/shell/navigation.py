"""The navigation bar: each role sees the pages it can use, and nothing it cannot."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.models import User

Role = User.Role


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: frozenset[str]
    icon: str = ""


STAFF = frozenset({Role.REGULATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})

ITEMS = [
    NavItem(_("Home"), "home", frozenset(Role.values), "house"),
    NavItem(_("Enterprise registry"), "enterprises:list", STAFF, "buildings"),
    NavItem(_("Quality needs"), "needs:list", STAFF | {Role.SME}, "clipboard-check"),
    NavItem(_("Campaigns"), "campaigns:list", STAFF, "flag"),
    NavItem(_("Dashboards"), "dashboards:index", STAFF, "bar-chart-line"),
    NavItem(_("Assistance cases"), "cases:list", frozenset(Role.values), "briefcase"),
    NavItem(_("Visits"), "visits:list", STAFF | {Role.EXPERT}, "geo-alt"),
    NavItem(_("Training"), "training:list", STAFF, "easel"),
    NavItem(_("Key parks and products"), "designations:list", STAFF, "pin-map"),
    NavItem(_("Expert pool"), "experts:list", STAFF, "people"),
    NavItem(_("Claims"), "enterprises:claims", EDITORS, "person-check"),
    NavItem(_("Register my enterprise"), "enterprises:register", frozenset({Role.SME}), "building-add"),
    NavItem(_("Regions"), "regions:list", STAFF, "map"),
    # Integrations are set up by bureau staff who keep data (regulators) and by the operator;
    # supervisors read and export figures on the dashboards and have no use for the API docs.
    NavItem(_("API"), "api:docs", EDITORS, "braces"),
    NavItem(_("Security events"), "security:events", frozenset({Role.ADMINISTRATOR}), "shield-lock"),
]


def items_for(user: User) -> list[dict]:
    if not user.is_authenticated:
        return []
    role = user.effective_role
    return [
        {"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name, "icon": item.icon}
        for item in ITEMS
        if role in item.roles
    ]


def navigation(request) -> dict:
    """Context processor: the navigation items of the signed-in user."""
    return {"nav_items": items_for(request.user)}
