"""The inbox's filters, shared by the page and /api/notifications/."""

import django_filters
from django.utils.translation import gettext_lazy as _

from portal.notifications.kinds import KIND_CHOICES
from portal.notifications.models import Notification


class NotificationFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=KIND_CHOICES)
    unread = django_filters.BooleanFilter(label=_("Unread only"), field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["kind", "unread"]
