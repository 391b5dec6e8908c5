"""Recording training sessions with their attendance (firm-times and person-times)."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from campaigns.figures import figures_changed
from campaigns.models import Campaign
from campaigns.services import check_open_for_entry, locked_campaign
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.models import Enterprise
from portal import audit
from portal.models import User
from portal.selectors import region_is_visible_to


def check_attendance(user: User, attendance: list[tuple[Enterprise, int, str]]) -> None:
    from enterprises.selectors import enterprises_visible_to

    errors = []
    seen = set()
    visible = set(enterprises_visible_to(user).filter(pk__in=[row[0].pk for row in attendance])
                  .values_list("pk", flat=True))
    for firm, persons, _names in attendance:
        if firm.pk in seen:
            errors.append(_("%(name)s is on the list twice.") % {"name": firm.name})
        seen.add(firm.pk)
        if firm.pk not in visible:
            errors.append(_("%(name)s lies outside your jurisdiction.") % {"name": firm.name})
        if not isinstance(persons, int) or not 1 <= persons <= 10000:
            errors.append(_("%(name)s: give the number of persons who came (1 to 10,000).") % {"name": firm.name})
    if errors:
        raise ValidationError({"attendances": errors})


def training_record(
    *, user: User, campaign: Campaign, region, topic: str, held_on, organiser: str,
    attendances: Iterable[tuple[Enterprise, int, str]] = (), place: str = "", mode: str = "in_person",
    service_area=None,
) -> TrainingSession:
    """Record a training session held in the user's jurisdiction, with its attendance, at once."""
    if not (user.is_administrator or (user.is_regulator and region_is_visible_to(user, region.code))):
        raise PermissionDenied
    attendances = list(attendances)
    check_attendance(user, attendances)
    with transaction.atomic():
        campaign = locked_campaign(campaign)  # its period, as campaign_update may be changing it
        check_open_for_entry(campaign)
        session = TrainingSession(campaign=campaign, region=region, topic=topic.strip(), held_on=held_on,
                                  organiser=organiser.strip(), place=place.strip(), mode=mode,
                                  service_area=service_area, recorded_by=user)
        session.full_clean()
        session.save()
        TrainingAttendance.objects.bulk_create([
            TrainingAttendance(session=session, enterprise=firm, persons=persons, names=names.strip())
            for firm, persons, names in attendances
        ])
        audit.record_create(actor=user, obj=session, fields=TRAINING_FIELDS, region_code=region.code,
                            note=audit.portal_note("%(firms)d firm-times, %(persons)d person-times",
                                                   firms=len(attendances),
                                                   persons=sum(row[1] for row in attendances)))
        figures_changed(campaign.pk, ["sessions", "attendance"], [(region.code, session.held_on)])
    return session


TRAINING_FIELDS = ("campaign", "region", "topic", "held_on", "place", "mode", "organiser", "service_area")
