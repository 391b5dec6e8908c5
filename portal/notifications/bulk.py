"""Notifications for many objects at once, written by the database (the daily reminders).

`notify_set` turns a kind's templates, translated once per language, into SQL string expressions
and writes every notification of the set with one INSERT ... SELECT per language, then their
deliveries with one more per channel: the number of statements does not grow with the number of
cases. Each notification carries a key (kind, object, date), unique per recipient, and the
inserts skip keys already there, so a rerun of the same day's job adds nothing.
"""

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation

from portal import outbox
from portal.models import User
from portal.notifications.channels import channels
from portal.notifications.kinds import KINDS
from portal.notifications.models import Delivery, Notification, NotificationPreference

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass
class NotificationSet:
    """What to write, in SQL: `source` is the FROM/JOIN clause and `where` its condition (with
    `params`), `recipient` the column naming the recipient's user id; `values` maps each template
    placeholder to an SQL text expression; `link`, `object_id` and `key` are SQL text expressions."""

    kind: str
    source: str
    where: str
    recipient: str
    object_type: str
    object_id: str
    key: str
    link: str = "''"
    values: dict[str, str] = field(default_factory=dict)
    params: list = field(default_factory=list)


def literal_sql(text: str, values: dict[str, str]) -> tuple[str, list]:
    """A translated template as an SQL concatenation of literals (parameters) and expressions."""
    parts, params = [], []
    for position, piece in enumerate(PLACEHOLDER.split(text)):
        if position % 2:
            parts.append(f"COALESCE({values[piece]}, '')")
        elif piece:
            parts.append("%s")
            params.append(piece.replace("%%", "%"))
    return (" || ".join(parts) or "''"), params


def notify_set(spec: NotificationSet) -> int:
    """Write the set's notifications and deliveries; returns how many notifications are new."""
    kind = KINDS[spec.kind]
    note_table = connection.ops.quote_name(Notification._meta.db_table)
    user_table = connection.ops.quote_name(User._meta.db_table)
    # Adapted as the ORM stores it, so the deliveries' statement finds the rows by this moment.
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    key_column = connection.ops.quote_name("key")
    created = 0
    with transaction.atomic():
        for language, _name in settings.LANGUAGES:
            with translation.override(language):
                title_sql, title_params = literal_sql(str(kind.title), spec.values)
                body_sql, body_params = literal_sql(str(kind.body), spec.values)
            sql = (
                f"INSERT INTO {note_table} (recipient_id, kind, title, body, link, object_type, object_id, "
                f"{key_column}, created_at) SELECT {spec.recipient}, %s, {title_sql}, {body_sql}, {spec.link}, %s, "
                f"{spec.object_id}, {spec.key}, %s FROM {spec.source} "
                f"JOIN {user_table} recipient ON recipient.id = {spec.recipient} "
                f"WHERE ({spec.where}) AND recipient.is_active AND recipient.language = %s "
                f"ON CONFLICT DO NOTHING"
            )
            params = [spec.kind, *title_params, *body_params, spec.object_type, now, *spec.params, language]
            if language == settings.LANGUAGE_CODE:
                # Someone whose language the portal no longer offers is written to in the default one.
                sql = sql.replace("recipient.language = %s", "(recipient.language = %s OR recipient.language NOT IN ("
                                  + ", ".join(["%s"] * len(settings.LANGUAGES)) + "))")
                params += [code for code, _name in settings.LANGUAGES]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                created += max(cursor.rowcount, 0)
        if created:
            deliveries_for_set(spec.kind, now)
    return created


def deliveries_for_set(kind: str, created_at) -> None:
    """A pending delivery per channel for each notification just written, as its recipient wants."""
    delivery_table = connection.ops.quote_name(Delivery._meta.db_table)
    note_table = connection.ops.quote_name(Notification._meta.db_table)
    user_table = connection.ops.quote_name(User._meta.db_table)
    preference_table = connection.ops.quote_name(NotificationPreference._meta.db_table)
    mode = f"COALESCE(preference.email, '{NotificationPreference.Email.INSTANT}')"
    instant = False
    for channel in channels():
        if not channel.address_column:
            continue  # a channel without an address column takes part only in `notify`
        address = connection.ops.quote_name(channel.address_column)
        digest_clause = "" if channel.supports_digest else f" AND {mode} <> 'digest'"
        sql = (
            f"INSERT INTO {delivery_table} (notification_id, channel, digest, state, attempts, next_attempt_at, "
            f"claim, last_error) SELECT note.id, %s, {mode} = 'digest', 'pending', 0, %s, '', '' "
            f"FROM {note_table} note JOIN {user_table} recipient ON recipient.id = note.recipient_id "
            f"LEFT JOIN {preference_table} preference ON preference.user_id = note.recipient_id "
            f"AND preference.kind = note.kind "
            f"WHERE note.created_at = %s AND note.kind = %s AND {mode} <> 'off' AND recipient.{address} <> ''"
            f"{digest_clause} ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [channel.name, created_at, created_at, kind])
        instant = True
    if instant:
        outbox.record("notifications")

