"""The inbox's filters, shared by the page and /api/notifications/."""

import django_filters
from django.utils.translation import gettext_lazy as _

from portal.notifications.kinds import KINDS
from portal.notifications.models import Notification


def kind_choices():
    return [(kind.name, kind.label) for kind in KINDS.values()]


class NotificationFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=kind_choices)
    unread = django_filters.BooleanFilter(label=_("Unread only"), field_name="read_at", lookup_expr="isnull")

    class Meta:
        model = Notification
        fields = ["kind", "unread"]
