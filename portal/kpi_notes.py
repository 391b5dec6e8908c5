"""The outbox topic that tells the KPI engine which figures a write changed, and its month format.

It lives at the bottom because the registry (enterprises/) notes changes to a firm's figures as
well as campaigns/ does, and the registry does not know campaigns: its notes name the firm, and the
engine works out which campaigns count it (campaigns/kpis/changes.py).
"""

from datetime import date, datetime

from django.utils import timezone

TOPIC = "figures"
# The KPI engine's sources a survey answer counts in (campaigns/kpis/sources.py): the follow-up's
# outcomes, the firms surveyed and those of them certified, the baseline's services wanted.
SURVEY_SOURCES = ("surveys", "surveyed", "surveyed_certified", "baseline")
# ... and a certificate: among the firms assisted, and among the firms surveyed.
CERTIFICATE_SOURCES = ("certified", "surveyed_certified")


def month_of(when: date | datetime | None) -> str | None:
    """"YYYY-MM" of a date, or of a moment in the portal's time zone; None stays None (every month)."""
    if when is None:
        return None
    if isinstance(when, datetime) and timezone.is_aware(when):
        when = timezone.localtime(when)
    return f"{when:%Y-%m}"
