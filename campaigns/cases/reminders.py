"""The daily reminders (beat, 07:30): to each case's lead regulator, follow-ups due tomorrow,
follow-ups overdue and cases without a visit for 30 days; to the firm, one reminder to rate a case
closed a week ago and still unrated.

Each kind is written by the database for every case at once (portal/notifications/bulk.py): the
statements do not grow with the number of cases, and each notification's key (kind, case, date)
lets a rerun on the same day, or the next day for the same follow-up, add nothing.
"""

from datetime import datetime, time, timedelta

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns.cases.models import AssistanceCase, CaseRating
from campaigns.cases.selectors import STALE_AFTER_DAYS
from enterprises.models import Enterprise
from portal.notifications import kinds as notice
from portal.notifications.bulk import NotificationSet, notify_set

RATING_REMINDER_AFTER_DAYS = 7
# A case closed longer ago than this is not chased any more (nor when the reminders first start).
RATING_REMINDER_UNTIL_DAYS = 30


def text(sql: str) -> str:
    return f"CAST({sql} AS TEXT)"


def literal(value: str) -> str:
    """A constant string in SQL (URL paths and key prefixes written by the portal itself)."""
    return "'" + value.replace("'", "''").replace("%", "%%") + "'"


def url_sql(url_name: str, id_sql: str) -> str:
    """The page of an object, as SQL: the URL reversed once with a marker for the id."""
    marker = 987654321
    before, after = reverse(url_name, args=[marker]).split(str(marker))
    return f"{literal(before)} || {text(id_sql)} || {literal(after)}"


def case_source() -> str:
    q = connection.ops.quote_name
    return (f"{q(AssistanceCase._meta.db_table)} c JOIN {q(Enterprise._meta.db_table)} e "
            f"ON e.id = c.enterprise_id")


def lead_reminder(kind: str, where: str, params: list, date_sql: str, key_date_sql: str) -> NotificationSet:
    return NotificationSet(
        kind=kind, source=case_source(), where=where, params=params, recipient="c.lead_id",
        object_type="assistancecase", object_id=text("c.id"),
        key=f"{literal(kind + ':')} || {text('c.id')} || ':' || {key_date_sql}",
        link=url_sql("cases:detail", "c.id"),
        values={"case": "c.title", "enterprise": "e.name", "date": date_sql},
    )


def reminders_send(today=None) -> dict[str, int]:
    """Write today's reminders; returns how many are new per kind (0 everywhere on a rerun)."""
    today = today or timezone.localdate()
    adapt = connection.ops.adapt_datefield_value
    closed = AssistanceCase.Status.CLOSED
    follow_up = text("c.next_follow_up_on")
    stale_cutoff = today - timedelta(days=STALE_AFTER_DAYS)
    stale_since = f"COALESCE({text('c.last_visit_on')}, SUBSTR({text('c.opened_at')}, 1, 10))"
    sets = [
        lead_reminder(notice.FOLLOW_UP_DUE.name, "c.status <> %s AND c.next_follow_up_on = %s",
                      [closed, adapt(today + timedelta(days=1))], follow_up, follow_up),
        lead_reminder(notice.FOLLOW_UP_OVERDUE.name, "c.status <> %s AND c.next_follow_up_on < %s",
                      [closed, adapt(today)], follow_up, follow_up),
        lead_reminder(notice.CASE_STALE.name,
                      "c.status <> %s AND (c.last_visit_on < %s OR (c.last_visit_on IS NULL AND c.opened_at < %s))",
                      [closed, adapt(stale_cutoff), connection.ops.adapt_datetimefield_value(
                          timezone.make_aware(datetime.combine(stale_cutoff, time.min)))],
                      stale_since, stale_since),
        rating_reminders(today),
    ]
    return {spec.kind: notify_set(spec) for spec in sets}


def rating_reminders(today) -> NotificationSet:
    q = connection.ops.quote_name
    start = timezone.make_aware(datetime.combine(today, time.min))
    source = (f"{case_source()} JOIN {q(Enterprise.users.through._meta.db_table)} contact "
              f"ON contact.enterprise_id = e.id")
    return NotificationSet(
        kind=notice.RATING_REMINDER.name, source=source, recipient="contact.user_id",
        where=(f"c.status = %s AND c.closed_at < %s AND c.closed_at >= %s AND NOT EXISTS "
               f"(SELECT 1 FROM {q(CaseRating._meta.db_table)} rating WHERE rating.case_id = c.id) "
               f"AND recipient.role = %s"),
        params=[AssistanceCase.Status.CLOSED,
                connection.ops.adapt_datetimefield_value(start - timedelta(days=RATING_REMINDER_AFTER_DAYS - 1)),
                connection.ops.adapt_datetimefield_value(start - timedelta(days=RATING_REMINDER_UNTIL_DAYS)), "sme"],
        object_type="assistancecase", object_id=text("c.id"),
        key=f"{literal(notice.RATING_REMINDER.name + ':')} || {text('c.id')}",
        link=url_sql("cases:rate", "c.id"), values={"case": "c.title"},
    )
