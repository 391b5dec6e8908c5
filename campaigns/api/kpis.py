"""/api/kpi-snapshots/: the campaign figures the KPI engine stored (campaigns/kpis.py), read-only.

Staff only (SME users and experts 403). A caller reads the snapshots of the campaigns it may see
(campaigns.selectors.campaigns_visible_to) and, of those, only the rows of regions inside its own
jurisdiction: a city's regulator never reads another city's rows, nor the province's, even of a
province campaign.
"""

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import mixins, serializers

from campaigns.models import KpiSnapshot
from campaigns.selectors import campaigns_visible_to
from portal.access import STAFF_ROLES
from portal.api.serializers import NamedChoiceField
from portal.api.views import RegistryViewSet
from portal.filters import RegionPrefixFilter
from portal.models import Region
from portal.selectors import region_code_q

Breakdown = KpiSnapshot.Breakdown
TO_DATE = "to_date"
# "" (the totals) cannot be asked for in a query string: the filter names it "total".
BREAKDOWN_CHOICES = [("total", _("Total")), *[(value, label) for value, label in Breakdown.choices if value]]
MAX_ID = 2**63 - 1


class KpiSnapshotFilterSet(django_filters.FilterSet):
    campaign = django_filters.NumberFilter(label=_("Campaign id"), field_name="campaign_id", min_value=1,
                                           max_value=MAX_ID)
    region = django_filters.CharFilter(label=_("Region code (exactly this region)"), field_name="region_id")
    within = RegionPrefixFilter(label=_("Region code (this region and every region inside it)"),
                                field_name="region")
    level = django_filters.ChoiceFilter(label=_("Level"), choices=Region.Level.choices)
    period = django_filters.CharFilter(label=_('Period: "YYYY-MM" for a month, "to_date" for the totals to date'),
                                       method="by_period")
    to_date = django_filters.BooleanFilter(label=_("To date (true) or monthly (false)"), method="by_to_date")
    breakdown = django_filters.ChoiceFilter(label=_("Breakdown"), choices=BREAKDOWN_CHOICES, method="by_breakdown")
    key = django_filters.CharFilter(label=_("Breakdown key (section letter, size class or service-area number)"))

    class Meta:
        model = KpiSnapshot
        fields = ["campaign", "region", "within", "level", "period", "to_date", "breakdown", "key"]

    def by_period(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(period="" if value == TO_DATE else value)

    def by_to_date(self, queryset, name, value):
        return queryset.filter(period="") if value else queryset.exclude(period="")

    def by_breakdown(self, queryset, name, value):
        return queryset.filter(breakdown="" if value == "total" else value)


class KpiSnapshotSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    level = NamedChoiceField(enum_name="KpiSnapshotLevelEnum", choices=Region.Level.choices, read_only=True)
    period = serializers.CharField(read_only=True, help_text=_('"YYYY-MM" for a month, "" for to date.'))
    breakdown = serializers.CharField(
        read_only=True, help_text=_('"" for the totals; industry, size or service_area for a breakdown.'))
    key = serializers.CharField(
        read_only=True, help_text=_("The breakdown's key: a GB/T 4754 section letter, a size class or a "
                                    "service-area number; \"\" for the totals."))
    figures = serializers.DictField(
        read_only=True, help_text=_("The figures by name (campaigns/kpis.py); the to-date totals also carry "
                                    "\"targets\": {figure: target}."))

    class Meta:
        model = KpiSnapshot
        fields = ["id", "campaign", "campaign_name", "region", "region_name", "level", "period", "breakdown", "key",
                  "figures", "computed_at"]
        read_only_fields = fields


class KpiSnapshotViewSet(mixins.ListModelMixin, RegistryViewSet):
    """KPI snapshots of the campaigns the caller may see, in the regions of its jurisdiction. Each
    row is one region's figures for one period (a month, or to date) and one breakdown."""

    serializer_class = KpiSnapshotSerializer
    filterset_class = KpiSnapshotFilterSet
    read_roles = STAFF_ROLES

    def get_queryset(self) -> QuerySet[KpiSnapshot]:
        user = self.request.user
        return (KpiSnapshot.objects.filter(campaign__in=campaigns_visible_to(user).values("pk"))
                .filter(region_code_q(user, "region")).select_related("campaign", "region"))
