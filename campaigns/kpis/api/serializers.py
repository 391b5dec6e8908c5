"""Output shape of the KPI snapshot API."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from campaigns.kpis.models import KpiSnapshot
from portal.api.serializers import NamedChoiceField
from portal.models import Region


class KpiSnapshotSerializer(serializers.ModelSerializer):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    level = NamedChoiceField(enum_name="KpiSnapshotLevelEnum", choices=Region.Level.choices, read_only=True)
    period = serializers.CharField(read_only=True, help_text=_('"YYYY-MM" for a month, "" for to date.'))
    breakdown = serializers.CharField(
        read_only=True, help_text=_('"" for the totals; industry, size, service_area or scheme for a breakdown.'))
    key = serializers.CharField(
        read_only=True, help_text=_("The breakdown's key: a GB/T 4754 section letter, a size class, a "
                                    "service-area number or a certification scheme; \"\" for the totals."))
    figures = serializers.DictField(
        read_only=True, help_text=_("The figures by name (campaigns/kpis/engine.py); the to-date totals also carry "
                                    "\"targets\": {figure: target}, a target of one scheme or service area named "
                                    "\"figure:key\" with its actual beside it under the same name."))

    class Meta:
        model = KpiSnapshot
        fields = ["id", "campaign", "campaign_name", "region", "region_name", "level", "period", "breakdown", "key",
                  "figures", "computed_at"]
        read_only_fields = fields
