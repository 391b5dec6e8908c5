"""Reads of key designations: the ones a user may see."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from enterprises.designations.models import KeyDesignation
from portal.models import User
from portal.selectors import region_code_q


def key_designations_visible_to(user: User) -> QuerySet[KeyDesignation]:
    """Regulators and supervisors: those in their jurisdiction; administrators: all; others: none
    (the pages and the API refuse them by role first)."""
    return KeyDesignation.objects.select_related("region", "designated_by").filter(region_code_q(user, "region"))


def key_designation_for_change(user: User, pk: int) -> KeyDesignation:
    """The designation if the user may see it (else 404), and PermissionDenied if they may not change it."""
    from django.core.exceptions import PermissionDenied

    from enterprises.designations.services import may_designate

    designation = get_object_or_404(key_designations_visible_to(user), pk=pk)
    if not may_designate(user, designation.region_id):
        raise PermissionDenied
    return designation
