"""Role checks shared by pages and the API.

Scoping (which rows) lives in the selectors; this module only answers "may this role use this
page or endpoint at all, and may it write". Outside the role: 403. Outside the jurisdiction: the
selector leaves the row out, so the lookup answers 404.
"""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from portal.models import User

Role = User.Role
STAFF_ROLES = frozenset({Role.REGULATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})
ALL_ROLES = frozenset(Role.values)
# Who writes to the registry, cases and campaigns; supervisors read everything and write nothing.
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})
READERS = frozenset({Role.SME, *STAFF_ROLES})
SME_ONLY = frozenset({Role.SME})


def has_role(user: User, roles) -> bool:
    return user.is_authenticated and user.effective_role in roles


def require_roles(user: User, roles) -> None:
    """For function views: 403 unless the user has one of `roles`."""
    if not has_role(user, roles):
        raise PermissionDenied


# The page sizes every list offers (?per_page=); anything else falls back to the first.
PAGE_SIZES = (25, 50, 100)


def per_page(request) -> int:
    try:
        size = int(request.GET.get("per_page", PAGE_SIZES[0]))
    except ValueError:
        return PAGE_SIZES[0]
    return size if size in PAGE_SIZES else PAGE_SIZES[0]


class RoleRequiredMixin(LoginRequiredMixin):
    """Signed-in users of `read_roles` may GET; only `write_roles` may POST/PUT/PATCH/DELETE."""

    read_roles: frozenset[str] = STAFF_ROLES
    write_roles: frozenset[str] = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        roles = self.read_roles if request.method in SAFE_METHODS else self.write_roles
        if not has_role(request.user, roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class RolePermission(BasePermission):
    """The API twin of RoleRequiredMixin: reads `read_roles` and `write_roles` off the view."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if request.method in SAFE_METHODS:
            return has_role(request.user, getattr(view, "read_roles", STAFF_ROLES))
        return has_role(request.user, getattr(view, "write_roles", frozenset({Role.REGULATOR, Role.ADMINISTRATOR})))
