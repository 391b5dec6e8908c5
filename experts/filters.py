"""The expert pool's FilterSet, shared by the HTML list and the API."""

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from experts.models import Expert
from experts.selectors import open_load
from portal.filters import RegionPrefixFilter
from portal.models import ServiceArea, Specialty, code_prefix, enclosing_codes

SpecialtyLink = Expert.specialties.through
ServedLink = Expert.regions_served.through


def region_code_or_none(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if value.isdigit() and len(value) == 6 else None


class ExpertFilterSet(django_filters.FilterSet):
    """Filters of the pool. Every relation is tested with EXISTS, so no filter duplicates a row
    and the list needs no DISTINCT over its annotated record."""

    q = django_filters.CharFilter(label=_("Name, pool number or employer"), method="search")
    # field_name names the relation for the API schema; the methods test it with EXISTS.
    specialty = django_filters.ModelMultipleChoiceFilter(
        label=_("Specialty"), queryset=Specialty.objects.all(), field_name="specialties", method="by_specialty",
    )
    service_area = django_filters.ModelChoiceFilter(
        label=_("Service area"), queryset=ServiceArea.objects.all(), field_name="specialties__service_areas",
        method="by_service_area",
    )
    region_served = django_filters.CharFilter(label=_("Serves region (code)"), method="by_region_served")
    pool = RegionPrefixFilter(label=_("Pool (region code)"), field_name="region")
    employer_kind = django_filters.MultipleChoiceFilter(label=_("Kind of employer"),
                                                        choices=Expert.EmployerKind.choices)
    is_active = django_filters.BooleanFilter(label=_("Active"))
    has_capacity = django_filters.BooleanFilter(label=_("Has room for another case"), method="by_capacity")

    class Meta:
        model = Expert
        fields = ["q", "specialty", "service_area", "region_served", "pool", "employer_kind", "is_active",
                  "has_capacity"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(code__istartswith=value) | Q(employer__icontains=value)
        )

    def by_specialty(self, queryset, name, value):
        codes = [specialty.pk for specialty in value]  # an empty choice cleans to an empty queryset
        if not codes:
            return queryset
        links = SpecialtyLink.objects.filter(expert=OuterRef("pk"), specialty_id__in=codes)
        return queryset.filter(Exists(links))

    def by_service_area(self, queryset, name, value):
        links = SpecialtyLink.objects.filter(expert=OuterRef("pk"), specialty__service_areas=value)
        return queryset.filter(Exists(links))

    def by_region_served(self, queryset, name, value):
        """Serving a region inside the given one, the region itself, or a region above it:
        an expert serving the province (130000) serves 长安区 (130102)."""
        if not (value or "").strip():
            return queryset
        code = region_code_or_none(value)
        if code is None:
            return queryset.none()
        links = ServedLink.objects.filter(expert=OuterRef("pk")).filter(
            Q(region__code__startswith=code_prefix(code)) | Q(region_id__in=enclosing_codes(code))
        )
        return queryset.filter(Exists(links))

    def by_capacity(self, queryset, name, value):
        # The list annotates `load` (experts.selectors.with_record); elsewhere the same subquery.
        load = F("load") if "load" in queryset.query.annotations else open_load()
        return queryset.filter(capacity__gt=load) if value else queryset.filter(capacity__lte=load)
