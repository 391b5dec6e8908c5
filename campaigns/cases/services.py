"""Every write to assistance cases: opening, editing, the lifecycle, experts, visits, ratings.

Each is one transaction, records its audit entry, and refuses what the user may not do
(PermissionDenied) or what the rules forbid (ValidationError with a message per field)."""

from collections.abc import Iterable
from datetime import date
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, CaseRating, Visit, VisitAttachment
from campaigns.cases.selectors import (
    is_assigned_expert,
    may_edit_visit,
    may_manage_case,
    may_rate_case,
    may_work_on_case,
)
from campaigns.figures import figures_changed
from campaigns.models import Campaign
from campaigns.services import check_event_day, check_open_for_entry, locked_campaign
from enterprises.models import Enterprise, NeedRequest
from enterprises.selectors import enterprise_contacts
from enterprises.services import need_advance
from experts.models import Expert
from experts.selectors import experts_visible_to
from portal import audit
from portal.dates import day_moment
from portal.models import User
from portal.notifications import kinds as notice
from portal.notifications.services import notify
from portal.selectors import region_is_visible_to
from portal.uploads import check_content

Status = AssistanceCase.Status
Resolution = AssistanceCase.Resolution
NeedStatus = NeedRequest.Status
# The lifecycle, one step at a time. Closing goes through case_close, which settles the needs:
# resolved only once the plan is being carried out, unresolved from any open state.
TRANSITIONS = {
    Status.OPEN: {Status.DIAGNOSING},
    Status.DIAGNOSING: {Status.PLAN_AGREED},
    Status.PLAN_AGREED: {Status.IN_PROGRESS},
    Status.IN_PROGRESS: set(),
    Status.CLOSED: set(),
}
MANAGER_FIELDS = (
    "title", "lead", "diagnosis", "plan", "certificate_obtained", "standard_drafted", "excellence_model_adopted",
    "lab_set_up", "money_saved", "money_saved_period", "outcome_notes",
)
EXPERT_FIELDS = ("diagnosis", "plan")
AUDITED_CASE_FIELDS = ("campaign", "enterprise", "needs", "status", "resolution", *MANAGER_FIELDS)
VISIT_FIELDS = (
    "visited_on", "mode", "hours", "people_present", "problems_found", "actions_recommended",
    "next_follow_up_on", "internal_remark",
)
ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_MAX_COUNT = 10
PHOTO_TYPES = {".jpg", ".jpeg", ".png", ".webp", ".heic"}
DOCUMENT_TYPES = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".txt"}


def conflict_error(kind: str) -> ValidationError:
    return ValidationError(
        _("Someone else saved this %(kind)s after you opened it. Your changes were not saved: reload "
          "the page to see theirs, then make your changes again.") % {"kind": kind},
        code="conflict",
    )


def check_lead(lead: User, enterprise: Enterprise) -> None:
    if not (lead.is_regulator and lead.is_active and region_is_visible_to(lead, enterprise.region_id)):
        raise ValidationError({"lead": _("The lead must be an active regulator whose jurisdiction covers the "
                                         "enterprise.")})


def case_open(
    *, user: User, campaign: Campaign, title: str, enterprise: Enterprise | None = None,
    needs: Iterable[NeedRequest] = (), lead: User | None = None, diagnosis: str = "", plan: str = "",
    opened_on: date | None = None,
) -> AssistanceCase:
    """Open a one-to-one case for a firm, from some of its needs or directly.

    The campaign must cover the firm's region, be open for entry and running today, or, for a case
    entered after the fact (补录), `opened_on` names the day it opened inside the campaign's period.
    The needs must be open, belong to the firm and not be answered by another open case.
    Submitted needs are accepted.
    """
    needs = list(needs)
    if enterprise is None:
        if not needs:
            raise ValidationError({"enterprise": _("Choose the enterprise, or the needs the case answers.")})
        enterprise = needs[0].enterprise
    if not (user.is_administrator or (user.is_regulator and region_is_visible_to(user, enterprise.region_id))):
        raise PermissionDenied
    errors: dict[str, list[str]] = {}
    if any(need.enterprise_id != enterprise.pk for need in needs):
        errors.setdefault("needs", []).append(_("Every need must be a need of the same enterprise."))
    closed = [need for need in needs if not need.is_open]
    if closed:
        errors.setdefault("needs", []).append(
            _("These needs are already settled: %(needs)s.") % {"needs": "、".join(n.title for n in closed)})
    taken = NeedRequest.objects.filter(pk__in=[n.pk for n in needs], cases__in=AssistanceCase.objects.exclude(
        status=Status.CLOSED)).distinct()
    if taken:
        errors.setdefault("needs", []).append(
            _("These needs are already answered by an open case: %(needs)s.")
            % {"needs": "、".join(n.title for n in taken)})
    today = timezone.localdate()
    if not campaign.covers(enterprise.region_id):
        errors.setdefault("campaign", []).append(_("This campaign does not cover the enterprise's region."))
    elif opened_on is None and not campaign.is_running_on(today):
        errors.setdefault("campaign", []).append(
            _("This campaign runs from %(start)s to %(end)s; cases open only while it runs.")
            % {"start": campaign.starts_on, "end": campaign.ends_on})
    in_scope = set(campaign.service_areas.values_list("code", flat=True))
    outside = [need for need in needs if in_scope and need.service_area_id not in in_scope]
    if outside:
        errors.setdefault("needs", []).append(
            _("These needs lie outside the campaign's service areas: %(needs)s.")
            % {"needs": "、".join(n.title for n in outside)})
    if AssistanceCase.objects.filter(campaign=campaign, enterprise=enterprise).exclude(status=Status.CLOSED).exists():
        errors.setdefault("enterprise", []).append(_("This enterprise already has an open case in this campaign."))
    lead = lead or (user if user.is_regulator else None)
    if lead is None:
        errors.setdefault("lead", []).append(_("Choose the lead regulator."))
    else:
        try:
            check_lead(lead, enterprise)
        except ValidationError as error:
            errors.setdefault("lead", []).extend(error.message_dict["lead"])
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # Locked so a regulator shortening the period at this moment cannot leave the case outside it.
        campaign = locked_campaign(campaign)
        check_open_for_entry(campaign)
        if opened_on is not None:
            check_event_day(campaign, opened_on, "opened_on")
        elif not campaign.is_running_on(today):
            raise ValidationError({"campaign": _("This campaign runs from %(start)s to %(end)s; cases open only "
                                                 "while it runs.") % {"start": campaign.starts_on,
                                                                      "end": campaign.ends_on}})
        case = AssistanceCase(campaign=campaign, enterprise=enterprise, title=title.strip(), lead=lead,
                              diagnosis=diagnosis.strip(), plan=plan.strip(), opened_by=user)
        if opened_on is not None:
            case.opened_at = day_moment(opened_on)
        case.full_clean()
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:
            raise ValidationError(
                {"enterprise": _("This enterprise already has an open case in this campaign.")}) from None
        case.needs.set(needs)
        CaseEvent.objects.create(case=case, from_status="", to_status=Status.OPEN, actor=user)
        for need in needs:
            if need.status == NeedStatus.SUBMITTED:
                need_advance(actor=user, need=need, to_status=NeedStatus.TRIAGED,
                             note=audit.portal_note("Answered by case #%(number)d", number=case.pk))
        audit.record_create(actor=user, obj=case, fields=AUDITED_CASE_FIELDS, region_code=enterprise.region_id)
        figures_changed(campaign.pk, ["cases"], [(enterprise.region_id, case.opened_at)])
        # The firm's certificates now count as an assisted firm's, whenever they were issued.
        figures_changed(campaign.pk, ["certified"], [(enterprise.region_id, None)])
        notify(enterprise_contacts(enterprise), notice.CASE_OPENED.name, obj=case,
               params={"enterprise": enterprise.name, "case": case.title, "campaign": campaign.name},
               link=reverse("cases:detail", args=[case.pk]))
    return case


def locked_case(case: AssistanceCase, version: int | None) -> AssistanceCase:
    """The case's row, locked until the transaction ends; refuses a stale `version`."""
    current = (AssistanceCase.objects.select_for_update(of=("self",)).select_related("enterprise", "campaign")
               .get(pk=case.pk))
    if version is not None and current.version != version:
        raise conflict_error(_("case"))
    return current


def case_update(*, user: User, case: AssistanceCase, version: int | None, **fields) -> AssistanceCase:
    """Edit a case. `version` is the one the editor started from: if someone saved in between,
    nothing is saved and the editor is told, so neither change is lost silently."""
    if may_manage_case(user, case):
        allowed = MANAGER_FIELDS
    elif is_assigned_expert(user, case):
        allowed = EXPERT_FIELDS
    else:
        raise PermissionDenied
    changed = {name for name, value in fields.items() if getattr(case, name, object()) != value}
    if changed - set(allowed):
        raise PermissionDenied
    with transaction.atomic():
        case = locked_case(case, version)
        if case.is_closed and changed - {"outcome_notes"}:
            raise ValidationError(_("A closed case cannot be changed."))
        if "lead" in fields and fields["lead"] != case.lead:
            check_lead(fields["lead"], case.enterprise)
        before = audit.snapshot(case, AUDITED_CASE_FIELDS)
        for name, value in fields.items():
            setattr(case, name, value.strip() if isinstance(value, str) else value)
        case.full_clean()
        entry = audit.record_update(actor=user, obj=case, before=before, region_code=case.enterprise.region_id)
        if entry is not None:
            case.version += 1
            case.save()
    return case


def case_transition(*, user: User, case: AssistanceCase, to_status: str, note: str = "",
                    version: int | None = None) -> AssistanceCase:
    """Move a case one step on. An illegal step is refused with a message and changes nothing."""
    if not may_manage_case(user, case):
        raise PermissionDenied
    with transaction.atomic():
        case = locked_case(case, version)
        if to_status == Status.CLOSED:
            raise ValidationError(_("Close a case with its resolution and outcomes (the Close case form)."))
        if to_status not in TRANSITIONS[case.status]:
            raise ValidationError(
                _("A case that is %(current)s cannot become %(target)s."),
                params={"current": case.get_status_display(), "target": Status(to_status).label},
                code="illegal_transition",
            )
        if to_status == Status.PLAN_AGREED and not (case.diagnosis.strip() and case.plan.strip()):
            raise ValidationError(_("Write the diagnosis and the plan before marking the plan agreed."))
        before = audit.snapshot(case, ("status",))
        previous = case.status
        case.status = to_status
        case.version += 1
        case.save()
        CaseEvent.objects.create(case=case, from_status=previous, to_status=to_status, actor=user, note=note.strip())
        if to_status == Status.IN_PROGRESS:
            for need in case.needs.filter(status__in=(NeedStatus.TRIAGED, NeedStatus.MATCHED)):
                need_advance(actor=user, need=need, to_status=NeedStatus.IN_PROGRESS)
        audit.record_update(actor=user, obj=case, before=before, region_code=case.enterprise.region_id,
                            action=audit.Action.TRANSITION, note=note.strip())
    return case


def case_close(
    *, user: User, case: AssistanceCase, resolution: str, fulfilled_needs: Iterable[NeedRequest] = (),
    note: str = "", version: int | None = None, closed_on: date | None = None, **outcomes,
) -> AssistanceCase:
    """Close a case resolved or unresolved, record its outcomes, settle its needs (the ones named
    fulfilled become fulfilled, the others declined with the reason) and release its experts.
    A case entered after the fact closes on the day `closed_on` names (from its opening to today)."""
    if not may_manage_case(user, case):
        raise PermissionDenied
    unknown = set(outcomes) - {"certificate_obtained", "standard_drafted", "excellence_model_adopted",
                               "lab_set_up", "money_saved", "money_saved_period", "outcome_notes"}
    if unknown:
        raise ValidationError(_("Unknown outcome: %(names)s") % {"names": ", ".join(sorted(unknown))})
    with transaction.atomic():
        case = locked_case(case, version)
        if case.is_closed:
            raise ValidationError(_("This case is already closed."), code="illegal_transition")
        check_open_for_entry(case.campaign)
        if closed_on is not None and not timezone.localdate(case.opened_at) <= closed_on <= timezone.localdate():
            raise ValidationError({"closed_on": _("A case closes between the day it opened and today.")})
        if resolution not in Resolution.values:
            raise ValidationError({"resolution": _("Choose resolved or unresolved.")})
        if resolution == Resolution.RESOLVED and case.status != Status.IN_PROGRESS:
            raise ValidationError(
                _("A case that is %(current)s cannot be closed as resolved: the plan must be in progress first."),
                params={"current": case.get_status_display()}, code="illegal_transition",
            )
        if resolution == Resolution.UNRESOLVED and not note.strip():
            raise ValidationError({"note": _("Say why the case closes unresolved.")})
        fulfilled_ids = {need.pk for need in fulfilled_needs}
        needs = list(case.needs.all())
        if fulfilled_ids - {need.pk for need in needs}:
            raise ValidationError({"fulfilled_needs": _("Only needs answered by this case can be settled here.")})
        before = audit.snapshot(case, AUDITED_CASE_FIELDS)
        previous = case.status
        for name, value in outcomes.items():
            setattr(case, name, value.strip() if isinstance(value, str) else value)
        case.status = Status.CLOSED
        case.resolution = resolution
        case.closed_at = timezone.now() if closed_on is None else day_moment(closed_on)
        case.next_follow_up_on = None
        case.full_clean()
        case.version += 1
        case.save()
        CaseEvent.objects.create(case=case, from_status=previous, to_status=Status.CLOSED, actor=user,
                                 note=note.strip())
        case.assignments.filter(active=True).update(active=False)
        reason = _("Case #%(number)d closed without meeting this need: %(note)s") % {
            "number": case.pk, "note": note.strip() or case.get_resolution_display()}
        for need in needs:
            if not need.is_open:
                continue
            if need.pk in fulfilled_ids:
                if need.status == NeedStatus.SUBMITTED:
                    need_advance(actor=user, need=need, to_status=NeedStatus.TRIAGED)
                need_advance(actor=user, need=need, to_status=NeedStatus.FULFILLED,
                             note=audit.portal_note("Met by case #%(number)d", number=case.pk))
            else:
                need_advance(actor=user, need=need, to_status=NeedStatus.DECLINED, note=reason)
        audit.record_update(actor=user, obj=case, before=before, region_code=case.enterprise.region_id,
                            action=audit.Action.TRANSITION, note=note.strip())
        figures_changed(case.campaign_id, ["closed"], [(case.enterprise.region_id, case.closed_at)])
        notify(enterprise_contacts(case.enterprise), notice.CASE_CLOSED.name, obj=case,
               params={"case": case.title}, link=reverse("cases:rate", args=[case.pk]))
    return case


def case_assign_expert(
    *, user: User, case: AssistanceCase, expert: Expert, override_reason: str = "",
) -> CaseAssignment:
    """Assign an expert. Past the expert's capacity only with a stated reason, which is kept."""
    if not may_manage_case(user, case):
        raise PermissionDenied
    override_reason = override_reason.strip()
    with transaction.atomic():
        case = locked_case(case, None)
        if case.is_closed:
            raise ValidationError(_("Experts cannot be assigned to a closed case."))
        # Locking the expert's row serialises two assignments racing for the last free place.
        expert = experts_visible_to(user).select_for_update(of=("self",)).filter(pk=expert.pk).first()
        if expert is None:
            raise ValidationError({"expert": _("This expert is not in a pool you can use.")})
        if not expert.is_active:
            raise ValidationError({"expert": _("%(name)s is not active in the pool.") % {"name": expert.name}})
        if case.assignments.filter(expert=expert, active=True).exists():
            raise ValidationError({"expert": _("%(name)s is already assigned to this case.") % {"name": expert.name}})
        load = CaseAssignment.objects.filter(expert=expert, active=True).count()
        over = load >= expert.capacity
        if over and not override_reason:
            raise ValidationError({"override_reason": _(
                "%(name)s already carries %(load)d open cases (capacity %(capacity)d). Give a reason to assign "
                "past capacity.") % {"name": expert.name, "load": load, "capacity": expert.capacity}})
        assignment = CaseAssignment.objects.create(
            case=case, expert=expert, assigned_by=user, over_capacity=over,
            override_reason=override_reason if over else "",
        )
        for need in case.needs.filter(status=NeedStatus.TRIAGED):
            need_advance(actor=user, need=need, to_status=NeedStatus.MATCHED)
        changes = {"expert": [None, f"{expert.name} ({expert.code})"]}
        if over:
            changes["override_reason"] = [None, override_reason]
        audit.record(actor=user, obj=case, action=audit.Action.ASSIGN, region_code=case.enterprise.region_id,
                     changes=changes, note=audit.portal_note("Assigned past capacity") if over else "")
        notify([expert.user], notice.EXPERT_ASSIGNED.name, obj=case,
               params={"case": case.title, "enterprise": case.enterprise.name},
               link=reverse("cases:detail", args=[case.pk]))
    return assignment


def case_release_expert(*, user: User, case: AssistanceCase, expert: Expert, note: str = "") -> CaseAssignment:
    if not may_manage_case(user, case):
        raise PermissionDenied
    with transaction.atomic():
        assignment = case.assignments.select_for_update().filter(expert=expert, active=True).first()
        if assignment is None:
            raise ValidationError({"expert": _("%(name)s is not assigned to this case.") % {"name": expert.name}})
        assignment.active = False
        assignment.released_at = timezone.now()
        assignment.released_by = user
        assignment.save()
        audit.record(actor=user, obj=case, action=audit.Action.RELEASE, region_code=case.enterprise.region_id,
                     changes={"expert": [f"{expert.name} ({expert.code})", None]}, note=note.strip())
        # No link: a released expert no longer sees the case.
        notify([expert.user], notice.EXPERT_RELEASED.name, obj=case,
               params={"case": case.title, "enterprise": case.enterprise.name})
    return assignment


def check_attachments(uploads: list[UploadedFile], already: int = 0) -> None:
    if already + len(uploads) > ATTACHMENT_MAX_COUNT:
        raise ValidationError({"attachments": _("A visit keeps at most %(count)d files.")
                               % {"count": ATTACHMENT_MAX_COUNT}})
    errors = []
    allowed = PHOTO_TYPES | DOCUMENT_TYPES
    for upload in uploads:
        suffix = PurePath(upload.name).suffix.lower()
        if suffix not in allowed:
            errors.append(_("%(name)s: files of this type cannot be attached (allowed: %(types)s).")
                          % {"name": upload.name, "types": " ".join(sorted(allowed))})
        elif upload.size > ATTACHMENT_MAX_BYTES:
            errors.append(_("%(name)s is larger than %(limit)d MB.")
                          % {"name": upload.name, "limit": ATTACHMENT_MAX_BYTES // (1024 * 1024)})
        else:
            try:
                check_content(upload)
            except ValidationError as error:
                errors.extend(error.messages)
    if errors:
        raise ValidationError({"attachments": errors})


def save_attachments(visit: Visit, uploads: list[UploadedFile], user: User) -> None:
    for upload in uploads:
        VisitAttachment.objects.create(
            visit=visit, file=upload, original_name=upload.name[:255], size=upload.size, uploaded_by=user,
            is_photo=PurePath(upload.name).suffix.lower() in PHOTO_TYPES,
        )


def refresh_visit_dates(case: AssistanceCase) -> None:
    """The case's last visit and the follow-up promised by its latest visit."""
    latest = case.visits.order_by("-visited_on", "-id").values("visited_on", "next_follow_up_on").first()
    case.last_visit_on = latest["visited_on"] if latest else None
    case.next_follow_up_on = latest["next_follow_up_on"] if latest and not case.is_closed else None
    AssistanceCase.objects.filter(pk=case.pk).update(last_visit_on=case.last_visit_on,
                                                     next_follow_up_on=case.next_follow_up_on)


def visit_figures_changed(case: AssistanceCase, days) -> None:
    """A visit on these days changed: the visit figures of those months, and the wait of the needs
    the case answers (from each need's submission to its first visit) in the months they came in."""
    code = case.enterprise.region_id
    figures_changed(case.campaign_id, ["visits"], [(code, day) for day in days])
    submitted = list(case.needs.values_list("submitted_at", flat=True))
    if submitted:
        figures_changed(case.campaign_id, ["answered"], [(code, when) for when in submitted])


def visit_log(*, user: User, case: AssistanceCase, attachments: Iterable[UploadedFile] = (), **fields) -> Visit:
    """Log a visit on an open case: the bureau or an assigned expert, with photos and files."""
    if not may_work_on_case(user, case):
        raise PermissionDenied
    uploads = list(attachments)
    check_attachments(uploads)
    with transaction.atomic():
        case = locked_case(case, None)
        if case.is_closed:
            raise ValidationError(_("Visits cannot be logged on a closed case."))
        check_open_for_entry(case.campaign)
        visit = Visit(case=case, logged_by=user, **fields)
        visit.full_clean()
        if visit.visited_on < case.campaign.starts_on:
            raise ValidationError({"visited_on": _("The visit cannot come before the campaign starts (%(date)s).")
                                   % {"date": case.campaign.starts_on}})
        visit.save()
        save_attachments(visit, uploads, user)
        refresh_visit_dates(case)
        for need in case.needs.filter(status__in=(NeedStatus.TRIAGED, NeedStatus.MATCHED)):
            need_advance(actor=user, need=need, to_status=NeedStatus.IN_PROGRESS)
        audit.record_create(actor=user, obj=visit, fields=VISIT_FIELDS, region_code=case.enterprise.region_id)
        visit_figures_changed(case, [visit.visited_on])
        # The firm reads the visit on its page, which leaves the internal remark out; the notice
        # names only the date, the mode and the case.
        notify(enterprise_contacts(case.enterprise), notice.VISIT_LOGGED.name, obj=visit,
               params={"case": case.title, "date": visit.visited_on.isoformat(),
                       "mode": Visit.Mode(visit.mode).label},
               link=reverse("visits:detail", args=[visit.pk]))
    return visit


def visit_update(*, user: User, visit: Visit, version: int | None, attachments: Iterable[UploadedFile] = (),
                 **fields) -> Visit:
    """Edit a visit; its audit entries keep every earlier value."""
    if not may_edit_visit(user, visit):
        raise PermissionDenied
    if set(fields) - set(VISIT_FIELDS):
        raise PermissionDenied
    uploads = list(attachments)
    with transaction.atomic():
        current = (Visit.objects.select_for_update(of=("self",)).select_related("case__enterprise", "case__campaign")
                   .get(pk=visit.pk))
        if version is not None and current.version != version:
            raise conflict_error(_("visit"))
        check_attachments(uploads, already=current.attachments.count())
        before = audit.snapshot(current, VISIT_FIELDS)
        visited_before = current.visited_on
        for name, value in fields.items():
            setattr(current, name, value)
        current.full_clean()
        entry = audit.record_update(actor=user, obj=current, before=before,
                                    region_code=current.case.enterprise.region_id)
        if entry is not None:
            current.version += 1
            current.save()
        if uploads:
            save_attachments(current, uploads, user)
            audit.record(actor=user, obj=current, action=audit.Action.UPDATE,
                         region_code=current.case.enterprise.region_id,
                         changes={"attachments": [None, [upload.name for upload in uploads]]})
        refresh_visit_dates(current.case)
        if entry is not None:
            visit_figures_changed(current.case, [visited_before, current.visited_on])
    return current


def case_rate(*, user: User, case: AssistanceCase, score: int, comment: str = "") -> CaseRating:
    """The firm rates a closed case once, 1 to 5; it then counts in its experts' records."""
    if not may_rate_case(user, case):
        raise PermissionDenied
    if not case.is_closed:
        raise ValidationError(_("A case can be rated once it is closed."))
    with transaction.atomic():
        if CaseRating.objects.filter(case=case).exists():
            raise ValidationError(_("This case has already been rated."))
        rating = CaseRating(case=case, score=score, comment=comment.strip(), rated_by=user)
        rating.full_clean(exclude=["case"])
        try:
            with transaction.atomic():
                rating.save()
        except IntegrityError:
            raise ValidationError(_("This case has already been rated.")) from None
        # The record of every expert who saw the case through (experts.selectors.with_record).
        Expert.objects.filter(assignments__case=case, assignments__released_at__isnull=True).update(
            rating_count=F("rating_count") + 1, rating_total=F("rating_total") + rating.score)
        audit.record(actor=user, obj=case, action=audit.Action.UPDATE, region_code=case.enterprise.region_id,
                     changes={"rating": [None, score]}, note=comment.strip())
        figures_changed(case.campaign_id, ["ratings"], [(case.enterprise.region_id, rating.rated_at)])
    return rating
