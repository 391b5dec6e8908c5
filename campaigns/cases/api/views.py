"""The case and visit API: every endpoint starts from a selector (cases_visible_to, visits_visible_to),
so a row outside the caller's reach answers 404; the role check answers 403; every write goes
through campaigns.cases.services."""

from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from campaigns.cases import services
from campaigns.cases.api.serializers import (
    AssignmentSerializer,
    CaseAssignSerializer,
    CaseCloseSerializer,
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseOpenSerializer,
    CaseRateSerializer,
    CaseReleaseSerializer,
    CaseSerializer,
    CaseTransitionSerializer,
    CaseUpdateSerializer,
    ConflictSerializer,
    RatingSerializer,
    SuggestionQuerySerializer,
    SuggestionSerializer,
    VisitLogSerializer,
    VisitSerializer,
    VisitUpdateSerializer,
    VisitWithRemarkSerializer,
)
from campaigns.cases.filters import CaseFilterSet, VisitFilterSet
from campaigns.cases.matching import case_words, suggest_experts
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, Visit
from campaigns.cases.selectors import cases_visible_to, shows_internal_remarks, visits_visible_to
from campaigns.selectors import campaigns_visible_to
from enterprises.selectors import enterprises_visible_to, needs_visible_to
from experts.models import Expert
from experts.selectors import experts_visible_to
from portal.access import ALL_ROLES, EDITORS, SME_ONLY, STAFF_ROLES, RolePermission
from portal.api.serializers import AuditEntrySerializer
from portal.api.views import ID_PATTERN, RegistryViewSet, audit_output, service_errors
from portal.models import User

Role = User.Role
# Who works on a case: the bureau, and the experts assigned to it (the services check which case).
CASE_WORKERS = frozenset({*EDITORS, Role.EXPERT})
# A transition's refusals (an illegal step, a plan not yet written) are about the step asked for.
ABOUT_THE_STEP = {NON_FIELD_ERRORS: "to_status", api_settings.NON_FIELD_ERRORS_KEY: "to_status"}
CONFLICT = OpenApiResponse(ConflictSerializer, description=_("The version sent is stale: nothing was saved."))


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("Someone else saved this record after you opened it; nothing was saved.")
    default_code = "conflict"


@contextmanager
def workflow_errors(**renames: str):
    """service_errors(), except that a stale `version` (code "conflict") answers 409 with its message."""
    with service_errors(**renames):
        try:
            yield
        except DjangoValidationError as error:
            if getattr(error, "code", None) == "conflict":
                raise Conflict(error.messages[0]) from None
            raise


def suggestions_for(request, *, enterprise, service_area_ids: list[int], exclude_case=None,
                    text: str = "") -> Response:
    """The ranked experts for a firm, with `service_area` and `limit` read from the query string."""
    query = SuggestionQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    if query.validated_data.get("service_area"):
        service_area_ids = [area.pk for area in query.validated_data["service_area"]]
    suggestions = suggest_experts(user=request.user, enterprise=enterprise, service_area_ids=service_area_ids,
                                  exclude_case=exclude_case, limit=query.validated_data["limit"], text=text)
    return Response(SuggestionSerializer(suggestions, many=True).data)


class WorkflowViewSet(RegistryViewSet):
    """RegistryViewSet with per-action write roles for the built-in update action.

    RolePermission reads `write_roles` off the view; `partial_update` is not an @action and so
    cannot carry its own, hence `update_roles`.
    """

    update_roles: frozenset[str] = EDITORS

    def get_permissions(self):
        if self.action == "partial_update":
            self.write_roles = self.update_roles
        return super().get_permissions()


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, WorkflowViewSet):
    """One-to-one assistance cases: staff see their jurisdiction's, experts the cases assigned to
    them, SME users their own firms'. Regulators and administrators run them; assigned experts
    write the diagnosis and plan; supervisors read."""

    serializer_class = CaseSerializer
    filterset_class = CaseFilterSet
    read_roles = ALL_ROLES
    write_roles = EDITORS
    update_roles = CASE_WORKERS

    def get_queryset(self) -> QuerySet[AssistanceCase]:
        cases = self.with_experts(cases_visible_to(self.request.user))
        return self.with_details(cases) if self.action == "retrieve" else cases

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    @staticmethod
    def with_experts(cases: QuerySet[AssistanceCase]) -> QuerySet[AssistanceCase]:
        """What the list shows: region_name walks up to the province, and the experts assigned now,
        both without a query per row."""
        return cases.select_related("enterprise__region__parent__parent").prefetch_related(
            Prefetch("assignments", queryset=CaseAssignment.objects.filter(active=True).select_related("expert"),
                     to_attr="active_assignments")
        )

    @staticmethod
    def with_details(cases: QuerySet[AssistanceCase]) -> QuerySet[AssistanceCase]:
        return cases.select_related("opened_by", "rating").prefetch_related(
            "needs", Prefetch("assignments", queryset=CaseAssignment.objects.select_related("expert", "assigned_by"))
        )

    def detail_output(self, case: AssistanceCase) -> dict:
        """The case as it is now, read afresh after a write."""
        cases = self.with_details(self.with_experts(cases_visible_to(self.request.user)))
        return self.output(CaseDetailSerializer, get_object_or_404(cases, pk=case.pk))

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseDetailSerializer})
    def create(self, request):
        """Open a case for a firm in a running campaign, from some of its needs or directly."""
        user = request.user
        serializer = CaseOpenSerializer(data=request.data, campaigns=campaigns_visible_to(user),
                                        enterprises=enterprises_visible_to(user), needs=needs_visible_to(user))
        serializer.is_valid(raise_exception=True)
        with service_errors():
            case = services.case_open(user=user, **serializer.validated_data)
        return self.created(self.detail_output(case))

    @extend_schema(request=CaseUpdateSerializer, responses={200: CaseDetailSerializer, 409: CONFLICT})
    def partial_update(self, request, pk=None):
        """Change a case from the `version` read. Managers change any field, assigned experts the
        diagnosis and plan (others answer 403); a closed case only its outcome notes."""
        case = self.get_object()
        serializer = CaseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        version = fields.pop("version")
        with workflow_errors():
            services.case_update(user=request.user, case=case, version=version, **fields)
        return Response(self.detail_output(case))

    @extend_schema(request=CaseTransitionSerializer, responses={200: CaseDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Move the case one step on: open → diagnosing → plan agreed → in progress. An illegal step
        answers 400 with the reason under `to_status` and changes nothing."""
        case = self.get_object()
        serializer = CaseTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with workflow_errors(**ABOUT_THE_STEP):
            services.case_transition(user=request.user, case=case, **serializer.validated_data)
        return Response(self.detail_output(case))

    @extend_schema(request=CaseCloseSerializer, responses={200: CaseDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        """Close the case resolved (once in progress) or unresolved (with a note), record its outcomes,
        settle its needs and release its experts."""
        case = self.get_object()
        serializer = CaseCloseSerializer(data=request.data, needs=needs_visible_to(request.user))
        serializer.is_valid(raise_exception=True)
        with workflow_errors():
            services.case_close(user=request.user, case=case, **serializer.validated_data)
        return Response(self.detail_output(case))

    @extend_schema(request=CaseAssignSerializer, responses={201: AssignmentSerializer})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign an expert from a pool the caller can use; past capacity only with `override_reason`."""
        case = self.get_object()
        serializer = CaseAssignSerializer(data=request.data, experts=experts_visible_to(request.user))
        serializer.is_valid(raise_exception=True)
        with service_errors():
            assignment = services.case_assign_expert(user=request.user, case=case, **serializer.validated_data)
        return Response(self.output(AssignmentSerializer, assignment), status=status.HTTP_201_CREATED)

    @extend_schema(request=CaseReleaseSerializer, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        """Release an expert from the case; the assignment is kept in the case's record."""
        case = self.get_object()
        serializer = CaseReleaseSerializer(data=request.data,
                                           experts=Expert.objects.filter(assignments__case=case).distinct())
        serializer.is_valid(raise_exception=True)
        with service_errors():
            assignment = services.case_release_expert(user=request.user, case=case, **serializer.validated_data)
        return Response(self.output(AssignmentSerializer, assignment))

    @extend_schema(parameters=[SuggestionQuerySerializer], responses=SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"], read_roles=STAFF_ROLES, filter_backends=[], pagination_class=None)
    def suggestions(self, request, pk=None):
        """Experts to assign, best first, with a score out of 100 and the reasons for it; matched on
        the service areas of the case's needs unless `service_area` names others."""
        case = self.get_object()
        service_area_ids = sorted({need.service_area_id for need in case.needs.all()})
        return suggestions_for(request, enterprise=case.enterprise, service_area_ids=service_area_ids,
                               exclude_case=case, text=case_words(case))

    @extend_schema(request=CaseRateSerializer, responses={201: RatingSerializer})
    @action(detail=True, methods=["post"], write_roles=SME_ONLY)
    def rate(self, request, pk=None):
        """The firm rates its closed case once, from 1 to 5."""
        case = self.get_object()
        serializer = CaseRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            rating = services.case_rate(user=request.user, case=case, **serializer.validated_data)
        return Response(self.output(RatingSerializer, rating), status=status.HTTP_201_CREATED)

    @extend_schema(responses=CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request, pk=None):
        """The case's lifecycle: each status it went through, who moved it and why."""
        case = self.get_object()
        events = CaseEvent.objects.filter(case=case).select_related("actor")
        return Response(self.output(CaseEventSerializer, events, many=True))

    @extend_schema(responses=AuditEntrySerializer(many=True))
    @action(detail=True, methods=["get"], read_roles=STAFF_ROLES, filter_backends=[], pagination_class=None)
    def audit(self, request, pk=None):
        """Every recorded change to the case, newest first, with old and new values."""
        return audit_output(request, self.get_object())


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Assistance visits on the cases the caller may see; SME users never receive internal remarks."""

    filterset_class = VisitFilterSet
    read_roles = ALL_ROLES
    write_roles = CASE_WORKERS

    def get_queryset(self) -> QuerySet[Visit]:
        return visits_visible_to(self.request.user).prefetch_related("attachments")

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or shows_internal_remarks(self.request.user):
            return VisitWithRemarkSerializer
        return VisitSerializer

    def fresh_output(self, visit: Visit) -> dict:
        return self.output(self.get_serializer_class(), get_object_or_404(self.get_queryset(), pk=visit.pk))

    @extend_schema(
        request={"multipart/form-data": VisitLogSerializer, "application/json": VisitLogSerializer},
        responses={201: VisitWithRemarkSerializer},
    )
    def create(self, request):
        """Log a visit on an open case: the bureau or an expert assigned to it, with up to ten files."""
        serializer = VisitLogSerializer(data=request.data, cases=cases_visible_to(request.user))
        serializer.is_valid(raise_exception=True)
        with service_errors():
            visit = services.visit_log(user=request.user, **serializer.validated_data)
        return self.created(self.fresh_output(visit))

    @extend_schema(
        request={"multipart/form-data": VisitUpdateSerializer, "application/json": VisitUpdateSerializer},
        responses={200: VisitWithRemarkSerializer, 409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        """Change a visit from the `version` read: the bureau, or the expert who logged it."""
        visit = self.get_object()
        serializer = VisitUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        version = fields.pop("version")
        with workflow_errors():
            services.visit_update(user=request.user, visit=visit, version=version, **fields)
        return Response(self.fresh_output(visit))

    @extend_schema(
        parameters=[OpenApiParameter("attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], url_path=rf"attachments/(?P<attachment_id>{ID_PATTERN})",
            url_name="attachment", filter_backends=[], pagination_class=None)
    def attachment(self, request, pk=None, attachment_id=None):
        """Download a visit's photo or file: only for those who may see the visit."""
        attachment = get_object_or_404(self.get_object().attachments, pk=attachment_id)
        try:
            handle = attachment.file.open("rb")
        except OSError:
            raise Http404 from None
        return FileResponse(handle, as_attachment=True, filename=attachment.original_name)

    @extend_schema(responses=AuditEntrySerializer(many=True))
    @action(detail=True, methods=["get"], read_roles=STAFF_ROLES, filter_backends=[], pagination_class=None)
    def audit(self, request, pk=None):
        """Every recorded change to the visit, newest first, with old and new values."""
        return audit_output(request, self.get_object())


class NeedSuggestionsView(APIView):
    """Experts to answer a need, best first, with a score out of 100 and the reasons for it."""

    permission_classes = [RolePermission]
    read_roles = STAFF_ROLES

    @extend_schema(parameters=[SuggestionQuerySerializer], responses=SuggestionSerializer(many=True))
    def get(self, request, pk: int):
        need = get_object_or_404(needs_visible_to(request.user), pk=pk)
        return suggestions_for(request, enterprise=need.enterprise, service_area_ids=[need.service_area_id],
                               text=f"{need.title} {need.description}")
