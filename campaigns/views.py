"""Campaign pages: the list with its figures, a campaign's page, creating and editing campaigns,
and setting their targets."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from campaigns import import_jobs
from campaigns import importing as survey_importing
from campaigns import services as campaign_services
from campaigns.cases import importing as case_importing
from campaigns.filters import CampaignFilterSet, PeriodStatus, with_figures, with_targets
from campaigns.forms import CampaignForm, RecordsImportForm, TargetForm, TargetValueForm
from campaigns.models import Campaign, CampaignTarget, RecordsImportJob
from campaigns.selectors import campaigns_visible_to, may_manage_campaign
from portal.access import EDITORS, PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page, require_roles
from portal.audit import audit_entries_for, audit_entries_visible_to, with_rows
from portal.filters import MAX_ID
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.models import User

Role = User.Role
ADMINISTRATORS = frozenset({Role.ADMINISTRATOR})
AUDIT_ROWS = 100


def visible_campaign(user: User, pk: int, campaigns: QuerySet[Campaign] | None = None) -> Campaign:
    """The campaign if the user may see it (staff only: others 403 first); 404 otherwise.

    `campaigns` narrows or annotates campaigns_visible_to(user), never widens it.
    """
    require_roles(user, STAFF_ROLES)
    if campaigns is None:
        campaigns = campaigns_visible_to(user)
    return get_object_or_404(campaigns.select_related("region__parent__parent"), pk=pk)


def managed_campaign(user: User, pk: int) -> Campaign:
    """The campaign if the user may change it: 404 when out of sight, 403 when only readable."""
    campaign = visible_campaign(user, pk)
    if not may_manage_campaign(user, campaign):
        raise PermissionDenied
    return campaign


class CampaignListView(RoleRequiredMixin, ListView):
    """Campaigns of the user's jurisdiction and those above it, with their period and figures."""

    template_name = "campaigns/campaign_list.html"
    read_roles = STAFF_ROLES

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        user = self.request.user
        self.filterset = CampaignFilterSet(self.request.GET, queryset=campaigns_visible_to(user))
        # region__parent__parent: the jurisdiction's full name without a query per row.
        return with_figures(self.filterset.qs.select_related("region__parent__parent"), user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            filterset=self.filterset, page_sizes=PAGE_SIZES, statuses=PeriodStatus.choices,
            can_create=self.request.user.is_administrator, **kwargs)


@login_required
def campaign_detail(request, pk: int):
    user = request.user
    campaign = visible_campaign(user, pk, with_targets(with_figures(campaigns_visible_to(user), user)))
    targets = list(campaign.targets.all())
    # The campaign's trail (its edits, targets removed) and that of each target it has now.
    target_entries = audit_entries_visible_to(user).filter(
        content_type=ContentType.objects.get_for_model(CampaignTarget), object_id__in=[str(t.pk) for t in targets])
    return render(request, "campaigns/campaign_detail.html", {
        "campaign": campaign,
        "targets": targets,
        "service_areas": campaign.service_areas.all(),
        "can_manage": may_manage_campaign(user, campaign),
        "can_import": campaign.is_open_for_entry and user.effective_role in EDITORS,
        # The latest background imports of the user's office, to find one again after leaving its page.
        "import_jobs": import_jobs.import_jobs_visible_to(user, campaign)[:5] if has_role(user, EDITORS) else [],
        "audit_entries": with_rows((audit_entries_for(user, campaign) | target_entries)[:AUDIT_ROWS]),
    })


@login_required
@require_POST
def campaign_entry_close(request, pk: int):
    """The administrator closes the campaign for entry: its records are final."""
    campaign = visible_campaign(request.user, pk)
    campaign_services.campaign_entry_close(user=request.user, campaign=campaign)
    messages.success(request, _("The campaign is closed for entry."))
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_entry_reopen(request, pk: int):
    campaign = visible_campaign(request.user, pk)
    campaign_services.campaign_entry_reopen(user=request.user, campaign=campaign)
    messages.success(request, _("The campaign is open for entry again."))
    return redirect("campaigns:detail", pk=campaign.pk)


@login_required
@idempotent_post
def campaign_new(request):
    """Administrators create campaigns in the portal as well as in the admin site."""
    user = request.user
    require_roles(user, ADMINISTRATORS)
    form = CampaignForm(request.POST or None, fields=campaign_services.AUDITED_CAMPAIGN_FIELDS)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_services.campaign_create(user=user, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Campaign “%(name)s” created: now set its targets.") % {"name": campaign.name})
            return redirect("campaigns:targets", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "title": _("New campaign")},
                  status=400 if form.errors else 200)


@login_required
def campaign_edit(request, pk: int):
    """The regulators running the campaign change its theme, period and service areas; administrators
    its name and organiser too. A period leaving out cases or sessions already recorded is refused."""
    user = request.user
    campaign = managed_campaign(user, pk)
    fields = (campaign_services.ADMINISTRATOR_FIELDS if user.is_administrator
              else campaign_services.MANAGER_FIELDS)
    form = CampaignForm(request.POST or None, instance=campaign, fields=fields)
    if request.method == "POST" and form.is_valid():
        try:
            campaign_services.campaign_update(user=user, campaign=campaign, **form.changes())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_form.html",
                  {"form": form, "campaign": campaign, "title": _("Edit the campaign")},
                  status=400 if form.errors else 200)


def target_rows(campaign: Campaign, bound: dict[int, TargetValueForm] | None = None) -> list[dict]:
    """Each target with the form changing its value (the one just submitted, with its errors)."""
    bound = bound or {}
    targets = campaign.targets.select_related("region", "base_campaign").order_by("metric", "scope", "region_id")
    return [{"target": target,
             "form": bound.get(target.pk) or TargetValueForm(
                 prefix=f"target-{target.pk}", relative=target.is_relative,
                 initial={"value": target.base_percent if target.is_relative else target.value})}
            for target in targets]


@login_required
def campaign_targets(request, pk: int):
    """The targets of a campaign: change a value, remove one, or add one (a figure, for the whole
    campaign, each city, each county or one region). Errors show on the row or field concerned."""
    user = request.user
    campaign = managed_campaign(user, pk)
    add_form = TargetForm(request.POST if request.POST.get("action") == "add" else None,
                          campaigns=campaigns_visible_to(user).exclude(pk=campaign.pk).order_by("-starts_on", "name"))
    bound: dict[int, TargetValueForm] = {}
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add":
            if add_form.is_valid():
                data = add_form.cleaned_data
                try:
                    campaign_services.campaign_target_set(
                        user=user, campaign=campaign, metric=data["metric"], key=data["key"], scope=data["scope"],
                        region=data["region"], value=data["value"], base_campaign=data["base_campaign"],
                        base_percent=data["base_percent"])
                except ValidationError as error:
                    add_service_errors(add_form, error)
                else:
                    messages.success(request, _("Target saved."))
                    return redirect("campaigns:targets", pk=campaign.pk)
        elif action in ("change", "remove"):
            target = target_of(campaign, request.POST.get("target", ""))
            if action == "remove":
                campaign_services.campaign_target_remove(user=user, target=target)
                messages.success(request, _("Target removed: %(target)s.") % {"target": target})
                return redirect("campaigns:targets", pk=campaign.pk)
            form = TargetValueForm(request.POST, prefix=f"target-{target.pk}", relative=target.is_relative)
            bound[target.pk] = form
            if form.is_valid():
                number = form.cleaned_data["value"]
                goal = ({"base_campaign": target.base_campaign, "base_percent": number} if target.is_relative
                        else {"value": number})
                try:
                    campaign_services.campaign_target_set(user=user, campaign=campaign, metric=target.metric,
                                                          key=target.key, scope=target.scope, region=target.region,
                                                          **goal)
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    messages.success(request, _("Target saved."))
                    return redirect("campaigns:targets", pk=campaign.pk)
        else:
            messages.error(request, _("Choose what to do with the targets."))
    invalid = add_form.errors or any(form.errors for form in bound.values())
    return render(request, "campaigns/campaign_targets.html", {
        "campaign": campaign, "rows": target_rows(campaign, bound), "add_form": add_form,
    }, status=400 if invalid else 200)


def target_of(campaign: Campaign, value: str) -> CampaignTarget:
    """One of the campaign's targets, named by id in the form; anything else is a page not found."""
    if not value.isdigit() or not 0 < int(value) <= MAX_ID:
        raise Http404
    return get_object_or_404(campaign.targets.select_related("region", "base_campaign"), pk=int(value))


# The two imports of a campaign's records entered after the fact: cases with visits, survey answers.
IMPORTS = {
    "cases": (case_importing, "案件与走访导入模板.csv"),
    "surveys": (survey_importing, "调查问卷导入模板.csv"),
}
PROBLEMS_SHOWN = 500


@login_required
@idempotent_post
def campaign_import(request, pk: int, kind: str):
    """Import a list of the campaign's cases (with visits and outcomes) or survey answers: every row
    checked first, and all of it recorded or, when a row is bad, nothing and the report."""
    user = request.user
    campaign = visible_campaign(user, pk)
    require_roles(user, EDITORS)
    module, _template = IMPORTS[kind]
    leads = None
    if kind == "cases" and user.is_administrator:
        leads = User.objects.filter(role=Role.REGULATOR, is_active=True, region__isnull=False).order_by("region_id")
    form = RecordsImportForm(request.POST or None, request.FILES or None, leads=leads)
    report = None
    if request.method == "POST" and form.is_valid():
        extra = {"lead": form.cleaned_data.get("lead")} if kind == "cases" else {}
        upload = form.cleaned_data["file"]
        if (import_jobs.row_count(upload, kind) or 0) > import_jobs.BACKGROUND_ROWS:
            # A long list is checked and recorded in the background; its page follows the progress.
            try:
                job = import_jobs.records_import_job_create(user=user, campaign=campaign, kind=kind, upload=upload,
                                                           **extra)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("campaigns:import-job", pk=campaign.pk, job_id=job.pk)
            return render(request, "campaigns/campaign_import.html", {
                "campaign": campaign, "kind": kind, "form": form, "report": None, "columns": module.COLUMNS,
                "problems": []})
        try:
            report = (module.case_import if kind == "cases" else module.survey_import)(
                user=user, campaign=campaign, upload=form.cleaned_data["file"], **extra)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not report.problems:
                if kind == "cases":
                    text = _("%(created)d cases and %(visits)d visits recorded, %(kept)d cases already there.") % {
                        "created": report.cases_created, "visits": report.visits_created, "kept": report.cases_kept}
                else:
                    text = _("%(created)d survey answers recorded, %(updated)d brought up to date.") % {
                        "created": report.created, "updated": report.updated}
                messages.success(request, text + " " + _("The figures follow within a minute."))
                return redirect("campaigns:detail", pk=campaign.pk)
    return render(request, "campaigns/campaign_import.html", {
        "campaign": campaign, "kind": kind, "form": form, "report": report, "columns": module.COLUMNS,
        "problems": report.problem_rows()[:PROBLEMS_SHOWN] if report else [],
    })


def visible_import_job(user: User, pk: int, job_id: int) -> tuple[Campaign, RecordsImportJob]:
    """The campaign (404 out of sight), the role (403), then the job of the user's office (404)."""
    campaign = visible_campaign(user, pk)
    require_roles(user, EDITORS)
    return campaign, get_object_or_404(import_jobs.import_jobs_visible_to(user, campaign), pk=job_id)


def job_context(job: RecordsImportJob) -> dict:
    if job.status == RecordsImportJob.Status.DONE:
        percent = 100
    elif job.status == RecordsImportJob.Status.IMPORTING:
        percent = 50  # every row checked; the writing is one transaction
    elif job.total_rows:
        # Reading and checking the rows: the first half (total_rows is an estimate for a workbook).
        percent = min(int(job.processed_rows * 50 / job.total_rows), 49)
    else:
        percent = 0
    return {"job": job, "percent": percent}


@login_required
def campaign_import_job(request, pk: int, job_id: int):
    """A background import of the campaign's records: its progress while it runs, then what it
    recorded or the report of its bad rows (nothing recorded)."""
    campaign, job = visible_import_job(request.user, pk, job_id)
    return render(request, "campaigns/campaign_import_job.html", {
        "campaign": campaign, **job_context(job), "problems": import_jobs.problem_rows(job)[:PROBLEMS_SHOWN],
        "capped": job.error_count > PROBLEMS_SHOWN})


@login_required
def campaign_import_job_progress(request, pk: int, job_id: int):
    """The progress fragment the job's page polls while the job runs."""
    campaign, job = visible_import_job(request.user, pk, job_id)
    response = render(request, "campaigns/_import_job_progress.html", {"campaign": campaign, **job_context(job)})
    if getattr(request, "htmx", False) and not job.is_running:
        response["HX-Refresh"] = "true"  # the report comes with the full page
    return response


@login_required
def campaign_import_template(request, kind: str):
    """An empty list with the header row, for people to fill in."""
    require_roles(request.user, EDITORS)
    module, name = IMPORTS[kind]
    response = HttpResponse(module.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response
