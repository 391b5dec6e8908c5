"""/api/notifications/: the caller's own notifications (anyone else's answer 404), the unread
count, marking read, and /api/notifications/preferences/."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.access import ALL_ROLES, RolePermission
from portal.api.views import RegistryViewSet, service_errors
from portal.notifications import services
from portal.notifications.filters import NotificationFilterSet
from portal.notifications.kinds import KIND_CHOICES, KINDS
from portal.notifications.models import Notification, NotificationPreference
from portal.notifications.selectors import notifications_visible_to, unread_count


class NotificationSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "object_type", "object_id", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_unread(self, notification: Notification) -> bool:
        return notification.read_at is None


UnreadCountSerializer = inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})
MarkedSerializer = inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, RegistryViewSet):
    """The caller's notifications, newest first; filter by `kind` and `unread`."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    def get_queryset(self):
        return notifications_visible_to(self.request.user)

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": unread_count(request.user)})

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        with service_errors():
            services.notification_open(user=request.user, notification=notification)
        return Response(self.output(NotificationSerializer, notification))

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


class PreferenceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    label = serializers.CharField(read_only=True)
    email = serializers.ChoiceField(choices=NotificationPreference.Email.choices)


class PreferencesInputSerializer(serializers.Serializer):
    preferences = PreferenceSerializer(many=True)


class PreferencesView(APIView):
    """The caller's choice per kind: `off` (only in the portal), `instant` or `digest` email."""

    permission_classes = [RolePermission]
    read_roles = ALL_ROLES
    write_roles = ALL_ROLES

    def listing(self, user):
        return [{"kind": name, "label": str(KINDS[name].label), "email": email}
                for name, email in services.preferences_of(user).items()]

    @extend_schema(responses=PreferenceSerializer(many=True))
    def get(self, request):
        return Response(self.listing(request.user))

    @extend_schema(request=PreferencesInputSerializer, responses=PreferenceSerializer(many=True))
    def put(self, request):
        data = PreferencesInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choices = {row["kind"]: row["email"] for row in data.validated_data["preferences"]}
        with service_errors():
            services.preferences_set(user=request.user, choices=choices)
        return Response(self.listing(request.user))
