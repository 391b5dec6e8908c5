"""The KPI snapshot API's filters."""

import django_filters
from django.db.models import FloatField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from campaigns.kpis.dashboards import RANKABLE
from campaigns.kpis.models import KpiSnapshot
from portal.filters import MAX_ID, RegionPrefixFilter
from portal.models import Region

Breakdown = KpiSnapshot.Breakdown
TO_DATE = "to_date"
# "" (the totals) cannot be asked for in a query string: the filter names it "total".
BREAKDOWN_CHOICES = [("total", _("Total")), *[(value, label) for value, label in Breakdown.choices if value]]


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
    key = django_filters.CharFilter(label=_("Breakdown key (section letter, size class, service-area number or "
                                            "certification scheme)"))
    rank_by = django_filters.ChoiceFilter(
        label=_("Order by this figure, most first (with level and to_date=true: the ranking of regions)"),
        choices=[(name, figure.label) for name, figure in RANKABLE.items()], method="by_rank")

    class Meta:
        model = KpiSnapshot
        fields = ["campaign", "region", "within", "level", "period", "to_date", "breakdown", "key", "rank_by"]

    def by_rank(self, queryset, name, value):
        figure = Cast(KeyTextTransform(value, "figures"), FloatField())
        return queryset.order_by(figure.desc(nulls_last=True), "region_id", "pk")

    def by_period(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(period="" if value == TO_DATE else value)

    def by_to_date(self, queryset, name, value):
        return queryset.filter(period="") if value else queryset.exclude(period="")

    def by_breakdown(self, queryset, name, value):
        return queryset.filter(breakdown="" if value == "total" else value)
