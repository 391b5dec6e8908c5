import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portal.security.models import SecurityEvent


class SecurityEventFilterSet(django_filters.FilterSet):
    """Filters of the administrators' security-event page."""

    q = django_filters.CharFilter(label=_("Account or address"), method="search")
    kind = django_filters.ChoiceFilter(label=_("Event"), choices=SecurityEvent.Kind.choices)
    since = django_filters.DateFilter(label=_("From"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("To"), field_name="at", lookup_expr="date__lte")

    class Meta:
        model = SecurityEvent
        fields = ["q", "kind", "since", "until"]

    def search(self, queryset, name, value):
        value = value.strip()[:150]
        if not value:
            return queryset
        looks_like_address = any(c.isdigit() for c in value) and all(c in "0123456789abcdef.:" for c in value.lower())
        if looks_like_address:
            return queryset.filter(Q(username__icontains=value) | Q(ip_address__startswith=value))
        return queryset.filter(username__icontains=value)
