"""API plumbing shared by every app (the base viewset, service errors as 400, an object's audit
trail) and the reference data and /api/me/ endpoints."""

from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import NoReverseMatch, reverse
from rest_framework import generics, status, viewsets
from rest_framework.response import Response
from rest_framework.serializers import ValidationError, as_serializer_error
from rest_framework.settings import api_settings

from portal.access import ALL_ROLES, READERS, STAFF_ROLES, RolePermission
from portal.api.serializers import (
    AuditEntrySerializer,
    IndustrySerializer,
    MeSerializer,
    RegionSerializer,
    ServiceAreaSerializer,
    SpecialtySerializer,
)
from portal.audit import audit_entries_for
from portal.filters import RegionFilterSet
from portal.idempotency import IdempotentAPIMixin
from portal.models import Industry, ServiceArea, Specialty
from portal.selectors import regions_visible_to

ID_PATTERN = r"[0-9]+"


@contextmanager
def service_errors(**renames: str):
    """Answer a service's ValidationError with 400 and its messages per field.

    `renames` maps a service's field name to the one the request used (decline_reason -> reason).
    PermissionDenied needs nothing here: DRF answers it with 403.
    """
    try:
        yield
    except DjangoValidationError as error:
        renames.setdefault(NON_FIELD_ERRORS, api_settings.NON_FIELD_ERRORS_KEY)
        detail = as_serializer_error(error)
        raise ValidationError({renames.get(field, field): messages for field, messages in detail.items()}) from None


class RegistryViewSet(IdempotentAPIMixin, viewsets.GenericViewSet):
    """Shared by every app's viewsets: role checks, numeric ids, output through a fresh read, and a
    POST with an Idempotency-Key header done once (portal/idempotency.py)."""

    permission_classes = [RolePermission]
    read_roles = READERS
    lookup_value_regex = ID_PATTERN

    def output(self, serializer_class, instance, **kwargs):
        return serializer_class(instance, context=self.get_serializer_context(), **kwargs).data

    def created(self, data) -> Response:
        """201 Created for what `create` made, with its address in Location when this viewset
        has a detail route for it (a repeat with the same Idempotency-Key gets the same header)."""
        response = Response(data, status=status.HTTP_201_CREATED)
        try:
            response["Location"] = reverse(f"api:{self.basename}-detail", args=[data["id"]])
        except (NoReverseMatch, KeyError, TypeError):
            pass
        return response


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


def audit_output(request, obj) -> Response:
    entries = audit_entries_for(request.user, obj)
    return Response(AuditEntrySerializer(entries, many=True).data)
