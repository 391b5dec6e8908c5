"""Dashboard pages: the campaigns a user may read, a campaign's dashboard at a region, exports."""

import io

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET
from django.views.generic import ListView

from campaigns.kpis import dashboards, exports
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to
from portal.access import PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, per_page, require_roles
from portal.models import User

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILENAME_FORBIDDEN = str.maketrans({c: "_" for c in '\\/:*?"<>|'})


class DashboardIndexView(RoleRequiredMixin, ListView):
    """The campaigns the user may read, each with when its figures were last computed."""

    template_name = "campaigns/dashboard_index.html"
    read_roles = STAFF_ROLES

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        computed_at = KpiSnapshot.objects.filter(campaign=OuterRef("pk")).order_by().values("computed_at")[:1]
        # region__parent__parent: the jurisdiction's full name without a query per row.
        return (campaigns_visible_to(self.request.user).select_related("region__parent__parent")
                .annotate(computed_at=Subquery(computed_at)))

    def get_context_data(self, **kwargs):
        return super().get_context_data(page_sizes=PAGE_SIZES, **kwargs)


def visible_dashboard(user: User, pk: int, code: str | None, rank_by: str | None = None) -> dashboards.Dashboard:
    """403 for a role that does not read dashboards, 404 for a campaign or region out of reach."""
    require_roles(user, STAFF_ROLES)
    campaign = get_object_or_404(campaigns_visible_to(user), pk=pk)
    return dashboards.dashboard_for(user=user, campaign=campaign, code=code, rank_by=rank_by)


@login_required
@require_GET
def campaign_dashboard(request, pk: int):
    dashboard = visible_dashboard(request.user, pk, request.GET.get("region"), request.GET.get("rank_by"))
    region = dashboard.region.code
    if dashboard.rank_by != dashboards.DEFAULT_RANK_BY:  # the export ranks the regions as the page does
        region += f"&rank_by={dashboard.rank_by}"
    return render(request, "campaigns/dashboard.html", {
        "dashboard": dashboard,
        "campaign": dashboard.campaign,
        "charts": dashboards.chart_data(dashboard),
        "ranked": [(figure, figure.name in dashboards.PHONE_COLUMNS) for figure in dashboards.RANKED],
        "rankable": dashboards.RANKABLE.values(),
        "target_columns": dashboard.target_columns(),
        "target_matrix": dashboard.target_matrix(),
        "export_csv": f"{reverse('dashboards:export', args=[pk, 'csv'])}?region={region}",
        "export_xlsx": f"{reverse('dashboards:export', args=[pk, 'xlsx'])}?region={region}",
    })


@login_required
@require_GET
def dashboard_export(request, pk: int, fmt: str):
    if fmt not in ("csv", "xlsx"):
        raise Http404
    dashboard = visible_dashboard(request.user, pk, request.GET.get("region"), request.GET.get("rank_by"))
    name = export_name(dashboard.campaign, dashboard.region.name, fmt)
    if fmt == "csv":
        response = HttpResponse(exports.write_csv(dashboard), content_type="text/csv; charset=utf-8")
    else:
        buffer = io.BytesIO()
        exports.write_xlsx(dashboard, buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def export_name(campaign: Campaign, region_name: str, fmt: str) -> str:
    stem = f"{campaign.name}_{region_name}_{timezone.localdate():%Y%m%d}".translate(FILENAME_FORBIDDEN)
    return f"{stem.lstrip('.')}.{fmt}"
