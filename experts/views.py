"""Pages of the expert pool (专家库): staff read it, regulators keep their pools, experts see themselves."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import ListView

from experts import importing, services
from experts.filters import ExpertFilterSet
from experts.forms import ExpertForm, ExpertImportForm
from experts.hooks import expert_page
from experts.selectors import experts_visible_to, with_record
from portal.access import PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page, require_roles
from portal.audit import audit_entries_for, with_rows
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.imports.reading import MAX_BYTES
from portal.models import User

Role = User.Role
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})
DETAIL_READERS = frozenset({*STAFF_ROLES, Role.EXPERT})
PROBLEMS_SHOWN = 500


class ExpertListView(RoleRequiredMixin, ListView):
    """The experts the user may see, with the filters the API shares, their load and satisfaction."""

    template_name = "experts/expert_list.html"
    read_roles = STAFF_ROLES

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        visible = with_record(experts_visible_to(self.request.user))
        self.filterset = ExpertFilterSet(self.request.GET, queryset=visible)
        return self.filterset.qs.prefetch_related("specialties", "regions_served")

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(
            filterset=self.filterset, query=query.urlencode(), page_sizes=PAGE_SIZES,
            can_edit=has_role(self.request.user, EDITORS), **kwargs,
        )


@login_required
@require_GET
def expert_detail(request, pk: int):
    """Profile, record and cases of one expert; the audit trail for staff."""
    user = request.user
    require_roles(user, DETAIL_READERS)
    expert = get_object_or_404(
        with_record(experts_visible_to(user)).select_related("user").prefetch_related("specialties",
                                                                                       "regions_served"),
        pk=pk,
    )
    entries = []
    if has_role(user, STAFF_ROLES):
        entries = with_rows(audit_entries_for(user, expert)[:50])
    return render(request, "experts/expert_detail.html", {
        "expert": expert,
        **expert_page(user, expert),  # the cases they carry and their ratings (campaigns/cases/hooks.py)
        "entries": entries,
        "show_audit": has_role(user, STAFF_ROLES),
        "can_edit": services.may_keep_pool(user, expert.region),
    })


@login_required
@require_http_methods(["GET", "POST"])
@idempotent_post
def expert_new(request):
    require_roles(request.user, EDITORS)
    form = ExpertForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            expert = services.expert_create(user=request.user, specialties=data["specialties"],
                                            regions_served=data["regions_served"], **data["fields"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s is now in the expert pool.") % {"name": expert.name})
            return redirect("experts:detail", pk=expert.pk)
    return render(request, "experts/expert_form.html", {"form": form, "title": _("Add an expert")})


@login_required
@require_http_methods(["GET", "POST"])
def expert_edit(request, pk: int):
    require_roles(request.user, EDITORS)
    expert = get_object_or_404(experts_visible_to(request.user), pk=pk)
    if not services.may_keep_pool(request.user, expert.region):
        raise PermissionDenied  # visible (it serves the jurisdiction) but kept by another pool
    title = _("Edit %(name)s") % {"name": expert.name}
    form = ExpertForm(request.POST or None, instance=expert, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
        try:
            services.expert_update(user=request.user, expert=expert, specialties=data["specialties"],
                                   regions_served=data["regions_served"], **data["fields"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("experts:detail", pk=expert.pk)
    return render(request, "experts/expert_form.html", {"form": form, "title": title, "expert_pk": pk})


@login_required
@require_http_methods(["GET", "POST"])
@idempotent_post
def expert_import(request):
    """Upload a pool list and get, at once, the report or the counts; GET ?template=csv downloads
    an empty list with the headers."""
    require_roles(request.user, importing.IMPORTERS)
    if request.method == "GET" and request.GET.get("template") == "csv":
        response = HttpResponse(importing.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, "专家库导入模板.csv")
        return response
    form = ExpertImportForm(request.POST, request.FILES) if request.method == "POST" else ExpertImportForm()
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = importing.expert_import(user=request.user, upload=form.cleaned_data["file"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not report.problems:
                messages.success(request, _(
                    "Import of %(file)s finished: %(created)d experts added, %(updated)d updated, %(unchanged)d "
                    "unchanged.") % {"file": report.file_name, "created": report.created, "updated": report.updated,
                                     "unchanged": report.unchanged})
                if report.ignored_columns:
                    messages.warning(request, _("These columns are not known to the import and were not read: "
                                                "%(columns)s") % {"columns": "、".join(report.ignored_columns)})
                return redirect("experts:list")
    problems = report.problem_rows()[:PROBLEMS_SHOWN] if report else []
    return render(request, "experts/import_form.html", {
        "form": form, "report": report, "problems": problems,
        "columns": importing.COLUMNS, "max_rows": importing.MAX_ROWS, "max_mb": MAX_BYTES // (1024 * 1024),
        "kind_hint": importing.EMPLOYER_KIND_HINT,
    })
