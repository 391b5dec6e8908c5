"""Pages of training sessions (质量培训): the list with its totals, recording a session with its
attendance by hand or from a sign-in sheet, and a session's page.

Staff of the jurisdiction read; regulators and administrators record. Every read starts from
campaigns.training.selectors.training_sessions_visible_to, every write is
campaigns.training.services.training_record."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.generic import ListView

from campaigns.training import importing as training_import
from campaigns.training import services
from campaigns.training.filters import TrainingFilterSet
from campaigns.training.forms import AttendanceFormSet, SheetForm, TrainingSessionForm
from campaigns.training.models import TrainingAttendance, TrainingSession
from campaigns.training.selectors import (
    campaigns_for_training,
    firms_by_code,
    training_sessions_visible_to,
    with_totals,
)
from enterprises import search
from enterprises.selectors import enterprises_visible_to
from enterprises.uscc import LENGTH as USCC_LENGTH
from enterprises.uscc import VALUES as USCC_CHARACTERS
from enterprises.uscc import normalise, validate_uscc
from portal.access import PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page, require_roles
from portal.audit import audit_entries_for, with_rows
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.imports.reading import MAX_BYTES
from portal.models import ServiceArea, User

Role = User.Role
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})
AUDIT_ROWS = 50
PROBLEMS_SHOWN = 500
FIRM_MATCHES = 5


class TrainingListView(RoleRequiredMixin, ListView):
    """Sessions held in the user's jurisdiction with their firm-times and person-times."""

    template_name = "campaigns/training_list.html"
    read_roles = STAFF_ROLES

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        self.filterset = TrainingFilterSet(self.request.GET, queryset=training_sessions_visible_to(self.request.user))
        return with_totals(self.filterset.qs)

    def get_context_data(self, **kwargs):
        user = self.request.user
        # The figures of every session the filters keep, not only of the page: one aggregate.
        totals = TrainingAttendance.objects.filter(session__in=self.filterset.qs.values("pk")).aggregate(
            firm_times=Count("pk"), person_times=Sum("persons"))
        return super().get_context_data(
            filterset=self.filterset, page_sizes=PAGE_SIZES, modes=TrainingSession.Mode.choices,
            campaigns=campaigns_for_training(user), service_areas=ServiceArea.objects.all(),
            totals={"firm_times": totals["firm_times"], "person_times": totals["person_times"] or 0},
            can_record=has_role(user, EDITORS), **kwargs,
        )


@login_required
@require_http_methods(["GET", "POST"])
@idempotent_post
def training_new(request):
    """Record a session with its attendance list: all of it at once, or nothing."""
    user = request.user
    require_roles(user, EDITORS)
    data = request.POST if request.method == "POST" else None
    form = TrainingSessionForm(data, user=user)
    formset = AttendanceFormSet(data, user=user, prefix="attendance")
    attendance_errors = []
    if request.method == "POST" and form.is_valid() & formset.is_valid():
        attendances = formset.attendances()
        try:
            session = services.training_record(user=user, attendances=attendances, **form.session_fields())
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                attendance_errors = error.error_dict.pop("attendances", [])
                attendance_errors = [message for e in attendance_errors for message in e.messages]
            if not hasattr(error, "error_dict") or error.error_dict:
                add_service_errors(form, error)
        else:
            recorded(request, session, firm_times=len(attendances), person_times=sum(row[1] for row in attendances))
            return redirect("training:detail", pk=session.pk)
    return render(request, "campaigns/training_form.html", {
        "form": form, "formset": formset, "attendance_errors": attendance_errors,
    })


def recorded(request, session: TrainingSession, *, firm_times: int, person_times: int) -> None:
    messages.success(request, _("Training session recorded: %(firms)d firm-times, %(persons)d person-times.")
                     % {"firms": firm_times, "persons": person_times})


@login_required
@require_GET
def firm_check(request):
    """The htmx fragment under an attendance row: the firm a typed credit code names, or the
    firms of the jurisdiction whose name matches what was typed, to pick one."""
    user = request.user
    require_roles(user, EDITORS)
    raw = next((value for key, value in request.GET.items() if key.endswith("uscc")), "").strip()
    code = normalise(raw)
    context = {"raw": raw}
    # A whole credit code is checked; anything shorter (a name, words, a piece of a code, pinyin
    # initials) is the registry's own search, and a piece of a code that finds nothing says what
    # is wrong with it as a code.
    code_like = any(char.isdigit() for char in code) and all(char in USCC_CHARACTERS for char in code)
    if code_like and len(code) >= USCC_LENGTH:
        try:
            validate_uscc(code)
        except ValidationError as error:
            context["error"] = error.messages[0]
        else:
            lookup = firms_by_code(user, [code])
            context.update(checked=True, firm=lookup.visible.get(code), outside=code in lookup.outside)
    elif len(raw) >= 2:
        firms = search.matching(enterprises_visible_to(user), raw)
        context.update(searched=True, matches=list(firms.order_by("name", "id")[:FIRM_MATCHES]))
        if code_like and not context["matches"]:
            try:
                validate_uscc(code)
            except ValidationError as error:
                context["error"] = error.messages[0]
    return render(request, "campaigns/training_firm.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@idempotent_post
def training_import_sheet(request):
    """Record a session from its sign-in sheet: the session's fields, then the file. Every row
    is checked first; a bad one gets the report and nothing is recorded. GET ?template=csv
    downloads an empty sheet."""
    user = request.user
    require_roles(user, EDITORS)
    if request.method == "GET" and request.GET.get("template") == "csv":
        response = HttpResponse(training_import.template_csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(True, "培训签到表模板.csv")
        return response
    posted = request.method == "POST"
    form = TrainingSessionForm(request.POST if posted else None, user=user)
    sheet = SheetForm(request.POST, request.FILES) if posted else SheetForm()
    report = None
    if posted and form.is_valid() & sheet.is_valid():
        try:
            report = training_import.training_import(user=user, upload=sheet.cleaned_data["file"],
                                                     **form.session_fields())
        except ValidationError as error:
            if hasattr(error, "error_dict") and "file" in error.error_dict:
                sheet.add_error("file", error.error_dict.pop("file"))
            if not hasattr(error, "error_dict") or error.error_dict:
                add_service_errors(form, error)
        else:
            if report.session is not None:
                recorded(request, report.session, firm_times=report.firm_times, person_times=report.person_times)
                if report.ignored_columns:
                    messages.warning(request, _("These columns are not known to the import and were not read: "
                                                "%(columns)s") % {"columns": "、".join(report.ignored_columns)})
                return redirect("training:detail", pk=report.session.pk)
    problems = report.problem_rows()[:PROBLEMS_SHOWN] if report else []
    return render(request, "campaigns/training_import.html", {
        "form": form, "sheet": sheet, "report": report, "problems": problems,
        "columns": training_import.COLUMNS, "max_rows": training_import.MAX_ROWS,
        "max_mb": MAX_BYTES // (1024 * 1024),
    })


@login_required
@require_GET
def training_detail(request, pk: int):
    """The session, who attended, its totals and, for staff, its audit trail."""
    user = request.user
    require_roles(user, STAFF_ROLES)
    session = get_object_or_404(with_totals(training_sessions_visible_to(user)), pk=pk)
    attendances = (TrainingAttendance.objects.filter(session=session).select_related("enterprise__region")
                   .order_by("enterprise__name", "pk"))
    return render(request, "campaigns/training_detail.html", {
        "session": session, "attendances": attendances,
        "audit_entries": with_rows(audit_entries_for(user, session)[:AUDIT_ROWS]),
        "can_record": has_role(user, EDITORS),
    })
