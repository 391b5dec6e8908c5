"""Every write to campaigns and their targets: creating, editing the period and scope, setting
and removing targets. Each is one transaction and records its audit entry."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.cases.models import AssistanceCase, Visit
from campaigns.figures import all_figures_changed, targets_changed
from campaigns.models import Campaign, CampaignTarget
from campaigns.selectors import campaigns_visible_to, may_manage_campaign
from campaigns.training.models import TrainingSession
from portal import audit
from portal.models import Region, ServiceArea, User

AUDITED_CAMPAIGN_FIELDS = ("name", "theme", "organiser", "region", "starts_on", "ends_on", "service_areas")
# What the regulators running a campaign may change; administrators, who create campaigns, also
# rename them. The jurisdiction never changes: the campaign's cases and sessions were checked against it.
MANAGER_FIELDS = ("theme", "starts_on", "ends_on", "service_areas")
ADMINISTRATOR_FIELDS = ("name", "organiser", *MANAGER_FIELDS)


def campaign_create(
    *, user: User, name: str, organiser: str, region: Region, starts_on: date, ends_on: date, theme: str = "",
    service_areas: Iterable[ServiceArea] = (),
) -> Campaign:
    """An administrator creates a campaign (the issue: administrators create it, its regulators run it)."""
    if not (user.is_authenticated and user.is_administrator):
        raise PermissionDenied
    with transaction.atomic():
        campaign = Campaign(name=name.strip(), organiser=organiser.strip(), region=region, starts_on=starts_on,
                            ends_on=ends_on, theme=theme.strip())
        campaign.full_clean()
        campaign.save()
        campaign.service_areas.set(service_areas)
        audit.record_create(actor=user, obj=campaign, fields=AUDITED_CAMPAIGN_FIELDS, region_code=region.code)
    return campaign


def recorded_span(campaign: Campaign) -> tuple[date | None, date | None]:
    """The first day anything happened in the campaign (a case opened, a visit, a training session)
    and the last day a case was opened or a session held: the period must keep covering them.

    Visits after the end are not counted: a case opened while the campaign ran is seen through.
    """
    cases = AssistanceCase.objects.filter(campaign=campaign).aggregate(first=Min("opened_at"), last=Max("opened_at"))
    visits = Visit.objects.filter(case__campaign=campaign).aggregate(first=Min("visited_on"))
    sessions = TrainingSession.objects.filter(campaign=campaign).aggregate(first=Min("held_on"), last=Max("held_on"))
    opened = [timezone.localtime(cases[key]).date() if cases[key] else None for key in ("first", "last")]
    firsts = [day for day in (opened[0], visits["first"], sessions["first"]) if day is not None]
    lasts = [day for day in (opened[1], sessions["last"]) if day is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def check_period(campaign: Campaign, starts_on: date, ends_on: date) -> dict[str, list[str]]:
    """A shortened period must still hold every case and training session already recorded."""
    errors: dict[str, list[str]] = {}
    first, last = recorded_span(campaign)
    if first is not None and starts_on > first:
        errors["starts_on"] = [_("The campaign cannot start after %(date)s: its first case, visit or training "
                                 "session dates from that day.") % {"date": first}]
    if last is not None and ends_on < last:
        errors["ends_on"] = [_("The campaign cannot end before %(date)s: a case was opened or a training session "
                               "held on that day.") % {"date": last}]
    return errors


def check_service_areas(campaign: Campaign, service_areas: list[ServiceArea]) -> dict[str, list[str]]:
    """An area the campaign's cases answer needs in, or its training sessions cover, stays in scope.

    No area at all means every area is in scope (campaigns.cases.services.case_open), so that is allowed.
    """
    if not service_areas:
        return {}
    kept = {area.pk for area in service_areas}
    used = set(AssistanceCase.needs.through.objects.filter(assistancecase__campaign=campaign)
               .values_list("needrequest__service_area_id", flat=True))
    used |= set(TrainingSession.objects.filter(campaign=campaign, service_area__isnull=False)
                .values_list("service_area_id", flat=True))
    dropped = ServiceArea.objects.filter(pk__in=used - kept).order_by("code")
    if not dropped:
        return {}
    return {"service_areas": [_("The campaign's cases or training sessions are about %(areas)s: keep them in "
                                "scope.") % {"areas": "、".join(str(area) for area in dropped)}]}


def campaign_update(*, user: User, campaign: Campaign, **fields) -> Campaign:
    """Change a campaign's theme, period and service areas (administrators: its name and organiser too).

    A period that would leave out a case or training session already recorded is refused, per field,
    and so is dropping a service area its cases or sessions are about.
    """
    if not may_manage_campaign(user, campaign):
        raise PermissionDenied
    allowed = ADMINISTRATOR_FIELDS if user.is_administrator else MANAGER_FIELDS
    if set(fields) - set(ADMINISTRATOR_FIELDS):
        raise PermissionDenied
    # A field this editor may not change is refused only when its value would change (an API
    # client may send the campaign back whole).
    if any(getattr(campaign, name) != value for name, value in fields.items() if name not in allowed):
        raise PermissionDenied
    fields = {name: value for name, value in fields.items() if name in allowed}
    service_areas = list(fields.pop("service_areas")) if "service_areas" in fields else None
    with transaction.atomic():
        # Locked: two editors saving at once are applied one after the other, each checked.
        campaign = Campaign.objects.select_for_update().select_related("region").get(pk=campaign.pk)
        before = audit.snapshot(campaign, AUDITED_CAMPAIGN_FIELDS)
        for name, value in fields.items():
            setattr(campaign, name, value.strip() if isinstance(value, str) else value)
        errors: dict[str, list[str]] = {}
        try:
            campaign.full_clean()
        except ValidationError as error:
            errors.update(error.message_dict)
        if not {"starts_on", "ends_on", NON_FIELD_ERRORS} & set(errors):
            for name, messages in check_period(campaign, campaign.starts_on, campaign.ends_on).items():
                errors.setdefault(name, []).extend(messages)
        if service_areas is not None:
            errors.update(check_service_areas(campaign, service_areas))
        if errors:
            raise ValidationError(errors)
        campaign.save()
        if service_areas is not None:
            campaign.service_areas.set(service_areas)
        entry = audit.record_update(actor=user, obj=campaign, before=before, region_code=campaign.region_id)
        if entry is not None and {"starts_on", "ends_on", "service_areas"} & set(entry.changes):
            all_figures_changed(campaign.pk)  # which needs, certificates and visits count: all of them
    return campaign


def campaign_target_remove(*, user: User, target: CampaignTarget) -> None:
    """Remove one of a campaign's targets; the campaign's audit trail keeps what it was."""
    campaign = target.campaign
    if not may_manage_campaign(user, campaign):
        raise PermissionDenied
    with transaction.atomic():
        deleted, _rows = CampaignTarget.objects.filter(pk=target.pk).delete()
        if not deleted:
            return  # removed meanwhile by someone else: nothing left to do, nothing to record
        # Recorded on the campaign, where the trail can still be found once the target is gone.
        audit.record(actor=user, obj=campaign, action=audit.Action.UPDATE, region_code=campaign.region_id,
                     changes={"targets": [str(target), None]}, note=audit.portal_note("Target removed"))
        targets_changed(campaign.pk)


def check_open_for_entry(campaign: Campaign) -> None:
    """Refuse a record for a campaign its administrator closed for entry."""
    if not campaign.is_open_for_entry:
        raise ValidationError({"campaign": _("This campaign was closed for entry on %(date)s: its records are "
                                             "final.") % {"date": timezone.localdate(campaign.entry_closed_at)}})


def check_event_day(campaign: Campaign, day: date, field: str) -> None:
    """A record entered after the fact (补录) names a day inside the campaign's period, not in the future."""
    if day > timezone.localdate():
        raise ValidationError({field: _("The date cannot be in the future.")})
    if not campaign.is_running_on(day):
        raise ValidationError({field: _("The campaign ran from %(start)s to %(end)s; the date must lie in that "
                                        "period.") % {"start": campaign.starts_on, "end": campaign.ends_on}})


def campaign_entry_close(*, user: User, campaign: Campaign) -> Campaign:
    """The administrator closes a campaign for entry: nothing more is recorded in it, after the fact
    included. Closing again changes nothing."""
    if not (user.is_authenticated and user.is_administrator):
        raise PermissionDenied
    with transaction.atomic():
        campaign = locked_campaign(campaign)
        if campaign.entry_closed_at is None:
            before = audit.snapshot(campaign, ("entry_closed_at",))
            campaign.entry_closed_at, campaign.entry_closed_by = timezone.now(), user
            campaign.save(update_fields=["entry_closed_at", "entry_closed_by"])
            audit.record_update(actor=user, obj=campaign, before=before, region_code=campaign.region_id)
    return campaign


def campaign_entry_reopen(*, user: User, campaign: Campaign) -> Campaign:
    """The administrator opens a closed campaign for entry again (a correction is due)."""
    if not (user.is_authenticated and user.is_administrator):
        raise PermissionDenied
    with transaction.atomic():
        campaign = locked_campaign(campaign)
        if campaign.entry_closed_at is not None:
            before = audit.snapshot(campaign, ("entry_closed_at",))
            campaign.entry_closed_at, campaign.entry_closed_by = None, None
            campaign.save(update_fields=["entry_closed_at", "entry_closed_by"])
            audit.record_update(actor=user, obj=campaign, before=before, region_code=campaign.region_id)
    return campaign


def locked_campaign(campaign: Campaign) -> Campaign:
    """The campaign's row, locked until the transaction ends, with its current period."""
    return Campaign.objects.select_for_update().select_related("region").get(pk=campaign.pk)


def campaign_target_set(*, user: User, campaign: Campaign, metric: str, value=None, scope: str = "campaign",
                        region=None, key: str = "", base_campaign: Campaign | None = None,
                        base_percent=None) -> CampaignTarget:
    """Set (create or change) one target of a campaign: a value, or at least `base_percent`% more
    than `base_campaign`'s figure in the same region (a campaign the user may see, not this one);
    `key` names the certification scheme or the service area of a figure counted per scheme or area."""
    if not may_manage_campaign(user, campaign):
        raise PermissionDenied
    key = (key or "").strip().lower()
    try:
        value = None if value in (None, "") else Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({"value": _("Enter a number.")}) from None
    try:
        base_percent = None if base_percent in (None, "") else Decimal(str(base_percent))
    except InvalidOperation:
        raise ValidationError({"base_percent": _("Enter a number.")}) from None
    if base_campaign is not None and not campaigns_visible_to(user).filter(pk=base_campaign.pk).exists():
        raise ValidationError({"base_campaign": _("No such campaign.")})
    with transaction.atomic():
        target = (CampaignTarget.objects.select_for_update()
                  .filter(campaign=campaign, metric=metric, key=key, scope=scope, region=region).first())
        created = target is None
        target = target or CampaignTarget(campaign=campaign, metric=metric, key=key, scope=scope, region=region)
        goal = (value, base_campaign.pk if base_campaign else None, base_percent)
        if not created and (target.value, target.base_campaign_id, target.base_percent) == goal:
            return target  # unchanged: nothing to save, record or recompute
        fields = ("value", "base_campaign", "base_percent")
        before = audit.snapshot(target, fields) if not created else {}
        target.value, target.base_campaign, target.base_percent = value, base_campaign, base_percent
        target.full_clean()
        target.save()
        if created:
            audit.record_create(actor=user, obj=target, fields=("metric", "key", "scope", "region", *fields),
                                region_code=campaign.region_id)
        else:
            audit.record_update(actor=user, obj=target, before=before, region_code=campaign.region_id)
    targets_changed(campaign.pk)
    return target
