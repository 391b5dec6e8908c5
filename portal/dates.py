"""Days and moments: records entered after the fact give a day; the tables keep a moment."""

from datetime import date, datetime, time

from django.utils import timezone

# Noon, local time: a day's moment stays in that day (and month) whatever the time zone arithmetic.
NOON = time(12)


def day_moment(day: date) -> datetime:
    """The moment that stands for `day` when only the day of an event is known."""
    return timezone.make_aware(datetime.combine(day, NOON))
