"""The expert-pool API.

Starts from experts.selectors.experts_visible_to, so an expert outside the caller's reach answers
404; staff read, an expert reads their own record; regulators and administrators write through
experts.services, which decides whose pool they keep (403 otherwise).
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.response import Response

from experts import services
from experts.api.serializers import ExpertSerializer, ExpertWriteSerializer
from experts.filters import ExpertFilterSet
from experts.models import Expert
from experts.selectors import experts_visible_to, with_record
from portal.access import EDITORS, STAFF_ROLES
from portal.api.views import RegistryViewSet, service_errors
from portal.models import User


def service_fields(validated_data: dict) -> dict:
    """The validated data as the services' keyword arguments.

    The services take `user` as the acting user, so the expert's login travels as `user_id`
    (as the pages send it); the services report a login they refuse under "user".
    """
    fields = dict(validated_data)
    if "user" in fields:
        login = fields.pop("user")
        fields["user_id"] = login.pk if login else None
    return fields


class ExpertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """The expert pool with each expert's load and satisfaction record."""

    serializer_class = ExpertSerializer
    filterset_class = ExpertFilterSet
    read_roles = frozenset({*STAFF_ROLES, User.Role.EXPERT})
    write_roles = EDITORS

    def get_queryset(self) -> QuerySet[Expert]:
        # region__parent__parent: region_name walks up to the province without a query per row.
        experts = experts_visible_to(self.request.user).select_related("region__parent__parent", "user")
        return with_record(experts).prefetch_related("specialties", "regions_served")

    def fresh(self, expert: Expert) -> Expert:
        return get_object_or_404(self.get_queryset(), pk=expert.pk)

    @extend_schema(request=ExpertWriteSerializer, responses={201: ExpertSerializer})
    def create(self, request):
        """Add an expert to a pool the caller keeps (a regulator's jurisdiction, or any for administrators)."""
        serializer = ExpertWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = service_fields(serializer.validated_data)
        with service_errors():
            expert = services.expert_create(user=request.user, specialties=fields.pop("specialties", []),
                                            regions_served=fields.pop("regions_served", []), **fields)
        return self.created(self.output(ExpertSerializer, self.fresh(expert)))

    @extend_schema(request=ExpertWriteSerializer, responses=ExpertSerializer)
    def partial_update(self, request, pk=None):
        """Change an expert of a pool the caller keeps; only the fields sent change."""
        expert = self.get_object()
        serializer = ExpertWriteSerializer(expert, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.expert_update(user=request.user, expert=expert, **service_fields(serializer.validated_data))
        return Response(self.output(ExpertSerializer, self.fresh(expert)))
