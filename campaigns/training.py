"""Reads of training sessions (质量培训): who may see which, their totals, the list filters, and
finding the attending firms by credit code for the form, the sign-in sheet import and the API.

Writes go through campaigns.services.training_record.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

import django_filters
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from campaigns.filters import id_filter
from campaigns.models import Campaign, TrainingAttendance, TrainingSession
from campaigns.selectors import campaigns_visible_to
from enterprises.models import Enterprise
from enterprises.selectors import enterprises_visible_to
from enterprises.uscc import normalise
from portal.filters import RegionPrefixFilter
from portal.models import ServiceArea, User
from portal.selectors import jurisdiction_prefix, region_code_q

# Credit codes looked up per query: keeps every IN (...) list well inside SQLite's parameter limit.
LOOKUP_CHUNK = 500


def training_sessions_visible_to(user: User) -> QuerySet[TrainingSession]:
    """Regulators and supervisors: sessions held in their jurisdiction; administrators: all;
    SME users and experts: none (the pages and the API refuse them by role first)."""
    sessions = TrainingSession.objects.select_related("campaign", "region", "service_area", "recorded_by")
    if jurisdiction_prefix(user) is None:
        return sessions.none()
    return sessions.filter(region_code_q(user, "region"))


def with_totals(sessions: QuerySet[TrainingSession]) -> QuerySet[TrainingSession]:
    """`firm_times` (attending firms) and `person_times` (their persons) on each session.

    Correlated subqueries rather than a join grouped by session: the database aggregates the
    attendance of the rows it returns (one page), not of every session in the jurisdiction,
    and the page's COUNT needs no grouping at all.
    """
    attendance = TrainingAttendance.objects.filter(session=OuterRef("pk")).order_by().values("session")
    firms = attendance.annotate(n=Count("pk")).values("n")
    persons = attendance.annotate(n=Sum("persons")).values("n")
    return sessions.annotate(
        firm_times=Coalesce(Subquery(firms, output_field=IntegerField()), 0),
        person_times=Coalesce(Subquery(persons, output_field=IntegerField()), 0),
    )


def campaigns_for_training(user: User) -> QuerySet[Campaign]:
    """Campaigns a user may record a session for: those of their jurisdiction, those above it
    (covering it) and those inside it, which its regulators run as well. Whether the session's
    region lies inside the chosen campaign is the model's check (TrainingSession.clean)."""
    return campaigns_visible_to(user).order_by("-starts_on", "name")


class TrainingFilterSet(django_filters.FilterSet):
    """The filters of the training list, shared by the page and /api/training-sessions/."""

    q = django_filters.CharFilter(label=_("Topic, organiser or place"), method="search")
    campaign = id_filter(_("Campaign"), "campaign_id")
    region = RegionPrefixFilter(label=_("Region code"), field_name="region")
    mode = django_filters.MultipleChoiceFilter(label=_("Mode"), choices=TrainingSession.Mode.choices)
    service_area = django_filters.ModelChoiceFilter(label=_("Service area"), queryset=ServiceArea.objects.all())
    held_after = django_filters.DateFilter(label=_("Held on or after"), field_name="held_on", lookup_expr="gte")
    held_before = django_filters.DateFilter(label=_("Held on or before"), field_name="held_on", lookup_expr="lte")
    enterprise = id_filter(_("Attended by enterprise"), "enterprise", method="by_enterprise")

    class Meta:
        model = TrainingSession
        fields = ["q", "campaign", "region", "mode", "service_area", "held_after", "held_before", "enterprise"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(topic__icontains=value) | Q(organiser__icontains=value) | Q(place__icontains=value))

    def by_enterprise(self, queryset, name, value):
        attended = TrainingAttendance.objects.filter(session=OuterRef("pk"), enterprise_id=value)
        return queryset.filter(Exists(attended))


@dataclass
class FirmLookup:
    """Credit codes sorted into the firms the user may name and the codes they may not."""

    visible: dict[str, Enterprise] = field(default_factory=dict)
    outside: set[str] = field(default_factory=set)  # registered, outside the user's jurisdiction

    def unknown(self, code: str) -> bool:
        return code not in self.visible and code not in self.outside


def firms_by_code(user: User, codes: Iterable[str]) -> FirmLookup:
    """Look up normalised credit codes: two queries per 500 codes, never one per row."""
    codes = list(dict.fromkeys(normalise(code) for code in codes if code))
    lookup = FirmLookup()
    for start in range(0, len(codes), LOOKUP_CHUNK):
        chunk = codes[start:start + LOOKUP_CHUNK]
        found = {firm.uscc: firm for firm in enterprises_visible_to(user).filter(uscc__in=chunk)}
        lookup.visible.update(found)
        missing = [code for code in chunk if code not in found]
        if missing:
            lookup.outside.update(Enterprise.objects.filter(uscc__in=missing).values_list("uscc", flat=True))
    return lookup
