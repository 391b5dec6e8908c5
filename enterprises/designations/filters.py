"""The key-designation list's filters, shared by the page and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from enterprises.designations.models import KeyDesignation
from portal.filters import RegionPrefixFilter


class KeyDesignationFilterSet(django_filters.FilterSet):
    """The filters of the key parks and products list, shared by the page and /api/key-designations/."""

    q = django_filters.CharFilter(label=_("Name"), field_name="name", lookup_expr="icontains")
    region = RegionPrefixFilter(label=_("Region code"), field_name="region")
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=KeyDesignation.Kind.choices)
    designated_after = django_filters.DateFilter(label=_("Designated on or after"), field_name="designated_on",
                                                 lookup_expr="gte")
    designated_before = django_filters.DateFilter(label=_("Designated on or before"), field_name="designated_on",
                                                  lookup_expr="lte")

    class Meta:
        model = KeyDesignation
        fields = ["q", "region", "kind", "designated_after", "designated_before"]
