"""Every write to the expert pool."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from experts.models import Expert
from portal import audit
from portal.models import Region, Specialty, User
from portal.selectors import region_is_visible_to

AUDITED_FIELDS = (
    "code", "name", "title", "employer", "employer_kind", "phone", "email", "region", "capacity", "is_active",
    "user", "notes", "specialties", "regions_served",
)


def may_keep_pool(user: User, region: Region) -> bool:
    """Regulators keep the pools of their jurisdiction; administrators keep every pool."""
    return user.is_authenticated and (
        user.is_administrator or (user.is_regulator and region_is_visible_to(user, region.code))
    )


def check_login(user: User | None, expert: Expert) -> None:
    if user is None:
        return
    if user.role != User.Role.EXPERT:
        raise ValidationError({"user": _("Only an account with the expert role can be an expert's login.")})
    if Expert.objects.filter(user=user).exclude(pk=expert.pk).exists():
        raise ValidationError({"user": _("This account is already the login of another expert.")})


def check_lists(specialties: list[Specialty], regions_served: list[Region]) -> None:
    errors = {}
    if not specialties:
        errors["specialties"] = _("Choose at least one specialty.")
    if not regions_served:
        errors["regions_served"] = _("Choose at least one region the expert serves.")
    if errors:
        raise ValidationError(errors)


def expert_create(
    *, user: User, specialties: Iterable[Specialty], regions_served: Iterable[Region], **fields,
) -> Expert:
    """Add an expert to a pool the user keeps."""
    region = fields.get("region")
    if region is None:
        raise ValidationError({"region": _("Choose the pool that keeps this expert.")})
    if not may_keep_pool(user, region):
        raise PermissionDenied
    specialties, regions_served = list(specialties), list(regions_served)
    check_lists(specialties, regions_served)
    with transaction.atomic():
        expert = Expert(**fields)
        check_login(expert.user, expert)
        expert.full_clean()
        expert.save()
        expert.specialties.set(specialties)
        expert.regions_served.set(regions_served)
        audit.record_create(actor=user, obj=expert, fields=AUDITED_FIELDS, region_code=expert.region_id)
    return expert


def expert_update(
    *, user: User, expert: Expert, specialties: Iterable[Specialty] | None = None,
    regions_served: Iterable[Region] | None = None, **fields,
) -> Expert:
    """Edit an expert; moving them to another pool needs the right to keep both pools."""
    if not may_keep_pool(user, expert.region):
        raise PermissionDenied
    if "region" in fields and not may_keep_pool(user, fields["region"]):
        raise ValidationError({"region": _("This pool lies outside your jurisdiction.")})
    with transaction.atomic():
        before = audit.snapshot(expert, AUDITED_FIELDS)
        for name, value in fields.items():
            setattr(expert, name, value)
        check_login(expert.user, expert)
        expert.full_clean()
        specialties = list(expert.specialties.all()) if specialties is None else list(specialties)
        regions_served = list(expert.regions_served.all()) if regions_served is None else list(regions_served)
        check_lists(specialties, regions_served)
        expert.save()
        expert.specialties.set(specialties)
        expert.regions_served.set(regions_served)
        audit.record_update(actor=user, obj=expert, before=before, region_code=expert.region_id)
    return expert

