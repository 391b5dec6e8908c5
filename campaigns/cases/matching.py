"""Matching experts to a need or a case: the active experts who serve the firm's region (or a
region above it), scored in the database with the reasons a regulator is shown."""

from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils.translation import gettext as _

from campaigns.cases.models import AssistanceCase, CaseAssignment
from enterprises.models import Enterprise
from experts.models import Expert
from experts.selectors import experts_visible_to, open_load, rating_mean
from portal.models import Region, User, code_prefix, enclosing_codes

# The weights of a suggestion's score (0-100): what the regulator is told, in this order.
SPECIALTY_POINTS = 40
REGION_POINTS = {6: 20, 4: 15, 2: 10, 0: 5}  # serving the county itself, its city, its province, the country
LOAD_POINTS = 25
SATISFACTION_POINTS = 15


@dataclass
class Suggestion:
    """One ranked expert for a need or case, with the reasons behind its score."""

    expert: Expert
    score: int
    specialty_fits: bool
    served_region: Region | None
    load: int
    capacity: int
    rating_mean: float | None
    rating_count: int
    reasons: list[str] = field(default_factory=list)

    @property
    def at_capacity(self) -> bool:
        return self.load >= self.capacity


def suggest_experts(
    *, user: User, enterprise: Enterprise, service_area_ids: list[int], exclude_case: AssistanceCase | None = None,
    limit: int = 20,
) -> list[Suggestion]:
    """Rank the active experts who serve the firm's region (or a region above it).

    Scored in the database and cut to `limit`, so matching over a pool of thousands reads only
    the experts shown: specialty fitting one of the service areas, the closest region served,
    free capacity, and the mean rating on past cases (an unrated expert counts as average).
    """
    codes = enclosing_codes(enterprise.region_id)
    served_through = Expert.regions_served.through.objects.filter(expert=OuterRef("pk"))
    specialty_fit = Expert.specialties.through.objects.filter(
        expert=OuterRef("pk"), specialty__service_areas__code__in=service_area_ids
    )
    # The closest region served, as points: a county's own code scores most. One subquery per
    # expert (a CASE over the closest code's subquery would run it once for every WHEN).
    points = Case(*[When(region_id=code, then=Value(REGION_POINTS[len(code_prefix(code))])) for code in codes],
                  default=Value(0), output_field=IntegerField())
    closest_points = Subquery(served_through.filter(region_id__in=codes).annotate(points=points)
                              .order_by("-points").values("points")[:1], output_field=IntegerField())
    code_by_points = {REGION_POINTS[len(code_prefix(code))]: code for code in codes}
    experts = (
        experts_visible_to(user)
        .filter(is_active=True)
        .filter(Exists(served_through.filter(region_id__in=codes)))
        .annotate(
            region_points=closest_points,
            fits=Exists(specialty_fit) if service_area_ids else Value(False),
            load=open_load(),
            rating_mean=rating_mean(),
        )
    )
    if exclude_case is not None:
        experts = experts.exclude(
            Exists(CaseAssignment.objects.filter(expert=OuterRef("pk"), case=exclude_case, active=True))
        )
    free_share = Cast(Greatest(F("capacity") - F("load"), 0), FloatField()) / Cast(F("capacity"), FloatField())
    satisfaction = Coalesce((F("rating_mean") - 1.0) / 4.0, Value(0.5), output_field=FloatField())
    score = (
        Case(When(fits=True, then=Value(SPECIALTY_POINTS)), default=Value(0), output_field=IntegerField())
        + F("region_points")
        + free_share * LOAD_POINTS
        + satisfaction * SATISFACTION_POINTS
    )
    experts = experts.annotate(score=score).order_by("-score", "load", "name", "pk")[:limit]
    regions = {region.code: region for region in Region.objects.filter(code__in=codes)}
    suggestions = []
    for expert in experts:
        suggestion = Suggestion(
            expert=expert, score=round(expert.score), specialty_fits=bool(expert.fits),
            served_region=regions.get(code_by_points.get(expert.region_points)), load=expert.load,
            capacity=expert.capacity,
            rating_mean=expert.rating_mean, rating_count=expert.rating_count,
        )
        suggestion.reasons = reasons_for(suggestion)
        suggestions.append(suggestion)
    return suggestions


def reasons_for(suggestion: Suggestion) -> list[str]:
    reasons = []
    if suggestion.specialty_fits:
        reasons.append(_("Specialty fits the service area"))
    else:
        reasons.append(_("No specialty in this service area"))
    if suggestion.served_region is not None:
        reasons.append(_("Serves %(region)s") % {"region": suggestion.served_region.name})
    if suggestion.at_capacity:
        reasons.append(_("At capacity: %(load)d of %(capacity)d open cases") % {
            "load": suggestion.load, "capacity": suggestion.capacity})
    else:
        reasons.append(_("Has room: %(load)d of %(capacity)d open cases") % {
            "load": suggestion.load, "capacity": suggestion.capacity})
    if suggestion.rating_count:
        reasons.append(_("Satisfaction %(mean).1f of 5 on %(count)d cases") % {
            "mean": suggestion.rating_mean, "count": suggestion.rating_count})
    else:
        reasons.append(_("No ratings yet"))
    return reasons
