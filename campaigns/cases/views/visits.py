"""Visit pages: logging a visit from a phone, the list, a visit's page, editing, and its files."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import ListView

from campaigns.cases import services
from campaigns.cases.filters import VisitFilterSet
from campaigns.cases.forms import VisitForm
from campaigns.cases.models import Visit, VisitAttachment
from campaigns.cases.selectors import may_edit_visit, may_work_on_case, shows_internal_remarks, visits_visible_to
from campaigns.cases.views.cases import differences, visible_case
from campaigns.selectors import campaigns_visible_to
from portal.access import ALL_ROLES, PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page
from portal.audit import audit_entries_for, with_rows
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.models import User


@login_required
@idempotent_post
def visit_new(request, pk: int):
    """Log a visit on a case: the bureau of the firm's region or an expert assigned to the case."""
    user = request.user
    case = visible_case(user, pk)
    if not may_work_on_case(user, case):
        raise PermissionDenied
    if case.is_closed:
        messages.info(request, _("Visits cannot be logged on a closed case."))
        return redirect("cases:detail", pk=case.pk)
    form = VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_log(user=user, case=case, attachments=form.cleaned_data["attachments"],
                               **form.visit_fields())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Visit logged."))
            return redirect("cases:detail", pk=case.pk)
    return render(request, "campaigns/visit_form.html", {"form": form, "case": case, "title": _("Log a visit")})


class VisitListView(RoleRequiredMixin, ListView):
    """The visits the user may see, newest first."""

    template_name = "campaigns/visit_list.html"
    read_roles = ALL_ROLES

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        self.filterset = VisitFilterSet(self.request.GET, queryset=visits_visible_to(self.request.user))
        # A subquery per row shown, not a join grouped over every visit in the jurisdiction.
        files = (VisitAttachment.objects.filter(visit=OuterRef("pk")).order_by().values("visit")
                 .annotate(n=Count("pk")).values("n"))
        return (self.filterset.qs.select_related("case__campaign")
                .annotate(file_count=Coalesce(Subquery(files, output_field=IntegerField()), 0))
                .order_by("-visited_on", "-id"))

    def get_context_data(self, **kwargs):
        user = self.request.user
        staff = has_role(user, STAFF_ROLES)
        context = {"filterset": self.filterset, "page_sizes": PAGE_SIZES, "staff": staff, "modes": Visit.Mode.choices,
                   "case_filter": self.filterset.form.cleaned_data.get("case") if self.filterset.is_valid() else None}
        if staff:
            context["campaigns"] = campaigns_visible_to(user).order_by("-starts_on", "name")
            context["loggers"] = (User.objects.filter(pk__in=visits_visible_to(user).order_by()
                                                      .values("logged_by_id").distinct())
                                  .order_by("full_name", "username"))
        return super().get_context_data(**context, **kwargs)


@login_required
def visit_detail(request, pk: int):
    user = request.user
    visit = get_object_or_404(visits_visible_to(user).select_related("case__campaign").prefetch_related("attachments"),
                              pk=pk)
    audit = with_rows(audit_entries_for(user, visit)) if has_role(user, STAFF_ROLES) else None
    return render(request, "campaigns/visit_detail.html", {
        "visit": visit, "case": visit.case, "show_remarks": shows_internal_remarks(user),
        "can_edit": may_edit_visit(user, visit), "audit_entries": audit,
    })


@login_required
def visit_edit(request, pk: int):
    """Edit a visit; its audit entries keep every earlier value. A stale form is refused, not merged."""
    user = request.user
    visit = get_object_or_404(visits_visible_to(user), pk=pk)
    if not may_edit_visit(user, visit):
        raise PermissionDenied
    form = VisitForm(request.POST or None, request.FILES or None, instance=visit)
    saved_meanwhile = []
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_update(user=user, visit=visit, version=form.cleaned_data["version"],
                                  attachments=form.cleaned_data["attachments"], **form.visit_fields())
        except ValidationError as error:
            if getattr(error, "code", None) == "conflict":
                saved_meanwhile = differences(form, Visit.objects.get(pk=visit.pk), form.Meta.fields)
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("visits:detail", pk=visit.pk)
    return render(request, "campaigns/visit_form.html", {
        "form": form, "case": visit.case, "visit": visit, "title": _("Edit the visit"),
        "saved_meanwhile": saved_meanwhile,
    })


@login_required
def attachment_download(request, pk: int):
    """Served only to those who may see the visit, never from a public folder. Photos open in the
    browser (for the thumbnails on the case page); documents download."""
    attachment = get_object_or_404(VisitAttachment.objects.filter(visit__in=visits_visible_to(request.user)), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    inline = attachment.is_photo and "download" not in request.GET
    return FileResponse(handle, as_attachment=not inline, filename=attachment.original_name)
