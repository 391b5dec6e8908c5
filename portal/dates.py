"""Days and moments: records entered after the fact give a day; the tables keep a moment."""

from datetime import date, datetime, time

from django.utils import timezone

# Noon, local time: a day's moment stays in that day (and month) whatever the time zone arithmetic.
NOON = time(12)


def day_moment(day: date) -> datetime:
    """The moment that stands for `day` when only the day of an event is known."""
    return timezone.make_aware(datetime.combine(day, NOON))


# A record typed in more than this many days after its event counts as entered later (补录): a
# paper form, a sign-in sheet or a need received by phone. Campaigns add their own end to it.
ENTERED_LATER_DAYS = 7


def typed_in_later(event_day: date | None, entered_day: date | None) -> bool:
    """Whether a record was typed in more than ENTERED_LATER_DAYS after the day it happened."""
    if event_day is None or entered_day is None:
        return False
    return (entered_day - event_day).days > ENTERED_LATER_DAYS
