"""/api/key-designations/: key industrial parks and key products or services of the caller's jurisdiction.

Staff of the jurisdiction read (a designation elsewhere answers 404); regulators inside their
jurisdiction and administrators designate (POST, with an Idempotency-Key to be done once) and
withdraw (DELETE); supervisors read only (403).
"""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from enterprises.designations import services
from enterprises.designations.api.serializers import KeyDesignationCreateSerializer, KeyDesignationSerializer
from enterprises.designations.filters import KeyDesignationFilterSet
from enterprises.designations.models import KeyDesignation
from enterprises.designations.selectors import key_designations_visible_to
from portal.access import EDITORS, STAFF_ROLES
from portal.api.views import RegistryViewSet, service_errors


class KeyDesignationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Key parks and products of the caller's jurisdiction, newest first."""

    serializer_class = KeyDesignationSerializer
    filterset_class = KeyDesignationFilterSet
    read_roles = STAFF_ROLES
    write_roles = EDITORS

    def get_queryset(self) -> QuerySet[KeyDesignation]:
        return key_designations_visible_to(self.request.user)

    @extend_schema(request=KeyDesignationCreateSerializer, responses={201: KeyDesignationSerializer})
    def create(self, request):
        """Designate a key park or product; a region outside the caller's jurisdiction answers 400."""
        serializer = KeyDesignationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            designation = services.key_designation_create(user=request.user, **serializer.validated_data)
        designation = self.get_queryset().get(pk=designation.pk)
        return self.created(self.output(KeyDesignationSerializer, designation))

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        """Withdraw a designation."""
        services.key_designation_remove(user=request.user, designation=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
