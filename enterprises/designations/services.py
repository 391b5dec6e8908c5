"""Writes of key designations: each notes, in its own transaction, the campaign figures it changes."""

from datetime import date

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from enterprises.designations.models import KeyDesignation
from portal import audit, outbox
from portal.kpi_notes import TOPIC as KPI_TOPIC
from portal.kpi_notes import month_of
from portal.models import Region, User
from portal.selectors import region_is_visible_to

FIELDS = ("name", "region", "kind", "designated_on", "note")
# The KPI engine's source counting designations (campaigns/kpis/sources.py).
SOURCE = "designations"


def designations_changed(cells: set[tuple[str, date]]) -> None:
    """Note that the designations filed under each (region code, day) changed: the engine recounts
    the campaigns whose jurisdiction holds the region and whose period holds the month."""
    for code, day in sorted(cells):
        outbox.record(KPI_TOPIC, sources=[SOURCE], codes=[code], month=month_of(day))


def may_designate(user: User, region_code: str) -> bool:
    """Regulators inside their jurisdiction and administrators designate; supervisors only read."""
    return user.is_administrator or (user.is_regulator and region_is_visible_to(user, region_code))


def key_designation_create(*, user: User, name: str, region: Region, kind: str, designated_on: date,
                           note: str = "") -> KeyDesignation:
    """Designate a key industrial park or a key product or service in a region of the user's jurisdiction."""
    if not (user.is_regulator or user.is_administrator):
        raise PermissionDenied
    if region is not None and not may_designate(user, region.code):
        raise ValidationError({"region": _("This region lies outside your jurisdiction.")})
    designation = KeyDesignation(name=(name or "").strip(), region=region, kind=kind, designated_on=designated_on,
                                 designated_by=user, note=note or "")
    designation.full_clean()
    with transaction.atomic():
        try:
            with transaction.atomic():
                designation.save()
        except IntegrityError:
            # The same designation saved by someone else between the check and this write.
            unique = KeyDesignation._meta.constraints[0]
            raise ValidationError({NON_FIELD_ERRORS: [unique.violation_error_message]}) from None
        audit.record_create(actor=user, obj=designation, fields=FIELDS, region_code=designation.region_id)
        designations_changed({(designation.region_id, designation.designated_on)})
    return designation


def key_designation_remove(*, user: User, designation: KeyDesignation) -> None:
    """Withdraw a designation (typed by mistake, or no longer key); the audit trail keeps what it was."""
    if not may_designate(user, designation.region_id):
        raise PermissionDenied
    with transaction.atomic():
        deleted, _rows = KeyDesignation.objects.filter(pk=designation.pk).delete()
        if not deleted:
            return  # removed meanwhile by someone else
        audit.record(actor=user, obj=designation, action=audit.Action.UPDATE, region_code=designation.region_id,
                     changes={"designation": [str(designation), None]}, note=audit.portal_note("Designation withdrawn"))
        designations_changed({(designation.region_id, designation.designated_on)})
