"""Every write to the registry, its claims, needs and surveys."""

from collections.abc import Iterable
from datetime import date
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import (
    Certification,
    Enterprise,
    EnterpriseClaim,
    NeedAttachment,
    NeedEvent,
    NeedRequest,
    NeedsSurvey,
)
from enterprises.selectors import enterprise_contacts
from enterprises.uscc import normalise, region_code_of
from portal import audit, outbox
from portal.dates import day_moment
from portal.kpi_notes import CERTIFICATE_SOURCES, SURVEY_SOURCES, month_of
from portal.kpi_notes import TOPIC as KPI_TOPIC
from portal.models import Region, ServiceArea, User
from portal.notifications import kinds as notice
from portal.notifications.services import notify
from portal.selectors import region_is_visible_to
from portal.uploads import check_content

Status = NeedRequest.Status

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 5
ATTACHMENT_TYPES = {".pdf", ".jpg", ".jpeg", ".png", ".doc", ".docx", ".xls", ".xlsx", ".txt"}

CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email", "address")
REGISTRY_FIELDS = (
    "name", "region", "industry", "size", "employees", "annual_revenue",
    "is_key", "is_specialized", "is_exporter", "in_industrial_park", *CONTACT_FIELDS,
)
AUDITED_ENTERPRISE_FIELDS = ("uscc", *REGISTRY_FIELDS)
# The fields a campaign's figures file a firm's rows by: its region, industry, size and key status.
FIGURE_FIELDS = {"region", "industry", "size", "is_key"}
AUDITED_NEED_FIELDS = ("title", "description", "service_area", "urgency", "status", "decline_reason",
                       "duplicate_of")


def figures_changed(enterprise: Enterprise, *, sources: list[str], when=None, codes=None, campaign=None) -> None:
    """Note in the current transaction that figures counting this firm changed: rows of `sources`
    (see portal/kpi_notes.py) filed under its region (or `codes`) in the month of `when` (None:
    every month). The KPI engine works out which campaigns count the firm; `campaign` names one
    it must include (a follow-up survey's)."""
    outbox.record(KPI_TOPIC, firm=enterprise.pk, sources=sources, codes=sorted(codes or {enterprise.region_id}),
                  month=month_of(when), campaign=campaign.pk if campaign is not None else None)


def suggested_region(uscc: str) -> Region | None:
    """The region named by characters 3-8 of a credit code, where that code exists."""
    return Region.objects.filter(code=region_code_of(normalise(uscc))).first()


def enterprise_register(*, user: User, uscc: str, **fields) -> Enterprise:
    """Create a firm in the registry.

    An SME user registering its own firm becomes its contact account. A code already in the
    registry is refused: the SME claims the existing record instead.
    """
    if not (user.is_sme or user.is_regulator or user.is_administrator):
        raise PermissionDenied
    if user.is_sme:
        # Designating a key enterprise is the bureau's call, not the firm's.
        fields.pop("is_key", None)
    uscc = normalise(uscc)
    if Enterprise.objects.filter(uscc=uscc).exists():
        raise ValidationError({"uscc": _("This enterprise is already in the registry; claim it instead.")})
    region = fields.get("region")
    if user.is_regulator and region is not None and not region_is_visible_to(user, region.code):
        raise ValidationError({"region": _("This region lies outside your jurisdiction.")})
    with transaction.atomic():
        enterprise = Enterprise(uscc=uscc, **fields)
        enterprise.full_clean()
        enterprise.save()
        if user.is_sme:
            enterprise.users.add(user)
        audit.record_create(actor=user, obj=enterprise, fields=AUDITED_ENTERPRISE_FIELDS,
                            region_code=enterprise.region_id)
    return enterprise


def enterprise_update(*, user: User, enterprise: Enterprise, **fields) -> Enterprise:
    """Edit a firm: its SME contacts edit contact details, regulators the whole record."""
    if not may_edit_registry(user, enterprise) and not enterprise.users.filter(pk=user.pk).exists():
        raise PermissionDenied
    allowed = REGISTRY_FIELDS if may_edit_registry(user, enterprise) else CONTACT_FIELDS
    # Re-sending a value unchanged is harmless; changing a field outside one's remit is not.
    changed = {name for name, value in fields.items() if getattr(enterprise, name, object()) != value}
    if changed - set(allowed):
        raise PermissionDenied
    region = fields.get("region")
    if region is not None and user.is_regulator and not region_is_visible_to(user, region.code):
        raise ValidationError({"region": _("This region lies outside your jurisdiction.")})
    with transaction.atomic():
        before = audit.snapshot(enterprise, AUDITED_ENTERPRISE_FIELDS)
        old_region = enterprise.region_id
        for name, value in fields.items():
            setattr(enterprise, name, value)
        enterprise.full_clean()
        enterprise.save()
        # A firm moved between regions stays readable from where it was: record under the old one too.
        audit.record_update(actor=user, obj=enterprise, before=before, region_code=enterprise.region_id)
        if old_region != enterprise.region_id:
            audit.record_update(actor=user, obj=enterprise, before=before, region_code=old_region)
        if changed & FIGURE_FIELDS:
            # Where and under which industry, size and key status the firm counts: every figure of it.
            figures_changed(enterprise, sources=["*"], codes={old_region, enterprise.region_id})
    return enterprise


def may_edit_registry(user: User, enterprise: Enterprise) -> bool:
    """Regulators of the firm's region and administrators keep its registry record."""
    return user.is_administrator or (user.is_regulator and region_is_visible_to(user, enterprise.region_id))


def enterprise_claim(*, user: User, uscc: str, message: str = "") -> EnterpriseClaim:
    """Ask to act for a firm already in the registry; a regulator confirms it."""
    uscc = normalise(uscc)
    enterprise = Enterprise.objects.filter(uscc=uscc).first()
    if enterprise is None:
        raise ValidationError({"uscc": _("No enterprise with this credit code is in the registry; register it.")})
    if enterprise.users.filter(pk=user.pk).exists():
        raise ValidationError({"uscc": _("Your account already acts for this enterprise.")})
    if enterprise.claims.filter(user=user, status=EnterpriseClaim.Status.PENDING).exists():
        raise ValidationError({"uscc": _("You have already claimed this enterprise; wait for the regulator.")})
    with transaction.atomic():
        claim = EnterpriseClaim(enterprise=enterprise, user=user, message=message)
        claim.full_clean()
        claim.save()
    return claim


def claim_decide(*, user: User, claim: EnterpriseClaim, confirm: bool, note: str = "") -> EnterpriseClaim:
    """A regulator of the firm's region confirms (linking the account) or rejects a claim."""
    if not may_edit_registry(user, claim.enterprise):
        raise PermissionDenied
    if claim.status != EnterpriseClaim.Status.PENDING:
        raise ValidationError(_("This claim has already been decided."))
    if not confirm and not note.strip():
        raise ValidationError({"decision_note": _("Say why the claim is rejected.")})
    with transaction.atomic():
        claim.status = EnterpriseClaim.Status.CONFIRMED if confirm else EnterpriseClaim.Status.REJECTED
        claim.decided_by = user
        claim.decided_at = timezone.now()
        claim.decision_note = note.strip()
        claim.save()
        if confirm:
            claim.enterprise.users.add(claim.user)
            notify([claim.user], notice.CLAIM_CONFIRMED.name, obj=claim.enterprise,
                   params={"enterprise": claim.enterprise.name},
                   link=reverse("enterprises:detail", args=[claim.enterprise_id]))
        else:
            notify([claim.user], notice.CLAIM_REJECTED.name, obj=claim,
                   params={"enterprise": claim.enterprise.name, "reason": claim.decision_note})
    return claim


def check_attachment(upload: UploadedFile) -> None:
    suffix = PurePath(upload.name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError(
            _("%(name)s: files of this type cannot be attached (allowed: %(types)s)."),
            params={"name": upload.name, "types": " ".join(sorted(ATTACHMENT_TYPES))},
        )
    if upload.size > ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is larger than %(limit)d MB."),
            params={"name": upload.name, "limit": ATTACHMENT_MAX_BYTES // (1024 * 1024)},
        )
    check_content(upload)


def need_submit(
    *, user: User, enterprise: Enterprise, service_area: ServiceArea, title: str, description: str,
    urgency: str = NeedRequest.Urgency.NORMAL, attachments: Iterable[UploadedFile] = (),
    received_on: date | None = None,
) -> NeedRequest:
    """An SME asks for help: the need and its attachments are saved together or not at all.

    A need received earlier (on paper, by phone) is entered with `received_on`, the day it came in,
    by the firm, an administrator or a regulator of the firm's region; it keeps both that day and
    the moment it was typed in."""
    back_office = received_on is not None and user.is_regulator and region_is_visible_to(user, enterprise.region_id)
    if not enterprise.users.filter(pk=user.pk).exists() and not user.is_administrator and not back_office:
        raise PermissionDenied
    if received_on is not None and received_on > timezone.localdate():
        raise ValidationError({"received_on": _("A need cannot be received on a future date.")})
    attachments = list(attachments)
    if len(attachments) > ATTACHMENT_MAX_COUNT:
        raise ValidationError({"attachments": _("Attach at most %(count)d files.") % {"count": ATTACHMENT_MAX_COUNT}})
    errors = []
    for upload in attachments:
        try:
            check_attachment(upload)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"attachments": errors})
    if not service_area.active:
        raise ValidationError({"service_area": _("This service area is not offered at present.")})
    with transaction.atomic():
        lock_open_need_flag(enterprise.pk)
        need = NeedRequest(enterprise=enterprise, service_area=service_area, title=title.strip(),
                           description=description.strip(), urgency=urgency, submitted_by=user)
        if received_on is not None:
            need.submitted_at = day_moment(received_on)
        need.full_clean()
        need.save()
        NeedEvent.objects.create(need=need, from_status="", to_status=Status.SUBMITTED, actor=user)
        audit.record_create(actor=user, obj=need, fields=AUDITED_NEED_FIELDS, region_code=enterprise.region_id)
        for upload in attachments:
            NeedAttachment.objects.create(need=need, file=upload, original_name=upload.name[:255],
                                          size=upload.size)
        figures_changed(enterprise, sources=["needs"], when=need.submitted_at)
    return need


def lock_open_need_flag(enterprise_id: int) -> None:
    """Lock the firm's row before one of its needs is written: NeedRequest.save recomputes the firm's
    has_open_needs from its needs, and two needs of one firm changing at once must not each
    recompute it from a view that misses the other's change. Always the firm first, then the need."""
    list(Enterprise.objects.select_for_update().filter(pk=enterprise_id).values_list("pk"))


# Which status a need may move to from which; cases (experts app) drive matched onwards.
TRANSITIONS = {
    Status.SUBMITTED: {Status.TRIAGED, Status.DECLINED},
    Status.TRIAGED: {Status.MATCHED, Status.IN_PROGRESS, Status.FULFILLED, Status.DECLINED},
    Status.MATCHED: {Status.IN_PROGRESS, Status.FULFILLED, Status.DECLINED},
    Status.IN_PROGRESS: {Status.FULFILLED, Status.DECLINED},
    Status.FULFILLED: set(),
    Status.DECLINED: set(),
}


def need_transition(*, user: User, need: NeedRequest, to_status: str, note: str = "") -> NeedRequest:
    """Move a need along its lifecycle, refusing an illegal step, and record who did it."""
    if not may_edit_registry(user, need.enterprise):
        raise PermissionDenied
    return need_advance(actor=user, need=need, to_status=to_status, note=note)


def need_advance(*, actor: User, need: NeedRequest, to_status: str, note: str = "") -> NeedRequest:
    """The step itself, for callers that have already decided `actor` may take it (the case
    services move a case's needs as the case goes on)."""
    region_code = need.enterprise.region_id
    with transaction.atomic():
        lock_open_need_flag(need.enterprise_id)
        need = NeedRequest.objects.select_for_update().get(pk=need.pk)
        if to_status not in TRANSITIONS[need.status]:
            raise ValidationError(
                _("A need that is %(current)s cannot become %(target)s."),
                params={"current": need.get_status_display(), "target": Status(to_status).label},
            )
        before = audit.snapshot(need, AUDITED_NEED_FIELDS)
        if to_status == Status.DECLINED:
            if not note.strip():
                raise ValidationError({"decline_reason": _("Give the reason for declining.")})
            need.decline_reason = note.strip()
        previous = need.status
        need.status = to_status
        need.full_clean()
        need.save()
        NeedEvent.objects.create(need=need, from_status=previous, to_status=to_status, actor=actor, note=note.strip())
        audit.record_update(actor=actor, obj=need, before=before, region_code=region_code,
                            action=audit.Action.TRANSITION, note=note.strip())
        figures_changed(need.enterprise, sources=["needs"], when=need.submitted_at)
        need_notify(need)
    return need


# Which step of a need its firm is told of, and by which kind of notification.
NEED_NOTICES = {
    Status.TRIAGED: notice.NEED_ACCEPTED,
    Status.MATCHED: notice.NEED_MATCHED,
    Status.FULFILLED: notice.NEED_FULFILLED,
    Status.DECLINED: notice.NEED_DECLINED,
}


def need_notify(need: NeedRequest) -> None:
    """Tell the firm's accounts of the step its need just took (in the step's transaction)."""
    kind = NEED_NOTICES.get(need.status)
    if kind is None:
        return
    notify(enterprise_contacts(need.enterprise), kind.name, obj=need,
           params={"need": need.title, "reason": need.decline_reason},
           link=reverse("needs:detail", args=[need.pk]))


def need_accept(*, user: User, need: NeedRequest, note: str = "") -> NeedRequest:
    return need_transition(user=user, need=need, to_status=Status.TRIAGED, note=note)


def need_decline(*, user: User, need: NeedRequest, reason: str) -> NeedRequest:
    return need_transition(user=user, need=need, to_status=Status.DECLINED, note=reason)


def need_mark_duplicate(*, user: User, need: NeedRequest, original: NeedRequest) -> NeedRequest:
    """Decline a need as a duplicate of another open need of the same firm."""
    if original.pk == need.pk:
        raise ValidationError({"duplicate_of": _("A need cannot duplicate itself.")})
    if original.enterprise_id != need.enterprise_id:
        raise ValidationError({"duplicate_of": _("The original must be a need of the same enterprise.")})
    if original.status == Status.DECLINED:
        raise ValidationError({"duplicate_of": _("The original need has itself been declined.")})
    with transaction.atomic():
        need.duplicate_of = original
        need.save(update_fields=["duplicate_of"])
        reason = _("Duplicate of need #%(number)d: %(title)s") % {"number": original.pk, "title": original.title}
        return need_transition(user=user, need=need, to_status=Status.DECLINED, note=reason)


def certification_add(*, user: User, enterprise: Enterprise, **fields) -> Certification:
    if not may_edit_registry(user, enterprise):
        raise PermissionDenied
    with transaction.atomic():
        certification = Certification(enterprise=enterprise, **fields)
        certification.full_clean()
        certification.save()
        audit.record(actor=user, obj=enterprise, action=audit.Action.UPDATE, region_code=enterprise.region_id,
                     changes={"certifications": [None, str(certification)]})
        figures_changed(enterprise, sources=list(CERTIFICATE_SOURCES), when=certification.issued_on)
    return certification


def survey_answer(
    *, user: User, enterprise: Enterprise, kind: str, campaign: Model | None = None,
    services_wanted: Iterable[ServiceArea] = (), **answers
) -> NeedsSurvey:
    """Record a firm's answers to the baseline or follow-up needs survey.

    A follow-up names the campaign whose assistance it reports on (the campaign's figures count
    it); a baseline may name one or none. The campaign must cover the firm's region.
    """
    if not enterprise.users.filter(pk=user.pk).exists() and not user.is_administrator:
        raise PermissionDenied
    errors: dict[str, list] = {}
    if campaign is not None and not campaign.covers(enterprise.region_id):
        errors["campaign"] = [_("This campaign does not cover the enterprise's region.")]
    survey = NeedsSurvey(enterprise=enterprise, kind=kind, campaign=campaign, answered_by=user, **answers)
    try:
        survey.full_clean()
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        survey.save()
        survey.services_wanted.set(services_wanted)
        figures_changed(enterprise, sources=list(SURVEY_SOURCES), when=survey.answered_at, campaign=campaign)
    return survey

