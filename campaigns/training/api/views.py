"""/api/training-sessions/: training sessions with their firm-times and person-times.

Staff of the jurisdiction read (campaigns.training.selectors.training_sessions_visible_to: a session
elsewhere answers 404); regulators and administrators record a session with its attendance
through campaigns.training.services.training_record, all at once or nothing. Each attending firm is named
by its registry id or its credit code.
"""

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser

from campaigns.training import services
from campaigns.training.api.serializers import (
    TrainingRecordSerializer,
    TrainingSessionDetailSerializer,
    TrainingSessionSerializer,
)
from campaigns.training.filters import TrainingFilterSet
from campaigns.training.models import TrainingAttendance, TrainingSession
from campaigns.training.selectors import (
    training_sessions_visible_to,
    with_totals,
)
from portal.access import EDITORS, STAFF_ROLES
from portal.api.serializers import AuditEntrySerializer
from portal.api.views import RegistryViewSet, audit_output, service_errors


class TrainingSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """Training sessions held in the caller's jurisdiction, newest first, with firm-times and
    person-times. Regulators and administrators record them; supervisors read."""

    filterset_class = TrainingFilterSet
    read_roles = STAFF_ROLES
    write_roles = EDITORS
    # An attendance list is nested: JSON only, where a form encoding would flatten it.
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[TrainingSession]:
        sessions = with_totals(training_sessions_visible_to(self.request.user))
        return self.with_attendance(sessions) if self.action == "retrieve" else sessions

    def get_serializer_class(self):
        return TrainingSessionDetailSerializer if self.action == "retrieve" else TrainingSessionSerializer

    @staticmethod
    def with_attendance(sessions: QuerySet[TrainingSession]) -> QuerySet[TrainingSession]:
        attendance = TrainingAttendance.objects.select_related("enterprise").order_by("enterprise__name", "pk")
        return sessions.prefetch_related(Prefetch("attendances", queryset=attendance))

    @extend_schema(request=TrainingRecordSerializer, responses={201: TrainingSessionDetailSerializer})
    def create(self, request):
        """Record a session held in the caller's jurisdiction with its attendance, all at once: a bad
        row answers 400 with its message under `attendances` and nothing is recorded."""
        serializer = TrainingRecordSerializer(data=request.data, user=request.user)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            session = services.training_record(user=request.user, **serializer.validated_data)
        sessions = self.with_attendance(with_totals(training_sessions_visible_to(request.user)))
        return self.created(self.output(TrainingSessionDetailSerializer, get_object_or_404(sessions, pk=session.pk)))

    @extend_schema(responses=AuditEntrySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def audit(self, request, pk=None):
        """Every recorded change to the session, newest first."""
        return audit_output(request, self.get_object())
