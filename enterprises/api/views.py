"""The registry API: enterprises, certifications, claims, needs and surveys.

Every endpoint starts from a selector, so a row outside the caller's reach answers 404; the role
check (RolePermission) answers 403; every write goes through enterprises.services.
"""


from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from enterprises import services
from enterprises.api.serializers import (
    CertificationSerializer,
    ClaimCreateSerializer,
    ClaimDecisionSerializer,
    ClaimSerializer,
    EnterpriseRegisterSerializer,
    EnterpriseSerializer,
    EnterpriseUpdateSerializer,
    NeedDeclineSerializer,
    NeedDetailSerializer,
    NeedDuplicateSerializer,
    NeedNoteSerializer,
    NeedSerializer,
    NeedSubmitSerializer,
    SurveyAnswerSerializer,
    SurveySerializer,
    UsccLookupQuerySerializer,
    UsccLookupSerializer,
)
from enterprises.filters import ClaimFilterSet, EnterpriseFilterSet, NeedFilterSet
from enterprises.models import Enterprise, NeedEvent
from enterprises.selectors import (
    claims_visible_to,
    enterprises_visible_to,
    needs_visible_to,
    surveys_visible_to,
)
from enterprises.uscc import normalise, region_code_of, validate_uscc
from portal.access import ALL_ROLES, EDITORS, SME_ONLY
from portal.api.pagination import KeysetPagination
from portal.api.views import RegistryViewSet, service_errors
from portal.models import User

Role = User.Role
class EnterpriseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """The enterprise registry: SME users see their own firms, staff their jurisdiction."""

    serializer_class = EnterpriseSerializer
    filterset_class = EnterpriseFilterSet
    pagination_class = KeysetPagination
    write_roles = frozenset({Role.SME, *EDITORS})

    def get_queryset(self):
        # region__parent__parent: region_name walks up to the province without a query per row.
        return enterprises_visible_to(self.request.user).select_related("region__parent__parent")

    def fresh(self, enterprise: Enterprise) -> Enterprise:
        return get_object_or_404(self.get_queryset(), pk=enterprise.pk)

    @extend_schema(request=EnterpriseRegisterSerializer, responses={201: EnterpriseSerializer})
    def create(self, request):
        """Register a firm; an SME user becomes its contact. A registered code must be claimed instead."""
        serializer = EnterpriseRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            enterprise = services.enterprise_register(user=request.user, **serializer.validated_data)
        return self.created(self.output(EnterpriseSerializer, self.fresh(enterprise)))

    @extend_schema(request=EnterpriseUpdateSerializer, responses=EnterpriseSerializer)
    def partial_update(self, request, pk=None):
        """SME contacts change contact fields only (others answer 403); regulators the registry fields."""
        enterprise = self.get_object()
        serializer = EnterpriseUpdateSerializer(enterprise, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.enterprise_update(user=request.user, enterprise=enterprise, **serializer.validated_data)
        return Response(self.output(EnterpriseSerializer, self.fresh(enterprise)))

    @extend_schema(parameters=[UsccLookupQuerySerializer], responses=UsccLookupSerializer)
    @action(detail=False, methods=["get"], read_roles=ALL_ROLES, filter_backends=[], pagination_class=None)
    def lookup(self, request):
        """Check a typed credit code: what is wrong with it, the region it names, whether it is registered.

        Only says whether a firm with the code exists, never which firm.
        """
        query = UsccLookupQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        code = normalise(query.validated_data["uscc"])
        try:
            validate_uscc(code)
        except DjangoValidationError as error:
            errors = [str(message) for message in error.messages]
        else:
            errors = []
        region = services.suggested_region(code) if len(region_code_of(code)) == 6 else None
        answer = {
            "valid": not errors,
            "errors": errors,
            "normalised": code,
            "suggested_region": region,
            "in_registry": not errors and Enterprise.objects.filter(uscc=code).exists(),
        }
        return Response(UsccLookupSerializer(answer).data)

    @extend_schema(methods=["get"], responses=CertificationSerializer(many=True))
    @extend_schema(methods=["post"], request=CertificationSerializer, responses={201: CertificationSerializer})
    @action(detail=True, methods=["get", "post"], write_roles=EDITORS, filter_backends=[], pagination_class=None)
    def certifications(self, request, pk=None):
        """The certificates a firm holds; regulators and administrators record new ones."""
        enterprise = self.get_object()
        if request.method == "GET":
            return Response(self.output(CertificationSerializer, enterprise.certifications.all(), many=True))
        serializer = CertificationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            certification = services.certification_add(user=request.user, enterprise=enterprise,
                                                       **serializer.validated_data)
        return Response(self.output(CertificationSerializer, certification), status=status.HTTP_201_CREATED)


class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Claims to act for a registered firm: an SME user's own, or those a regulator decides."""

    serializer_class = ClaimSerializer
    write_roles = SME_ONLY
    filterset_class = ClaimFilterSet

    def get_queryset(self):
        return claims_visible_to(self.request.user)

    @extend_schema(request=ClaimCreateSerializer, responses={201: ClaimSerializer})
    def create(self, request):
        """Ask to act for the firm with this credit code; a regulator of its region decides."""
        serializer = ClaimCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            claim = services.enterprise_claim(user=request.user, **serializer.validated_data)
        return self.created(self.output(ClaimSerializer, claim))

    @extend_schema(request=ClaimDecisionSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], write_roles=EDITORS)
    def confirm(self, request, pk=None):
        """Confirm a claim: the claimant's account becomes a contact of the firm."""
        return self.decide(request, confirm=True)

    @extend_schema(request=ClaimDecisionSerializer, responses=ClaimSerializer)
    @action(detail=True, methods=["post"], write_roles=EDITORS)
    def reject(self, request, pk=None):
        """Reject a claim, saying why in `note`."""
        return self.decide(request, confirm=False)

    def decide(self, request, *, confirm: bool):
        claim = self.get_object()
        serializer = ClaimDecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(decision_note="note"):
            services.claim_decide(user=request.user, claim=claim, confirm=confirm,
                                  note=serializer.validated_data["note"])
        return Response(self.output(ClaimSerializer, claim))


class NeedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Quality needs: SME users submit their own; regulators of the region triage them."""

    serializer_class = NeedSerializer
    filterset_class = NeedFilterSet
    write_roles = frozenset({*SME_ONLY, *EDITORS})  # the bureau enters needs received on paper

    def get_queryset(self):
        needs = needs_visible_to(self.request.user).select_related("submitted_by")  # who typed it in
        if self.action == "retrieve":
            needs = self.with_history(needs)
        return needs

    def get_serializer_class(self):
        return NeedDetailSerializer if self.action == "retrieve" else NeedSerializer

    @staticmethod
    def with_history(needs):
        return needs.select_related("submitted_by").prefetch_related(
            Prefetch("events", queryset=NeedEvent.objects.select_related("actor")), "attachments"
        )

    def detail_output(self, need):
        fresh = get_object_or_404(self.with_history(needs_visible_to(self.request.user)), pk=need.pk)
        return self.output(NeedDetailSerializer, fresh)

    @extend_schema(request={"multipart/form-data": NeedSubmitSerializer}, responses={201: NeedDetailSerializer})
    def create(self, request):
        """Ask for help for one of the caller's firms, with up to five attached files. Regulators of the
        firm's region and administrators enter a need received on paper or by phone, with `received_on`."""
        serializer = NeedSubmitSerializer(data=request.data, enterprises=enterprises_visible_to(request.user))
        serializer.is_valid(raise_exception=True)
        if not request.user.is_sme and serializer.validated_data["received_on"] is None:
            raise PermissionDenied  # only a firm asks online; the bureau enters what it received
        with service_errors():
            need = services.need_submit(user=request.user, **serializer.validated_data)
        return self.created(self.detail_output(need))

    @extend_schema(request=NeedNoteSerializer, responses=NeedDetailSerializer)
    @action(detail=True, methods=["post"], write_roles=EDITORS)
    def accept(self, request, pk=None):
        """Accept (triage) a submitted need."""
        need = self.get_object()
        serializer = NeedNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.need_accept(user=request.user, need=need, note=serializer.validated_data["note"])
        return Response(self.detail_output(need))

    @extend_schema(request=NeedDeclineSerializer, responses=NeedDetailSerializer)
    @action(detail=True, methods=["post"], write_roles=EDITORS)
    def decline(self, request, pk=None):
        """Decline a need, giving the reason the SME will read."""
        need = self.get_object()
        serializer = NeedDeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(decline_reason="reason"):
            services.need_decline(user=request.user, need=need, reason=serializer.validated_data["reason"])
        return Response(self.detail_output(need))

    @extend_schema(request=NeedDuplicateSerializer, responses=NeedDetailSerializer)
    @action(detail=True, methods=["post"], write_roles=EDITORS)
    def duplicate(self, request, pk=None):
        """Decline a need as a duplicate of another need of the same firm that the caller can see."""
        need = self.get_object()
        serializer = NeedDuplicateSerializer(data=request.data, needs=needs_visible_to(request.user))
        serializer.is_valid(raise_exception=True)
        with service_errors(duplicate_of="original"):
            services.need_mark_duplicate(user=request.user, need=need, original=serializer.validated_data["original"])
        return Response(self.detail_output(need))

    @extend_schema(
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>[0-9]+)",
            url_name="attachment", filter_backends=[], pagination_class=None)
    def attachment(self, request, pk=None, attachment_id=None):
        """Download a need's attachment: only for those who may see the need."""
        attachment = get_object_or_404(self.get_object().attachments, pk=attachment_id)
        try:
            handle = attachment.file.open("rb")
        except OSError:
            raise Http404 from None
        return FileResponse(handle, as_attachment=True, filename=attachment.original_name)


class SurveyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Needs surveys: a firm answers the baseline and, after assistance, the follow-up."""

    serializer_class = SurveySerializer
    write_roles = SME_ONLY
    filterset_fields = ["kind"]

    def get_queryset(self):
        return surveys_visible_to(self.request.user).select_related("answered_by")

    @extend_schema(request=SurveyAnswerSerializer, responses={201: SurveySerializer})
    def create(self, request):
        """Record one of the caller's firms' answers; a follow-up must answer the outcome questions."""
        serializer = SurveyAnswerSerializer(data=request.data, enterprises=enterprises_visible_to(request.user))
        serializer.is_valid(raise_exception=True)
        with service_errors():
            survey = services.survey_answer(user=request.user, **serializer.validated_data)
        return self.created(self.output(SurveySerializer, get_object_or_404(self.get_queryset(), pk=survey.pk)))
