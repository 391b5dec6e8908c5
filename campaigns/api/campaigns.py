"""The campaign API: campaigns with their targets and figures, creating (administrators), changing
(the regulators running a campaign) and setting or removing targets.

Reads start from campaigns.selectors.campaigns_visible_to (a campaign out of reach answers 404);
the role check answers 403; writes go through campaigns.campaign_services and
campaigns.services.campaign_target_set, whose ValidationError answers 400 per field.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from campaigns import campaign_services, services
from campaigns.api.serializers import CampaignSerializer
from campaigns.campaign_filters import CampaignFilterSet, PeriodStatus, with_figures, with_targets
from campaigns.models import Campaign, CampaignTarget
from campaigns.selectors import campaigns_visible_to
from portal.access import EDITORS, STAFF_ROLES
from portal.api.serializers import NamedChoiceField
from portal.api.views import ID_PATTERN, RegistryViewSet, service_errors
from portal.models import Region, ServiceArea, User

ADMINISTRATORS = frozenset({User.Role.ADMINISTRATOR})
METRIC = {"enum_name": "CampaignTargetMetricEnum", "choices": CampaignTarget.Metric.choices}
SCOPE = {"enum_name": "CampaignTargetScopeEnum", "choices": CampaignTarget.Scope.choices}


# --- shapes --------------------------------------------------------------------------------------


class CampaignTargetSerializer(serializers.ModelSerializer):
    metric = NamedChoiceField(**METRIC, read_only=True)
    metric_label = serializers.CharField(source="get_metric_display", read_only=True)
    scope = NamedChoiceField(**SCOPE, read_only=True)
    scope_label = serializers.CharField(source="get_scope_display", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True, allow_null=True,
                                   help_text=_("Only for a target of one region."))
    region_name = serializers.CharField(source="region.name", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CampaignTarget
        fields = ["id", "metric", "metric_label", "scope", "scope_label", "region", "region_name", "value"]
        read_only_fields = fields


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with its status today, its targets, and the cases and training sessions the
    caller may see in it (those of the caller's jurisdiction)."""

    status = NamedChoiceField(enum_name="CampaignStatusEnum", choices=PeriodStatus.choices, source="period_status",
                              read_only=True, help_text=_("Upcoming, running or ended, as of today."))
    cases_count = serializers.IntegerField(read_only=True, help_text=_("Cases the caller may see."))
    training_sessions_count = serializers.IntegerField(read_only=True,
                                                       help_text=_("Training sessions the caller may see."))
    targets = CampaignTargetSerializer(many=True, read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "status", "cases_count", "training_sessions_count", "targets"]
        read_only_fields = fields


class CampaignWriteSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(),
                                          help_text=_("The 6-digit code of the jurisdiction."))
    service_areas = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ServiceArea.objects.filter(active=True),
        help_text=_("Service-area numbers in scope; none means every area."),
    )

    class Meta:
        model = Campaign
        fields = ["name", "organiser", "region", "theme", "starts_on", "ends_on", "service_areas"]

    def run_validators(self, value):
        pass  # the service validates the campaign as a whole (full_clean), with its rules across rows


class CampaignCreateSerializer(CampaignWriteSerializer):
    """A new campaign: administrators only."""


class CampaignUpdateSerializer(CampaignWriteSerializer):
    """Changes to a campaign: only the fields sent change. Its regulators change the theme, period
    and service areas; administrators the name and organiser too (a change to those by anyone
    else answers 403). The jurisdiction never changes."""

    class Meta(CampaignWriteSerializer.Meta):
        fields = ["name", "organiser", "theme", "starts_on", "ends_on", "service_areas"]
        extra_kwargs = {name: {"required": False} for name in fields}


class CampaignTargetSetSerializer(serializers.Serializer):
    """A target to set: a new one, or a new value for the one with the same figure, scope and region."""

    metric = NamedChoiceField(**METRIC)
    scope = NamedChoiceField(**SCOPE, default=CampaignTarget.Scope.CAMPAIGN)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), required=False,
                                          allow_null=True, default=None,
                                          help_text=_("Only for a target of one region: its 6-digit code."))
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


# --- the endpoints -------------------------------------------------------------------------------


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Campaigns of the caller's jurisdiction and those above it, with their targets. Administrators
    create campaigns; the regulators of a campaign's jurisdiction (and administrators) change it and
    set its targets; supervisors and regulators of the cities inside read."""

    serializer_class = CampaignDetailSerializer
    filterset_class = CampaignFilterSet
    read_roles = STAFF_ROLES
    write_roles = EDITORS

    def get_permissions(self):
        # RolePermission reads write_roles off the view; creating is the administrators' alone.
        if self.action == "create":
            self.write_roles = ADMINISTRATORS
        return super().get_permissions()

    def get_queryset(self) -> QuerySet[Campaign]:
        user = self.request.user
        return with_targets(with_figures(campaigns_visible_to(user), user))

    def fresh_output(self, campaign: Campaign) -> dict:
        return self.output(CampaignDetailSerializer, get_object_or_404(self.get_queryset(), pk=campaign.pk))

    def managed_object(self) -> Campaign:
        """The campaign in the URL: 404 out of sight, 403 when the caller does not run it, before
        the input is even read."""
        campaign = self.get_object()
        if not services.may_manage_campaign(self.request.user, campaign):
            raise PermissionDenied
        return campaign

    @extend_schema(request=CampaignCreateSerializer, responses={201: CampaignDetailSerializer})
    def create(self, request):
        """Create a campaign (administrators): its jurisdiction, period and service areas; targets next."""
        serializer = CampaignCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            campaign = campaign_services.campaign_create(user=request.user, **serializer.validated_data)
        return Response(self.fresh_output(campaign), status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignUpdateSerializer, responses=CampaignDetailSerializer)
    def partial_update(self, request, pk=None):
        """Change the theme, period or service areas. A period leaving out a case or training session
        already recorded, or dropping an area the campaign's cases are about, answers 400 per field."""
        campaign = self.managed_object()
        serializer = CampaignUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            campaign_services.campaign_update(user=request.user, campaign=campaign, **serializer.validated_data)
        return Response(self.fresh_output(campaign))

    @extend_schema(methods=["GET"], responses=CampaignTargetSerializer(many=True))
    @extend_schema(methods=["POST"], request=CampaignTargetSetSerializer,
                   responses={200: CampaignTargetSerializer, 201: CampaignTargetSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], pagination_class=None)
    def targets(self, request, pk=None):
        """GET: the campaign's targets. POST: set one (201 when new, 200 when it changes the value of
        the target with the same figure, scope and region)."""
        if request.method == "GET":
            campaign = self.get_object()
            return Response(self.output(CampaignTargetSerializer, campaign.targets.all(), many=True))
        campaign = self.managed_object()
        serializer = CampaignTargetSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existed = campaign.targets.filter(metric=data["metric"], scope=data["scope"], region=data["region"]).exists()
        with service_errors():
            target = services.campaign_target_set(user=request.user, campaign=campaign, **data)
        target = CampaignTarget.objects.select_related("region").get(pk=target.pk)
        return Response(self.output(CampaignTargetSerializer, target),
                        status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("target_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
                   request=None, responses={204: OpenApiResponse(description=_("The target is removed."))})
    @action(detail=True, methods=["delete"], url_path=rf"targets/(?P<target_id>{ID_PATTERN})", url_name="target",
            filter_backends=[], pagination_class=None)
    def remove_target(self, request, pk=None, target_id=None):
        """Remove one of the campaign's targets; the campaign's audit trail keeps what it was."""
        campaign = self.managed_object()
        target = get_object_or_404(campaign.targets.all(), pk=target_id)
        campaign_services.campaign_target_remove(user=request.user, target=target)
        return Response(status=status.HTTP_204_NO_CONTENT)
