"""The campaign API: campaigns with their targets and figures, creating (administrators), changing
(the regulators running a campaign) and setting or removing targets.

Reads start from campaigns.selectors.campaigns_visible_to (a campaign out of reach answers 404);
the role check answers 403; writes go through campaigns.services, whose ValidationError answers 400
per field.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from campaigns import import_jobs
from campaigns import services as campaign_services
from campaigns.api.serializers import (
    CampaignCreateSerializer,
    CampaignDetailSerializer,
    CampaignTargetSerializer,
    CampaignTargetSetSerializer,
    CampaignUpdateSerializer,
    RecordsImportJobSerializer,
    RecordsImportSerializer,
)
from campaigns.filters import CampaignFilterSet, with_figures, with_targets
from campaigns.models import Campaign, CampaignTarget, RecordsImportJob
from campaigns.selectors import campaigns_visible_to, may_manage_campaign
from portal.access import EDITORS, STAFF_ROLES, has_role
from portal.api.views import ID_PATTERN, RegistryViewSet, service_errors
from portal.models import User

ADMINISTRATORS = frozenset({User.Role.ADMINISTRATOR})


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
        if not may_manage_campaign(self.request.user, campaign):
            raise PermissionDenied
        return campaign

    @extend_schema(request=CampaignCreateSerializer, responses={201: CampaignDetailSerializer})
    def create(self, request):
        """Create a campaign (administrators): its jurisdiction, period and service areas; targets next."""
        serializer = CampaignCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            campaign = campaign_services.campaign_create(user=request.user, **serializer.validated_data)
        return self.created(self.fresh_output(campaign))

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
            targets = campaign.targets.select_related("region", "base_campaign")
            return Response(self.output(CampaignTargetSerializer, targets, many=True))
        campaign = self.managed_object()
        serializer = CampaignTargetSetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data["base_campaign"] is not None:
            data["base_campaign"] = campaigns_visible_to(request.user).filter(pk=data["base_campaign"]).first()
            if data["base_campaign"] is None:
                raise ValidationError({"base_campaign": [_("No such campaign.")]})
        existed = campaign.targets.filter(metric=data["metric"], key=data["key"].strip().lower(), scope=data["scope"],
                                          region=data["region"]).exists()
        with service_errors():
            target = campaign_services.campaign_target_set(user=request.user, campaign=campaign, **data)
        target = CampaignTarget.objects.select_related("region", "base_campaign").get(pk=target.pk)
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

    def importing_campaign(self) -> Campaign:
        """The campaign in the URL (404 out of sight; no figures or targets needed), then 403 for a
        role that does not import."""
        campaign = get_object_or_404(campaigns_visible_to(self.request.user), pk=self.kwargs["pk"])
        if not has_role(self.request.user, EDITORS):
            raise PermissionDenied
        return campaign

    def import_job_of(self, campaign: Campaign, job_id) -> RecordsImportJob:
        return get_object_or_404(import_jobs.import_jobs_visible_to(self.request.user, campaign), pk=job_id)

    @extend_schema(methods=["GET"], responses=RecordsImportJobSerializer(many=True))
    @extend_schema(methods=["POST"], request={"multipart/form-data": RecordsImportSerializer},
                   responses={202: RecordsImportJobSerializer})
    @action(detail=True, methods=["get", "post"], url_path="imports", url_name="imports", filter_backends=[],
            pagination_class=None)
    def imports(self, request, pk=None):
        """GET: the campaign's imports uploaded from the caller's office, newest first. POST: upload a
        list of its cases with visits (kind=cases) or its survey answers (kind=surveys); 202 with the
        job, which checks every row and records all of them, or nothing and the report of the bad ones."""
        campaign = self.importing_campaign()
        if request.method == "GET":
            jobs = import_jobs.import_jobs_visible_to(request.user, campaign)[:50]
            return Response(self.output(RecordsImportJobSerializer, jobs, many=True))
        serializer = RecordsImportSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data["lead"] is not None:
            data["lead"] = User.objects.filter(pk=data["lead"], role=User.Role.REGULATOR, is_active=True).first()
            if data["lead"] is None:
                raise ValidationError({"lead": [_("No such regulator.")]})
        with service_errors():
            job = import_jobs.records_import_job_create(user=request.user, campaign=campaign, kind=data["kind"],
                                                        upload=data["file"], lead=data["lead"])
        return Response(self.output(RecordsImportJobSerializer, job), status=status.HTTP_202_ACCEPTED)

    @extend_schema(parameters=[OpenApiParameter("job_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
                   responses=RecordsImportJobSerializer)
    @action(detail=True, methods=["get"], url_path=rf"imports/(?P<job_id>{ID_PATTERN})", url_name="import",
            filter_backends=[], pagination_class=None)
    def import_job(self, request, pk=None, job_id=None):
        """One import: its status, its progress (rows checked, rows recorded), the counts once done and
        the bad rows (line, column, reason) when it found any."""
        campaign = self.importing_campaign()
        return Response(self.output(RecordsImportJobSerializer, self.import_job_of(campaign, job_id)))
