"""Reads of the enterprise registry: what each user may see, and counts by region."""

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Substr

from enterprises.models import Enterprise, EnterpriseClaim, ImportJob, NeedRequest, NeedsSurvey
from portal.access import has_role
from portal.models import Region, User
from portal.selectors import EVERYWHERE, jurisdiction_prefix, region_code_q

IMPORTERS = frozenset({User.Role.REGULATOR, User.Role.ADMINISTRATOR})


def enterprises_in(prefix: str) -> Q:
    """Firms inside the region-code prefix `prefix`, as equalities on the level columns down to its
    level (province_code, city_code, the county's region), so the index of that level sorted by
    the list's order serves a page without reading the rest of the jurisdiction."""
    if not prefix:
        return Q()
    if len(prefix) not in (2, 4, 6):
        return Q(region_id__startswith=prefix)
    # Every level down to this one, so the jurisdiction's own equality (a province's, when a
    # supervisor picks one of its cities) is part of the same index's condition, not a filter.
    columns = {"province_code": prefix[:2], "city_code": prefix[:4], "region_id": prefix}
    return Q(**dict(list(columns.items())[:[2, 4, 6].index(len(prefix)) + 1]))


def enterprises_visible_to(user: User) -> QuerySet[Enterprise]:
    """Regulators and supervisors: their jurisdiction; administrators: all; SME users: their own."""
    enterprises = Enterprise.objects.select_related("region", "industry")
    if not user.is_authenticated:
        return enterprises.none()
    if user.is_sme:
        return enterprises.filter(users=user)
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return enterprises.none()
    return enterprises if prefix == EVERYWHERE else enterprises.filter(enterprises_in(prefix))


def enterprise_contacts(enterprise: Enterprise) -> QuerySet[User]:
    """The active SME accounts acting for a firm: who is told of its needs, claims and cases."""
    return enterprise.users.filter(is_active=True, role=User.Role.SME)


def needs_visible_to(user: User) -> QuerySet[NeedRequest]:
    needs = NeedRequest.objects.select_related("enterprise", "enterprise__region", "service_area")
    if not user.is_authenticated:
        return needs.none()
    if user.is_sme:
        return needs.filter(enterprise__users=user)
    return needs.filter(region_code_q(user, "enterprise__region"))


def claims_visible_to(user: User) -> QuerySet[EnterpriseClaim]:
    claims = EnterpriseClaim.objects.select_related("enterprise", "enterprise__region", "user", "decided_by")
    if not user.is_authenticated:
        return claims.none()
    if user.is_sme:
        return claims.filter(user=user)
    return claims.filter(region_code_q(user, "enterprise__region"))


def surveys_visible_to(user: User) -> QuerySet[NeedsSurvey]:
    surveys = NeedsSurvey.objects.select_related("enterprise").prefetch_related("services_wanted")
    if not user.is_authenticated:
        return surveys.none()
    if user.is_sme:
        return surveys.filter(enterprise__users=user)
    return surveys.filter(region_code_q(user, "enterprise__region"))


def import_jobs_visible_to(user: User) -> QuerySet[ImportJob]:
    """Administrators see every import; a regulator the imports of their own jurisdiction."""
    jobs = ImportJob.objects.select_related("uploaded_by", "region")
    if not has_role(user, IMPORTERS):
        return jobs.none()
    if user.is_administrator:
        return jobs
    return jobs.filter(region_id=user.region_id)


def enterprise_counts_by_child(region: Region, children: QuerySet[Region]) -> list[Region]:
    """`children` with `enterprise_count`: the enterprises anywhere inside each child region.

    One grouped query on the code prefix, so a city's count includes its counties' firms.
    """
    children = list(children)
    if not children:
        return children
    width = len(children[0].prefix)
    counts = dict(
        Enterprise.objects.filter(enterprises_in(region.prefix))
        .annotate(child=Substr("region_id", 1, width))
        .values_list("child")
        .annotate(n=Count("pk"))
        .values_list("child", "n")
    )
    for child in children:
        child.enterprise_count = counts.get(child.prefix, 0)
    return children


def survey_campaigns() -> QuerySet:
    """Every campaign a survey may name: the campaigns app's table, reached through the survey's
    foreign key (the campaigns app builds on this one, so it is not imported here)."""
    return NeedsSurvey._meta.get_field("campaign").related_model.objects.all()


def latest_campaign_of(enterprise: Enterprise) -> int | None:
    """The campaign the firm was last assisted in (its newest case), if any."""
    return (survey_campaigns().filter(cases__enterprise=enterprise)
            .order_by("-cases__opened_at", "-cases__pk").values_list("pk", flat=True).first())
