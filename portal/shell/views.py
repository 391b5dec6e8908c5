"""The home page of each role and the region browser: the pages that read from every app."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView, ListView

from campaigns.cases.selectors import cases_awaiting_rating, cases_visible_to, overdue_follow_ups, stale_cases
from enterprises.models import Enterprise
from enterprises.selectors import claims_visible_to, enterprise_counts_by_child, needs_visible_to
from portal.access import RoleRequiredMixin
from portal.filters import RegionFilterSet
from portal.models import Industry, Region, ServiceArea, Specialty, User, WorkerHeartbeat
from portal.selectors import (
    region_code_q,
    region_json,
    region_search,
    regions_below,
    regions_pickable_by,
    regions_visible_to,
)

Role = User.Role
HOME_ROWS = 10


def attention_lists(user: User) -> dict:
    """What needs a visit: follow-ups past their date, and open cases without a visit for 30 days."""
    overdue, stale = overdue_follow_ups(user), stale_cases(user)
    return {
        "overdue": overdue[:HOME_ROWS], "overdue_count": overdue.count(),
        "stale": stale[:HOME_ROWS], "stale_count": stale.count(),
    }


@login_required
def home(request):
    """Each role lands on its own page."""
    user = request.user
    role = user.effective_role
    context = {"role": role}
    if role in (Role.REGULATOR, Role.SUPERVISOR):
        jurisdiction = user.region
        context["jurisdiction"] = jurisdiction
        context["subregions"] = enterprise_counts_by_child(
            jurisdiction, regions_visible_to(user).filter(parent=jurisdiction).order_by("code")
        )
        context["enterprise_count"] = Enterprise.objects.filter(region_code_q(user)).count()
        context.update(attention_lists(user))
        if role == Role.REGULATOR:
            context["my_cases"] = cases_visible_to(user).filter(lead=user).exclude(status="closed")[:HOME_ROWS]
    elif role == Role.ADMINISTRATOR:
        context["reference_counts"] = [
            (Region._meta.verbose_name_plural, Region.objects.count()),
            (Industry._meta.verbose_name_plural, Industry.objects.count()),
            (ServiceArea._meta.verbose_name_plural, ServiceArea.objects.count()),
            (Specialty._meta.verbose_name_plural, Specialty.objects.count()),
        ]
        context["users_by_role"] = [
            (Role(row["role"]).label, row["n"])
            for row in User.objects.values("role").annotate(n=Count("pk")).order_by("role")
        ]
        context["heartbeat"] = WorkerHeartbeat.objects.filter(name="worker").first()
    elif role == Role.SME:
        context["enterprises"] = user.enterprises.select_related("region__parent__parent", "industry")
        context["recent_needs"] = needs_visible_to(user).order_by("-submitted_at")[:5]
        context["pending_claims"] = claims_visible_to(user).filter(status="pending")
        context["cases"] = cases_visible_to(user).order_by("-opened_at")[:HOME_ROWS]
        context["awaiting_rating"] = cases_awaiting_rating(user)
    elif role == Role.EXPERT:
        context["expert"] = getattr(user, "expert_profile", None)
        context["cases"] = (cases_visible_to(user).filter(assignments__expert__user=user, assignments__active=True)
                            .order_by("next_follow_up_on", "-opened_at").distinct()[:HOME_ROWS])
        context.update(attention_lists(user))
    return render(request, f"portal/home_{role}.html", context)


class RegionListView(RoleRequiredMixin, ListView):
    """The regions of the user's jurisdiction, searchable."""

    template_name = "portal/region_list.html"
    paginate_by = 50

    def get_queryset(self):
        self.filterset = RegionFilterSet(self.request.GET, queryset=regions_visible_to(self.request.user))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(filterset=self.filterset, **kwargs)


class RegionDetailView(RoleRequiredMixin, DetailView):
    template_name = "portal/region_detail.html"
    context_object_name = "region"

    def get_object(self, queryset=None):
        return get_object_or_404(regions_visible_to(self.request.user), code=self.kwargs["code"])

    def get_context_data(self, **kwargs):
        region = self.object
        visible = regions_visible_to(self.request.user)
        return super().get_context_data(
            ancestors=[r for r in region.ancestors() if visible.filter(code=r.code).exists()],
            children=enterprise_counts_by_child(region, region.children.order_by("code")),
            enterprise_count=Enterprise.objects.filter(region__code__startswith=region.prefix).count(),
            **kwargs,
        )


@login_required
def region_lookup(request):
    """The region picker's JSON (static/portal/pickers.js): `?parent=CODE` lists the regions one level
    below (none given: the top of what the user may pick), `?q=TEXT` finds regions by name, code or
    pinyin. A parent outside what the user may pick answers 404."""
    user = request.user
    text = request.GET.get("q", "")[:40]
    parent = request.GET.get("parent", "").strip()
    if text.strip():
        regions = region_search(user, text)
    else:
        if parent and not regions_pickable_by(user).filter(code=parent[:6]).exists():
            raise Http404
        regions = regions_below(user, parent or None)
    return JsonResponse({"results": [region_json(region) for region in regions]})
