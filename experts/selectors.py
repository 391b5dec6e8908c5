"""Reads of the expert pool: who may see which experts, their load and their record.

Matching experts to a need or case is the cases' (campaigns/cases/matching.py)."""


from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    When,
)
from django.db.models.functions import Cast, Coalesce

from experts.models import Expert
from portal.models import User, enclosing_codes
from portal.selectors import EVERYWHERE, jurisdiction_prefix


def experts_visible_to(user: User) -> QuerySet[Expert]:
    """Who the user may see in the pool.

    Regulators and supervisors: experts kept by a pool inside their jurisdiction or above it,
    and experts serving any region inside it or above it (a province's experts help its
    cities). Administrators: everyone. An expert: their own record. SME users: nobody.
    """
    experts = Expert.objects.select_related("region")
    if not user.is_authenticated:
        return experts.none()
    if user.is_expert:
        return experts.filter(user=user)
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return experts.none()
    if prefix == EVERYWHERE:
        return experts
    above = [code for code in enclosing_codes(user.region_id) if code != user.region_id]
    served = Expert.regions_served.through.objects.filter(expert=OuterRef("pk")).filter(
        Q(region__code__startswith=prefix) | Q(region_id__in=above)
    )
    return experts.filter(Q(region__code__startswith=prefix) | Q(region_id__in=above) | Exists(served))


def assignments() -> QuerySet:
    """Experts' case assignments: a table of the campaigns app, which builds on the pool, reached
    through the relation it declares to Expert rather than imported."""
    return Expert._meta.get_field("assignments").related_model.objects.all()


def open_load() -> Subquery:
    """The number of open cases an expert currently carries."""
    return Coalesce(
        Subquery(
            assignments().filter(expert=OuterRef("pk"), active=True)
            .values("expert").annotate(n=Count("pk")).values("n"),
            output_field=IntegerField(),
        ),
        0,
    )


def rating_mean() -> Case:
    """Mean satisfaction over the cases the expert saw through to the end, from the stored record
    (`rating_total` / `rating_count`, kept by campaigns.cases.services.case_rate); NULL when unrated."""
    return Case(
        When(rating_count__gt=0, then=Cast(F("rating_total"), FloatField()) / Cast(F("rating_count"), FloatField())),
        default=None, output_field=FloatField(),
    )


def with_record(experts: QuerySet[Expert]) -> QuerySet[Expert]:
    """`experts` with `load` (one subquery, no N+1) and `rating_mean`; `rating_count` is a column."""
    return experts.annotate(load=open_load(), rating_mean=rating_mean())


