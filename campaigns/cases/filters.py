"""The filters of the case and visit lists, shared by the pages and the API.

Model-level only: which rows a user may see is the selectors' job (cases_visible_to,
visits_visible_to); these narrow what the selector returned."""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from campaigns.cases.models import AssistanceCase, CaseAssignment, Visit
from campaigns.cases.selectors import overdue_q, stale_q
from enterprises import search
from portal.filters import RegionPrefixFilter, id_filter

Status = AssistanceCase.Status


class CaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Title, enterprise or credit code"), method="search")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=Status.choices)
    campaign = id_filter(_("Campaign"), "campaign_id")
    region = RegionPrefixFilter(label=_("Region code"), field_name="enterprise__region")
    enterprise = id_filter(_("Enterprise"), "enterprise_id")
    lead = id_filter(_("Lead regulator"), "lead_id")
    expert = id_filter(_("Assigned expert"), "expert", method="by_expert")
    overdue = django_filters.BooleanFilter(label=_("Follow-up overdue"), method="by_overdue")
    stale = django_filters.BooleanFilter(label=_("No visit for 30 days"), method="by_stale")

    class Meta:
        model = AssistanceCase
        fields = ["q", "status", "campaign", "region", "enterprise", "lead", "expert", "overdue", "stale"]

    def search(self, queryset, name, value):
        # The registry's search over the case's firm (every word, any order), or the case title.
        return search.matching(queryset, value, "enterprise__search_text", also=["title"])

    def by_expert(self, queryset, name, value):
        assigned = CaseAssignment.objects.filter(case=OuterRef("pk"), expert_id=value, active=True)
        return queryset.filter(Exists(assigned))

    def by_overdue(self, queryset, name, value):
        return queryset.filter(overdue_q()) if value else queryset.exclude(overdue_q())

    def by_stale(self, queryset, name, value):
        return queryset.filter(stale_q()) if value else queryset.exclude(stale_q())


class VisitFilterSet(django_filters.FilterSet):
    # Never searches the internal remark: SME users read this list too.
    q = django_filters.CharFilter(label=_("Case, enterprise or findings"), method="search")
    case = id_filter(_("Case"), "case_id")
    campaign = id_filter(_("Campaign"), "case__campaign_id")
    mode = django_filters.MultipleChoiceFilter(label=_("Mode"), choices=Visit.Mode.choices)
    visited_after = django_filters.DateFilter(label=_("Visited on or after"), field_name="visited_on",
                                              lookup_expr="gte")
    visited_before = django_filters.DateFilter(label=_("Visited on or before"), field_name="visited_on",
                                               lookup_expr="lte")
    region = RegionPrefixFilter(label=_("Region code"), field_name="case__enterprise__region")
    logged_by = id_filter(_("Logged by"), "logged_by_id")

    class Meta:
        model = Visit
        fields = ["q", "case", "campaign", "mode", "visited_after", "visited_before", "region", "logged_by"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(case__title__icontains=value)
            | Q(case__enterprise__name__icontains=value)
            | Q(problems_found__icontains=value)
            | Q(actions_recommended__icontains=value)
        )
