"""Who may see which regions: the one answer every page and endpoint starts from."""

from django.db.models import Q, QuerySet

from portal.models import Region, User

EVERYWHERE = ""


def jurisdiction_prefix(user: User) -> str | None:
    """The region-code prefix bounding what `user` sees across the portal.

    "" (EVERYWHERE) for administrators, the jurisdiction's prefix for regulators and supervisors,
    None for everyone else: SME users and experts see their own records, not regions.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    if user.is_administrator:
        return EVERYWHERE
    if user.role in User.JURISDICTION_ROLES and user.region_id:
        return user.region.prefix
    return None


def region_code_q(user: User, field: str = "region") -> Q:
    """A Q keeping rows whose `field` region lies inside the user's jurisdiction.

    Matches on the foreign-key column itself (`region_id LIKE '1301%'`), so no join is needed.
    """
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return Q(pk__in=[])
    if prefix == EVERYWHERE:
        return Q()
    return Q(**{f"{field}__code__startswith": prefix})


def regions_visible_to(user: User) -> QuerySet[Region]:
    """The regions `user` may open: their jurisdiction and everything inside it."""
    prefix = jurisdiction_prefix(user)
    regions = Region.objects.select_related("parent")
    if prefix is None:
        return regions.none()
    if prefix == EVERYWHERE:
        return regions.all()
    return regions.filter(code__startswith=prefix)


def region_is_visible_to(user: User, code: str) -> bool:
    prefix = jurisdiction_prefix(user)
    return prefix is not None and code.startswith(prefix)
