"""Pages that move enterprise lists in and out of the registry: bulk import and export."""

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from enterprises import exporting, importing
from enterprises.filters import EnterpriseFilterSet
from enterprises.models import ImportJob
from enterprises.selectors import enterprises_visible_to, import_jobs_visible_to
from portal.access import STAFF_ROLES, require_roles
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.models import User

Role = User.Role
IMPORTERS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})
PROBLEMS_PER_PAGE = 50
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATUS_STYLES = {
    ImportJob.Status.VALIDATING: "info", ImportJob.Status.IMPORTING: "info", ImportJob.Status.INVALID: "warning",
    ImportJob.Status.DONE: "success", ImportJob.Status.FAILED: "danger", ImportJob.Status.CANCELLED: "secondary",
}


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Enterprise list (.csv or .xlsx)"),
        help_text=gettext_lazy("At most 20 MB and 200,000 rows; the first row holds the column headers."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
        error_messages={"required": gettext_lazy("Choose a file to import.")},
    )


def progress_context(job: ImportJob) -> dict:
    if job.status == ImportJob.Status.DONE:
        percent = 100
    elif job.total_rows:
        # total_rows is an estimate until the check has read the whole file.
        percent = min(int(job.processed_rows * 100 / job.total_rows), 99 if job.is_running else 100)
    else:
        percent = 0
    return {"job": job, "percent": percent, "status_style": STATUS_STYLES.get(job.status, "secondary")}


@login_required
@require_http_methods(["GET", "POST"])
@idempotent_post
def import_upload(request):
    """Upload a list; GET ?template=csv downloads an empty list with the headers."""
    require_roles(request.user, IMPORTERS)
    if request.method == "GET" and request.GET.get("template") == "csv":
        response = HttpResponse(importing.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, "企业名录导入模板.csv")
        return response
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if request.method == "POST" and form.is_valid():
        try:
            job = importing.import_job_create(user=request.user, upload=form.cleaned_data["file"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("enterprises:import-detail", pk=job.pk)
    recent = [progress_context(job) for job in import_jobs_visible_to(request.user)[:10]]
    return render(request, "enterprises/import_form.html", {
        "form": form, "recent": recent, "columns": importing.COLUMNS,
        "max_rows": importing.MAX_ROWS, "max_mb": importing.MAX_BYTES // (1024 * 1024),
    })


@login_required
@require_http_methods(["GET", "POST"])
def import_detail(request, pk: int):
    """Progress while it runs, then the report; POST action=import_valid_rows or action=cancel."""
    require_roles(request.user, IMPORTERS)
    job = get_object_or_404(import_jobs_visible_to(request.user), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "import_valid_rows":
                job = importing.import_job_import_valid_rows(user=request.user, job=job)
                messages.success(request, _("Importing the %(count)d good rows.") % {"count": job.valid_rows})
            elif action == "cancel":
                importing.import_job_cancel(user=request.user, job=job)
                messages.info(request, _("The import of %(name)s was discarded; nothing was imported.")
                              % {"name": job.original_name})
                return redirect("enterprises:import")
            else:
                messages.error(request, _("Choose whether to import the good rows or to discard the file."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("enterprises:import-detail", pk=job.pk)

    paginator = Paginator(job.errors or [], PROBLEMS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    problems = [
        {"line": problem.get("line"), "column": problem.get("column", ""),
         "message": importing.problem_message(problem)}
        for problem in page.object_list
    ]
    return render(request, "enterprises/import_detail.html", {
        **progress_context(job),
        "problems": problems, "page_obj": page, "paginator": paginator,
        "capped": job.error_count > len(job.errors or []),
        "failure": importing.problem_message(job.failure) if job.failure else "",
    })


@login_required
@require_GET
def import_progress(request, pk: int):
    """The progress fragment that the detail page polls every 2 s while the job runs."""
    require_roles(request.user, IMPORTERS)
    job = get_object_or_404(import_jobs_visible_to(request.user), pk=pk)
    response = render(request, "enterprises/_import_progress.html", progress_context(job))
    if request.htmx and not job.is_running:
        response["HX-Refresh"] = "true"  # the report and its buttons come with the full page
    return response


@login_required
@require_GET
def registry_export(request, fmt: str):
    """The registry list as filtered on the page (same GET parameters), as CSV or XLSX."""
    require_roles(request.user, STAFF_ROLES)
    if fmt not in ("csv", "xlsx"):
        raise Http404
    filterset = EnterpriseFilterSet(request.GET, queryset=enterprises_visible_to(request.user), request=request)
    if not filterset.is_valid():
        problems = [f"{filterset.form.fields[name].label}: {' '.join(errors)}" if name in filterset.form.fields
                    else " ".join(errors) for name, errors in filterset.errors.items()]
        messages.error(request, _("The export was not made: %(problems)s") % {"problems": "; ".join(problems)})
        return redirect(reverse("enterprises:list") + "?" + request.GET.urlencode())
    enterprises = filterset.qs
    filename = f"企业名录-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = StreamingHttpResponse(exporting.csv_chunks(enterprises), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, filename)
    else:
        spool = tempfile.TemporaryFile()
        exporting.write_xlsx(enterprises, spool)
        spool.seek(0)
        response = FileResponse(spool, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
    response["Cache-Control"] = "private, no-store"  # contact details of firms
    return response
