"""Reads of the enterprise registry."""

from django.db.models import Count, QuerySet
from django.db.models.functions import Substr

from enterprises.models import Enterprise
from portal.models import Region


def enterprise_counts_by_child(region: Region, children: QuerySet[Region]) -> list[Region]:
    """`children` with `enterprise_count`: the enterprises anywhere inside each child region.

    One grouped query on the code prefix, so a city's count includes its counties' firms.
    """
    children = list(children)
    if not children:
        return children
    width = len(children[0].prefix)
    counts = dict(
        Enterprise.objects.filter(region__code__startswith=region.prefix)
        .annotate(child=Substr("region_id", 1, width))
        .values_list("child")
        .annotate(n=Count("pk"))
        .values_list("child", "n")
    )
    for child in children:
        child.enterprise_count = counts.get(child.prefix, 0)
    return children
