"""The audit trail: services record every create, update and transition here.

Values are stored as JSON: a foreign key as its display text, a many-to-many as the sorted
display texts, dates and decimals as strings, choices by their stored value (shown by label
when read, in the reader's language).
"""

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, override

from portal.models import AuditEntry, User
from portal.selectors import EVERYWHERE, jurisdiction_prefix

Action = AuditEntry.Action

# Entries may name things that are not fields of the object itself (an assignment recorded on its
# case, a rating, files added): their labels.
EXTRA_LABELS = {
    "expert": gettext_lazy("expert"),
    "override_reason": gettext_lazy("reason for assigning past capacity"),
    "rating": gettext_lazy("satisfaction rating"),
    "certifications": gettext_lazy("certifications"),
    "attachments": gettext_lazy("attachments"),
    "targets": gettext_lazy("campaign targets"),
    "designation": gettext_lazy("key designation"),
}


# The notes the portal writes itself. They are stored as their English message, filled in, and shown
# in the reader's language (an entry is written once, in the writer's language, but read in any);
# entries written before in Chinese are recognised too. A note a person typed is shown as typed.
PORTAL_NOTES = [
    gettext_noop("Answered by case #%(number)d"),
    gettext_noop("Met by case #%(number)d"),
    gettext_noop("Assigned past capacity"),
    gettext_noop("%(firms)d firm-times, %(persons)d person-times"),
    gettext_noop("Target removed"),
    gettext_noop("Changed in administration"),
    gettext_noop("Created in administration"),
    gettext_noop("Designation withdrawn"),
]


def portal_note(message: str, **numbers: int) -> str:
    """A note of PORTAL_NOTES as stored: the English message filled in."""
    assert message in PORTAL_NOTES, message
    return message % numbers if numbers else message


@cache
def note_patterns() -> list[tuple[re.Pattern, str]]:
    def pattern(text: str) -> re.Pattern:
        return re.compile(re.sub(r"%\\\(([a-z]+)\\\)d", r"(?P<\1>\\d+)", re.escape(text)))

    patterns = []
    for message in PORTAL_NOTES:
        with override("zh-hans"):
            chinese = _(message)
        patterns += [(pattern(message), message), (pattern(chinese), message)]
    return patterns


def note_text(note: str) -> str:
    """The note in the reader's language when the portal wrote it; as typed otherwise."""
    for pattern, message in note_patterns():
        match = pattern.fullmatch(note)
        if match:
            return _(message) % {name: int(value) for name, value in match.groupdict().items()}
    return note


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (Decimal, date, datetime)):
        return str(value)
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, models.fields.files.FieldFile):
        return value.name or None
    return str(value)


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """The current values of `fields` of `obj`, ready to compare and to store."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            values[name] = sorted(str(related) for related in getattr(obj, name).all()) if obj.pk else []
        else:
            values[name] = json_value(getattr(obj, name))
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


# The demo tells a story over past months; its entries carry the story's dates (`dated`). Entries
# cannot be changed once written, so the date is given as they are written. Nothing else sets it.
_story_time: ContextVar[datetime | None] = ContextVar("audit_story_time", default=None)


@contextmanager
def dated(when: datetime) -> Iterator[None]:
    """Entries recorded inside carry `when` instead of the present (the demo's seed only)."""
    token = _story_time.set(when)
    try:
        yield
    finally:
        _story_time.reset(token)


def record(*, actor: User | None, obj: models.Model, action: str, region_code: str,
           changes: dict[str, list] | None = None, note: str = "") -> AuditEntry:
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True), object_id=str(obj.pk),
        object_repr=str(obj)[:200], region_code=region_code, action=action, actor=actor,
        changes=changes or {}, note=note, at=_story_time.get() or timezone.now(),
    )


def record_create(*, actor: User | None, obj: models.Model, fields: Iterable[str], region_code: str,
                  note: str = "") -> AuditEntry:
    # A new record's empty values and unticked boxes say nothing; leave them out of the entry.
    changes = {name: [None, value] for name, value in snapshot(obj, fields).items()
               if value is not False and value not in (None, "", [])}
    return record(actor=actor, obj=obj, action=Action.CREATE, region_code=region_code, changes=changes, note=note)


def record_update(*, actor: User | None, obj: models.Model, before: dict[str, Any], region_code: str,
                  action: str = Action.UPDATE, note: str = "") -> AuditEntry | None:
    """Record what changed since `before` (a snapshot); nothing is written when nothing changed."""
    changes = diff(before, snapshot(obj, before.keys()))
    if not changes and action == Action.UPDATE:
        return None
    return record(actor=actor, obj=obj, action=action, region_code=region_code, changes=changes, note=note)


def audit_entries_visible_to(user: User) -> QuerySet[AuditEntry]:
    """Regulators and supervisors read the entries of their jurisdiction; administrators all."""
    entries = AuditEntry.objects.select_related("actor", "content_type")
    if not user.is_authenticated or not (user.is_regulator or user.is_supervisor or user.is_administrator):
        return entries.none()
    prefix = jurisdiction_prefix(user)
    if prefix is None:
        return entries.none()
    if prefix == EVERYWHERE:
        return entries
    return entries.filter(region_code__startswith=prefix)


def audit_entries_for(user: User, obj: models.Model) -> QuerySet[AuditEntry]:
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=True)
    return audit_entries_visible_to(user).filter(content_type=content_type, object_id=str(obj.pk))


def with_rows(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Entries with `rows` (change_rows) attached, for templates/portal/_audit_trail.html."""
    entries = list(entries)
    for entry in entries:
        entry.rows = change_rows(entry)
        entry.note_text = note_text(entry.note)
    return entries


def change_rows(entry: AuditEntry) -> list[dict[str, Any]]:
    """The entry's changes as rows of (field label, old, new) in the reader's language."""
    model = entry.content_type.model_class()
    rows = []
    for name, pair in (entry.changes or {}).items():
        old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        label = str(EXTRA_LABELS.get(name, name))
        if model is not None:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:  # a field since removed: show its name
                field = None
            if field is not None and hasattr(field, "verbose_name"):  # not a reverse relation
                label = str(field.verbose_name)
                choices = dict(field.flatchoices) if getattr(field, "choices", None) else None
                if choices:
                    old, new = choices.get(old, old), choices.get(new, new)
        rows.append({"field": label, "old": display(old), "new": display(new)})
    return rows


def display(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)
