"""Filters shared by every app's lists, and the region browser's FilterSet."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.models import Region, code_prefix


class RegionPrefixFilter(django_filters.CharFilter):
    """A region at any level: a province, city or county code keeps every row inside it."""

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        if not value.isdigit() or len(value) != 6:
            return qs.none()
        return qs.filter(**{f"{self.field_name}__code__startswith": code_prefix(value)})


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


MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A row id: whole and in range, or a form error (400 in the API), never a crash in the database."""

    field_class = forms.IntegerField


def id_filter(label, field_name: str, **kwargs) -> IdFilter:
    return IdFilter(label=label, field_name=field_name, min_value=1, max_value=MAX_ID, **kwargs)
