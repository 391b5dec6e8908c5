"""The training list's filters, shared by the page and the API."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from campaigns.training.models import TrainingAttendance, TrainingSession
from portal.filters import RegionPrefixFilter, id_filter
from portal.models import ServiceArea


class TrainingFilterSet(django_filters.FilterSet):
    """The filters of the training list, shared by the page and /api/training-sessions/."""

    q = django_filters.CharFilter(label=_("Topic, organiser or place"), method="search")
    campaign = id_filter(_("Campaign"), "campaign_id")
    region = RegionPrefixFilter(label=_("Region code"), field_name="region")
    mode = django_filters.MultipleChoiceFilter(label=_("Mode"), choices=TrainingSession.Mode.choices)
    service_area = django_filters.ModelChoiceFilter(label=_("Service area"), queryset=ServiceArea.objects.all())
    held_after = django_filters.DateFilter(label=_("Held on or after"), field_name="held_on", lookup_expr="gte")
    held_before = django_filters.DateFilter(label=_("Held on or before"), field_name="held_on", lookup_expr="lte")
    enterprise = id_filter(_("Attended by enterprise"), "enterprise", method="by_enterprise")

    class Meta:
        model = TrainingSession
        fields = ["q", "campaign", "region", "mode", "service_area", "held_after", "held_before", "enterprise"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(topic__icontains=value) | Q(organiser__icontains=value) | Q(place__icontains=value))

    def by_enterprise(self, queryset, name, value):
        attended = TrainingAttendance.objects.filter(session=OuterRef("pk"), enterprise_id=value)
        return queryset.filter(Exists(attended))
