"""The experts' satisfaction records rebuilt from the ratings of their cases (a repair, or after
data written in bulk); case_rate (campaigns/cases/services.py) keeps them one rating at a time."""

from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from campaigns.cases.models import CaseRating
from experts.models import Expert


def expert_rating_records_rebuild(experts: QuerySet[Expert] | None = None) -> int:
    """Recompute the stored satisfaction record (rating_count, rating_total) from the ratings of
    the cases each expert saw through to the end. case_rate keeps it up to date one rating at a
    time; this is for data written in bulk (benchmarks) or a repair."""
    rated = CaseRating.objects.filter(case__assignments__expert=OuterRef("pk"),
                                      case__assignments__released_at__isnull=True).order_by()
    count = rated.annotate(n=Func(F("score"), function="COUNT")).values("n")[:1]
    total = rated.annotate(t=Func(F("score"), function="SUM")).values("t")[:1]
    experts = Expert.objects.all() if experts is None else experts
    return experts.update(rating_count=Coalesce(Subquery(count, output_field=IntegerField()), 0),
                          rating_total=Coalesce(Subquery(total, output_field=IntegerField()), 0))
