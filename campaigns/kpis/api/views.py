"""/api/kpi-snapshots/: the campaign figures the KPI engine stored (campaigns/kpis/engine.py), read-only.

Staff only (SME users and experts 403). A caller reads the snapshots of the campaigns it may see
(campaigns.selectors.campaigns_visible_to) and, of those, only the rows of regions inside its own
jurisdiction: a city's regulator never reads another city's rows, nor the province's, even of a
province campaign.
"""

from django.db.models import QuerySet
from rest_framework import mixins

from campaigns.kpis.api.serializers import KpiSnapshotSerializer
from campaigns.kpis.filters import KpiSnapshotFilterSet
from campaigns.kpis.models import KpiSnapshot
from campaigns.selectors import campaigns_visible_to
from portal.access import STAFF_ROLES
from portal.api.views import RegistryViewSet
from portal.selectors import region_code_q


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
