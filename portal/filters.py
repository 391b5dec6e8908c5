import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class RegionFilterSet(django_filters.FilterSet):
    """Filters for the region browser and /api/regions/."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Region.Level.choices)
    parent = django_filters.CharFilter(label=_("Parent region code"), field_name="parent_id")

    class Meta:
        model = Region
        fields = ["q", "level", "parent"]

    def search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(name__contains=value) | Q(code__startswith=value)) if value else queryset
