"""The campaign list's filters and figures, shared by the page (campaigns:list) and the API.

Which campaigns a user may see is campaigns.selectors.campaigns_visible_to; this narrows it and
adds what each row shows: whether it is upcoming, running or ended, and how many of its cases and
training sessions the user may see, each as a subquery so a page costs the same at any size."""

import django_filters
from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.cases.selectors import cases_visible_to
from campaigns.models import Campaign, CampaignTarget
from campaigns.training.selectors import training_sessions_visible_to
from portal.filters import IdFilter, RegionPrefixFilter
from portal.models import User, enclosing_codes


class PeriodStatus:
    UPCOMING = "upcoming"
    RUNNING = "running"
    ENDED = "ended"
    choices = [(UPCOMING, _("Upcoming")), (RUNNING, _("Running")), (ENDED, _("Ended"))]


def period_q(status: str, day=None) -> Q:
    """Campaigns that on `day` (today by default) have not started, are running, or have ended."""
    day = day or timezone.localdate()
    return {
        PeriodStatus.UPCOMING: Q(starts_on__gt=day),
        PeriodStatus.RUNNING: Q(starts_on__lte=day, ends_on__gte=day),
        PeriodStatus.ENDED: Q(ends_on__lt=day),
    }[status]


def count_of(rows: QuerySet) -> Coalesce:
    """How many of `rows` (already tied to the campaign by OuterRef) there are, 0 when none."""
    counted = rows.order_by().values("campaign").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def with_figures(campaigns: QuerySet[Campaign], user: User) -> QuerySet[Campaign]:
    """`period_status`, `cases_count` and `training_sessions_count` on each campaign.

    The counts are of what `user` may see: a city's regulator reading a province campaign counts
    the city's cases and sessions, which are what the links to those lists show.
    """
    day = timezone.localdate()
    return campaigns.annotate(
        period_status=Case(
            When(period_q(PeriodStatus.UPCOMING, day), then=Value(PeriodStatus.UPCOMING)),
            When(period_q(PeriodStatus.ENDED, day), then=Value(PeriodStatus.ENDED)),
            default=Value(PeriodStatus.RUNNING), output_field=CharField(),
        ),
        cases_count=count_of(cases_visible_to(user).filter(campaign=OuterRef("pk"))),
        training_sessions_count=count_of(training_sessions_visible_to(user).filter(campaign=OuterRef("pk"))),
    )


def with_targets(campaigns: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """The campaigns' service areas and targets, in two queries for the whole page."""
    targets = CampaignTarget.objects.select_related("region", "base_campaign").order_by("metric", "scope", "region_id")
    return campaigns.prefetch_related("service_areas", Prefetch("targets", queryset=targets))


class CampaignFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name, theme or organiser"), method="search")
    region = RegionPrefixFilter(label=_("Jurisdiction inside region"), field_name="region")
    covers = django_filters.CharFilter(label=_("Covers region"), method="by_covered_region",
                                       help_text=_("A 6-digit region code: campaigns whose jurisdiction includes it."))
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=PeriodStatus.choices,
                                                 method="by_status")
    running = django_filters.BooleanFilter(label=_("Running today"), method="by_running")
    active_on = django_filters.DateFilter(label=_("Running on"), method="by_active_on",
                                          help_text=_("Campaigns whose period includes this date."))
    # A service area's number is a small integer: bounded so a huge one is a form error, not a crash.
    service_area = IdFilter(label=_("Service area in scope"), field_name="service_areas", min_value=1,
                            max_value=32767)

    class Meta:
        model = Campaign
        fields = ["q", "region", "covers", "status", "running", "active_on", "service_area"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(theme__icontains=value) | Q(organiser__icontains=value))

    def by_covered_region(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if not value.isdigit() or len(value) != 6:
            return queryset.none()
        return queryset.filter(region_id__in=enclosing_codes(value))

    def by_status(self, queryset, name, value):
        if not value:
            return queryset
        wanted = Q()
        for status in value:
            wanted |= period_q(status)
        return queryset.filter(wanted)

    def by_running(self, queryset, name, value):
        running = period_q(PeriodStatus.RUNNING)
        return queryset.filter(running) if value else queryset.exclude(running)

    def by_active_on(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)
