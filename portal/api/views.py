from rest_framework import generics, viewsets

from portal.access import ALL_ROLES, STAFF_ROLES, RolePermission
from portal.api.serializers import (
    IndustrySerializer,
    MeSerializer,
    RegionSerializer,
    ServiceAreaSerializer,
    SpecialtySerializer,
)
from portal.filters import RegionFilterSet
from portal.models import Industry, ServiceArea, Specialty
from portal.selectors import regions_visible_to


class RegionViewSet(viewsets.ReadOnlyModelViewSet):
    """Regions inside the caller's jurisdiction."""

    serializer_class = RegionSerializer
    lookup_field = "code"
    filterset_class = RegionFilterSet
    permission_classes = [RolePermission]
    read_roles = STAFF_ROLES

    def get_queryset(self):
        return regions_visible_to(self.request.user)


class ReferenceViewSet(viewsets.ReadOnlyModelViewSet):
    """Reference data every signed-in user may read; administrators edit it in Django admin."""

    permission_classes = [RolePermission]
    read_roles = ALL_ROLES


class IndustryViewSet(ReferenceViewSet):
    queryset = Industry.objects.all()
    serializer_class = IndustrySerializer
    filterset_fields = ["level", "parent"]


class ServiceAreaViewSet(ReferenceViewSet):
    queryset = ServiceArea.objects.all()
    serializer_class = ServiceAreaSerializer


class SpecialtyViewSet(ReferenceViewSet):
    queryset = Specialty.objects.prefetch_related("service_areas")
    serializer_class = SpecialtySerializer


class MeView(generics.RetrieveAPIView):
    """The signed-in user, their role and jurisdiction."""

    serializer_class = MeSerializer
    permission_classes = [RolePermission]
    read_roles = ALL_ROLES

    def get_object(self):
        return self.request.user
