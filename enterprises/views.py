"""Pages of the registry: SMEs register, claim and ask; regulators keep, triage and confirm."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from enterprises import services
from enterprises.filters import ClaimFilterSet, EnterpriseFilterSet, NeedFilterSet
from enterprises.forms import (
    CertificationForm,
    ClaimDecisionForm,
    ClaimForm,
    ContactsForm,
    EnterpriseForm,
    NeedForm,
    PaperNeedForm,
    SurveyForm,
    TriageForm,
)
from enterprises.hooks import need_page
from enterprises.models import Enterprise, EnterpriseClaim, NeedAttachment, NeedEvent, NeedRequest, NeedsSurvey
from enterprises.selectors import (
    claims_visible_to,
    enterprises_visible_to,
    needs_visible_to,
)
from enterprises.uscc import normalise, validate_uscc
from portal.access import PAGE_SIZES, STAFF_ROLES, RoleRequiredMixin, has_role, per_page, require_roles
from portal.audit import audit_entries_for, with_rows
from portal.forms import add_service_errors
from portal.idempotency import idempotent_post
from portal.models import User
from portal.pagination import keyset_page

Role = User.Role
EDITORS = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})


class EnterpriseListView(RoleRequiredMixin, ListView):
    """The registry of the user's jurisdiction, with the filters the API shares, paged by cursor
    (portal/pagination.py): a province's million firms page as fast on the last page as on the first."""

    template_name = "enterprises/enterprise_list.html"
    read_roles = STAFF_ROLES

    def get_queryset(self):
        self.filterset = EnterpriseFilterSet(self.request.GET, queryset=enterprises_visible_to(self.request.user),
                                             request=self.request)
        return self.filterset.qs.select_related("region__parent", "industry")

    def get_context_data(self, **kwargs):
        page = keyset_page(self.object_list, self.filterset.ordering, per_page=per_page(self.request),
                           after=self.request.GET.get("after", ""), before=self.request.GET.get("before", ""),
                           trust_estimate=not self.filterset.searching)
        # Each size's label translated once, not once per row (get_size_display hashes lazy choices).
        sizes = {value: str(label) for value, label in Enterprise.Size.choices}
        for firm in page.rows:
            firm.size_label = sizes.get(firm.size, firm.size)
        query = self.request.GET.copy()
        for key in ("after", "before"):
            query.pop(key, None)
        return super().get_context_data(
            filterset=self.filterset, query=query.urlencode(), page_sizes=PAGE_SIZES, per_page=per_page(self.request),
            keyset=page, **{**kwargs, "object_list": page.rows},
        )


@login_required
def enterprise_detail(request, pk: int):
    enterprise = get_object_or_404(enterprises_visible_to(request.user), pk=pk)
    needs = needs_visible_to(request.user).filter(enterprise=enterprise)
    context = {
        "enterprise": enterprise,
        "needs": needs,
        "certifications": enterprise.certifications.all(),
        "surveys": NeedsSurvey.objects.filter(enterprise=enterprise).prefetch_related("services_wanted")
        .select_related("answered_by", "campaign"),
        "contacts": enterprise.users.all(),
        "can_edit": has_role(request.user, EDITORS) or enterprise.users.filter(pk=request.user.pk).exists(),
        "is_editor": has_role(request.user, EDITORS),
        "pending_claims": enterprise.claims.filter(status=EnterpriseClaim.Status.PENDING).select_related("user")
        if has_role(request.user, EDITORS) else [],
        "is_contact": request.user.is_sme,
        "can_open_case": has_role(request.user, EDITORS),
        "audit_entries": audit_trail(request.user, enterprise),
    }
    return render(request, "enterprises/enterprise_detail.html", context)


AUDIT_ROWS = 50


def audit_trail(user: User, obj) -> list | None:
    """The newest audit entries of `obj` for the jurisdiction's staff; None for anyone else."""
    if not has_role(user, STAFF_ROLES):
        return None
    return with_rows(audit_entries_for(user, obj)[:AUDIT_ROWS])


@login_required
@idempotent_post
def enterprise_register(request):
    """An SME registers its firm (and becomes its contact); a regulator adds one to the registry."""
    user = request.user
    require_roles(user, {Role.SME, *EDITORS})
    form = EnterpriseForm(request.POST or None, regulator=has_role(user, EDITORS))
    if request.method == "POST" and form.is_valid():
        try:
            data = {k: v for k, v in form.cleaned_data.items() if k != "uscc"}
            enterprise = services.enterprise_register(user=user, uscc=form.cleaned_data["uscc"], **data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("%(name)s is now in the registry.") % {"name": enterprise.name})
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/enterprise_form.html", {"form": form, "title": _("Register an enterprise")})


@login_required
def uscc_check(request):
    """An htmx fragment under the credit-code field: what is wrong with it, or its region."""
    raw = request.GET.get("uscc", "")
    code = normalise(raw)
    context = {"code": code}
    if code:
        try:
            validate_uscc(code)
        except ValidationError as error:
            context["error"] = error.messages[0]
        else:
            context["region"] = services.suggested_region(code)
            context["in_registry"] = services.Enterprise.objects.filter(uscc=code).exists()
    return render(request, "enterprises/_uscc_check.html", context)


@login_required
@idempotent_post
def enterprise_claim(request):
    require_roles(request.user, {Role.SME})
    form = ClaimForm(request.POST or None, initial={"uscc": request.GET.get("uscc", "")})
    if request.method == "POST" and form.is_valid():
        try:
            services.enterprise_claim(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your claim has been sent; a regulator of the firm's region will confirm it."))
            return redirect("home")
    return render(request, "enterprises/claim_form.html", {"form": form})


@login_required
def enterprise_edit(request, pk: int):
    enterprise = get_object_or_404(enterprises_visible_to(request.user), pk=pk)
    is_editor = has_role(request.user, EDITORS)
    if not is_editor and not enterprise.users.filter(pk=request.user.pk).exists():
        raise PermissionDenied
    if is_editor:
        form = EnterpriseForm(request.POST or None, instance=enterprise, regulator=True)
    else:
        form = ContactsForm(request.POST or None, instance=enterprise)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.fields}
        if is_editor and fields.get("region") is None:
            fields.pop("region")
        try:
            services.enterprise_update(user=request.user, enterprise=enterprise, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/enterprise_form.html",
                  {"form": form, "title": _("Edit %(name)s") % {"name": enterprise.name}, "enterprise": enterprise})


@login_required
@idempotent_post
def certification_add(request, pk: int):
    require_roles(request.user, EDITORS)
    enterprise = get_object_or_404(enterprises_visible_to(request.user), pk=pk)
    form = CertificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.certification_add(user=request.user, enterprise=enterprise, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Certification recorded."))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/simple_form.html",
                  {"form": form, "title": _("Add a certification"), "enterprise": enterprise})


class ClaimListView(RoleRequiredMixin, ListView):
    template_name = "enterprises/claim_list.html"
    paginate_by = 50

    def get_queryset(self):
        claims = claims_visible_to(self.request.user)
        status = self.request.GET.get("status", EnterpriseClaim.Status.PENDING)
        claims = claims.filter(status=status) if status in EnterpriseClaim.Status.values else claims
        # The registry's search over the claimed firm: name, code (any part), pinyin initials ...
        return ClaimFilterSet({"q": self.request.GET.get("q", "")}, queryset=claims).qs

    def get_context_data(self, **kwargs):
        return super().get_context_data(q=self.request.GET.get("q", ""), **kwargs)


@require_POST
@login_required
def claim_decide(request, pk: int):
    require_roles(request.user, EDITORS)
    claim = get_object_or_404(claims_visible_to(request.user), pk=pk)
    form = ClaimDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.claim_decide(user=request.user, claim=claim, confirm=form.cleaned_data["confirm"],
                                  note=form.cleaned_data["note"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Claim confirmed.") if claim.status == EnterpriseClaim.Status.CONFIRMED
                             else _("Claim rejected."))
    else:
        messages.error(request, _("Choose confirm or reject."))
    return redirect(request.POST.get("next") or reverse("enterprises:claims"))


@login_required
@idempotent_post
def survey_answer(request, pk: int, kind: str):
    require_roles(request.user, {Role.SME})
    enterprise = get_object_or_404(enterprises_visible_to(request.user), pk=pk)
    if kind not in NeedsSurvey.Kind.values:
        raise Http404
    form = SurveyForm(request.POST or None, kind=kind, enterprise=enterprise)
    if request.method == "POST" and form.is_valid():
        answers = dict(form.cleaned_data)
        services_wanted = answers.pop("services_wanted")
        try:
            services.survey_answer(user=request.user, enterprise=enterprise, kind=kind,
                                   services_wanted=services_wanted, **answers)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Thank you: your answers have been recorded."))
            return redirect("enterprises:detail", pk=enterprise.pk)
    return render(request, "enterprises/simple_form.html", {
        "form": form, "enterprise": enterprise,
        "title": _("Needs survey: %(kind)s") % {"kind": NeedsSurvey.Kind(kind).label},
    })


class NeedListView(RoleRequiredMixin, ListView):
    """Needs the user may see: an SME its own, staff those of their jurisdiction."""

    template_name = "enterprises/need_list.html"
    read_roles = frozenset({Role.SME, *STAFF_ROLES})

    def get_paginate_by(self, queryset):
        return per_page(self.request)

    def get_queryset(self):
        self.filterset = NeedFilterSet(self.request.GET, queryset=needs_visible_to(self.request.user))
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(filterset=self.filterset, query=query.urlencode(), **kwargs)


@login_required
@idempotent_post
def need_new(request):
    require_roles(request.user, {Role.SME})
    enterprises = enterprises_visible_to(request.user)
    if not enterprises.exists():
        messages.info(request, _("Register or claim your enterprise before asking for help."))
        return redirect("enterprises:register")
    form = NeedForm(request.POST or None, request.FILES or None, enterprises=enterprises)
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_submit(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Your request has been submitted."))
            return redirect("needs:detail", pk=need.pk)
    return render(request, "enterprises/need_form.html", {"form": form})


@login_required
@idempotent_post
def need_enter_received(request, pk: int):
    """A regulator of the firm's region enters a need the bureau received on paper or by phone, with
    the day it came in; the need keeps that day and the moment it was typed in (补录)."""
    require_roles(request.user, EDITORS)
    enterprise = get_object_or_404(enterprises_visible_to(request.user), pk=pk)
    form = PaperNeedForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            need = services.need_submit(user=request.user, enterprise=enterprise, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The need received on paper has been entered."))
            return redirect("needs:detail", pk=need.pk)
    return render(request, "enterprises/simple_form.html",
                  {"form": form, "title": _("Enter a need received on paper"), "enterprise": enterprise},
                  status=400 if form.errors else 200)


@login_required
def need_detail(request, pk: int):
    need = get_object_or_404(
        needs_visible_to(request.user).select_related("submitted_by").prefetch_related(
            Prefetch("events", queryset=NeedEvent.objects.select_related("actor")), "attachments"),
        pk=pk,
    )
    can_triage = has_role(request.user, EDITORS) and need.status == NeedRequest.Status.SUBMITTED
    triage_form = TriageForm() if can_triage else None
    return render(request, "enterprises/need_detail.html", {
        "need": need, "triage_form": triage_form,
        **need_page(request.user, need),  # the cases answering it (campaigns/cases/hooks.py)
        "can_suggest_experts": has_role(request.user, STAFF_ROLES) and need.is_open,
        "audit_entries": audit_trail(request.user, need),
    })


@require_POST
@login_required
def need_triage(request, pk: int):
    require_roles(request.user, EDITORS)
    need = get_object_or_404(needs_visible_to(request.user), pk=pk)
    form = TriageForm(request.POST)
    if form.is_valid():
        action, reason = form.cleaned_data["action"], form.cleaned_data["reason"]
        try:
            if action == "accept":
                services.need_accept(user=request.user, need=need, note=reason)
            elif action == "decline":
                services.need_decline(user=request.user, need=need, reason=reason)
            else:
                original = needs_visible_to(request.user).filter(pk=form.cleaned_data["duplicate_of"]).first()
                if original is None:
                    raise ValidationError({"duplicate_of": _("There is no such need in your jurisdiction.")})
                services.need_mark_duplicate(user=request.user, need=need, original=original)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            need.refresh_from_db()
            messages.success(request, _("The need is now: %(status)s.") % {"status": need.get_status_display()})
            return redirect("needs:detail", pk=need.pk)
    need = needs_visible_to(request.user).prefetch_related("events__actor", "attachments").get(pk=pk)
    return render(request, "enterprises/need_detail.html", {"need": need, "triage_form": form}, status=400)


@login_required
def attachment_download(request, pk: int):
    """Attachments are served only to those who may see the need, never from a public folder."""
    attachment = get_object_or_404(NeedAttachment.objects.filter(need__in=needs_visible_to(request.user)), pk=pk)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.original_name)
