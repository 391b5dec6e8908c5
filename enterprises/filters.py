"""One FilterSet per listed model, used by the HTML lists and the API alike."""

import django_filters
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enterprises import search
from enterprises.models import Certification, Enterprise, EnterpriseClaim, NeedRequest
from enterprises.selectors import enterprises_in
from portal.filters import RegionPrefixFilter
from portal.models import Industry, ServiceArea, code_prefix
from portal.selectors import EVERYWHERE, jurisdiction_prefix

BOOLEAN_CHOICES = [("true", _("Yes")), ("false", _("No"))]

# The registry's orders, each ending in id so that a row's place is unique (the keyset cursor,
# portal/pagination.py); each has an index per jurisdiction level (Enterprise.Meta.indexes).
SORTS = {
    "name": ("name", "id"),
    "-created": ("-created_at", "-id"),
    "region": ("region_id", "name", "id"),
}
SORT_CHOICES = [("name", _("Name")), ("-created", _("Newest first")), ("region", _("Region"))]


class EnterpriseRegionFilter(RegionPrefixFilter):
    """A region at any level, as an equality on the column of that level (see enterprises_in)."""

    def filter(self, qs, value):
        value = (value or "").strip()
        if not value:
            return qs
        if not value.isdigit() or len(value) != 6:
            return qs.none()
        return qs.filter(enterprises_in(code_prefix(value)))


class EnterpriseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search",
        help_text=_("Words of the name, credit code (any part), address, contact or region, in any order; "
                    "traditional characters and pinyin initials work too."))
    region = EnterpriseRegionFilter(label=_("Region code"), field_name="region")
    industry = django_filters.CharFilter(label=_("Industry (section letter or division code)"), method="by_industry")
    # No DISTINCT (django-filter's default for several values): the filter joins nothing, and
    # DISTINCT over every column made PostgreSQL sort a province's firms for one page.
    size = django_filters.MultipleChoiceFilter(label=_("Size class"), choices=Enterprise.Size.choices,
                                               distinct=False)
    is_key = django_filters.BooleanFilter(label=_("Key enterprise"))
    is_specialized = django_filters.BooleanFilter(label=_("Specialized and innovative"))
    is_exporter = django_filters.BooleanFilter(label=_("Exporter"))
    in_industrial_park = django_filters.BooleanFilter(label=_("In an industrial park"))
    certification = django_filters.ChoiceFilter(label=_("Holds certification"),
                                                choices=Certification.Scheme.choices, method="by_certification")
    has_open_needs = django_filters.BooleanFilter(label=_("Has open needs"))
    sort = django_filters.ChoiceFilter(label=_("Sort by"), choices=SORT_CHOICES, method="by_sort",
                                       empty_label=None)

    class Meta:
        model = Enterprise
        fields = ["q", "region", "industry", "size", "is_key", "is_specialized", "is_exporter",
                  "in_industrial_park", "certification", "has_open_needs", "sort"]

    @property
    def ordering(self) -> tuple[str, ...]:
        """The order of the filtered rows: the chosen sort, or by name."""
        chosen = self.form.cleaned_data.get("sort") if self.is_bound and self.is_valid() else None
        return SORTS.get(chosen or "name", SORTS["name"])

    @property
    def qs(self):
        return super().qs.order_by(*self.ordering)

    def search(self, queryset, name, value):
        return search.matching(queryset, value, implied=self.jurisdiction_names())

    def jurisdiction_names(self) -> list[str]:
        """The name of the region bounding the rows (the user's jurisdiction), read from the user's
        region the visibility selector loaded; none without a request or for the whole country."""
        user = getattr(self.request, "user", None)
        if user is None or not user.is_authenticated or jurisdiction_prefix(user) in (None, EVERYWHERE):
            return []
        return [user.region.name]

    @property
    def searching(self) -> bool:
        """Whether a search narrows the rows: the filter whose row count the planner cannot estimate."""
        return bool(self.is_bound and self.is_valid() and search.words(self.form.cleaned_data.get("q") or ""))

    def by_sort(self, queryset, name, value):
        return queryset  # applied by `qs`, also when no sort is given

    def by_industry(self, queryset, name, value):
        value = value.strip().upper()
        if not value:
            return queryset
        divisions = list(Industry.objects.filter(parent_id=value).values_list("code", flat=True))
        # A section filters by its division codes directly: no join the planner could misjudge.
        return queryset.filter(industry_id__in=divisions) if divisions else queryset.filter(industry_id=value)

    def by_certification(self, queryset, name, value):
        # The firm's own column (Certification keeps it), not a semi-join to every certificate of
        # the scheme: on PostgreSQL its partial GIN index finds the holders and counts them.
        if connection.vendor == "postgresql":
            return (queryset.exclude(certification_schemes="")
                    .alias(_schemes=search.PairArray("certification_schemes"))
                    .filter(_schemes__contains=[value]))
        return queryset.filter(Q(certification_schemes=value) | Q(certification_schemes__startswith=f"{value} ")
                               | Q(certification_schemes__endswith=f" {value}")
                               | Q(certification_schemes__contains=f" {value} "))


class NeedFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=NeedRequest.Status.choices)
    open = django_filters.BooleanFilter(label=_("Open"), method="by_open")
    service_area = django_filters.ModelChoiceFilter(label=_("Service area"), queryset=ServiceArea.objects.all())
    urgency = django_filters.MultipleChoiceFilter(label=_("Urgency"), choices=NeedRequest.Urgency.choices)
    region = RegionPrefixFilter(label=_("Region code"), field_name="enterprise__region")
    enterprise = django_filters.NumberFilter(label=_("Enterprise"), field_name="enterprise_id",
                                             min_value=1, max_value=2**63 - 1)
    submitted_after = django_filters.DateFilter(label=_("Submitted on or after"), field_name="submitted_at__date",
                                                lookup_expr="gte")
    submitted_before = django_filters.DateFilter(label=_("Submitted on or before"),
                                                 field_name="submitted_at__date", lookup_expr="lte")

    class Meta:
        model = NeedRequest
        fields = ["q", "status", "open", "service_area", "urgency", "region", "enterprise"]

    def search(self, queryset, name, value):
        return search.matching(queryset, value, "enterprise__search_text", also=["title"])

    def by_open(self, queryset, name, value):
        open_q = Q(status__in=NeedRequest.OPEN_STATUSES)
        return queryset.filter(open_q) if value else queryset.exclude(open_q)


class ClaimFilterSet(django_filters.FilterSet):
    """Claims by status and by the registry's search over the claimed firm."""

    q = django_filters.CharFilter(label=_("Enterprise"), method="search")
    status = django_filters.ChoiceFilter(label=_("Status"), choices=EnterpriseClaim.Status.choices)

    class Meta:
        model = EnterpriseClaim
        fields = ["q", "status"]

    def search(self, queryset, name, value):
        return search.matching(queryset, value, "enterprise__search_text")
