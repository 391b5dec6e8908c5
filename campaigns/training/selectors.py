"""Reads of training sessions: which a user may see, their totals, and firms looked up by code."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from campaigns.models import Campaign
from campaigns.selectors import campaigns_visible_to
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.models import Enterprise
from enterprises.selectors import enterprises_visible_to
from enterprises.uscc import normalise
from portal.models import User
from portal.selectors import jurisdiction_prefix, region_code_q

# Credit codes looked up per query: keeps every IN (...) list well inside SQLite's parameter limit.
LOOKUP_CHUNK = 500


def training_sessions_visible_to(user: User) -> QuerySet[TrainingSession]:
    """Regulators and supervisors: sessions held in their jurisdiction; administrators: all;
    SME users and experts: none (the pages and the API refuse them by role first)."""
    sessions = TrainingSession.objects.select_related("campaign", "region", "service_area", "recorded_by")
    if jurisdiction_prefix(user) is None:
        return sessions.none()
    return sessions.filter(region_code_q(user, "region"))


def with_totals(sessions: QuerySet[TrainingSession]) -> QuerySet[TrainingSession]:
    """`firm_times` (attending firms) and `person_times` (their persons) on each session.

    Correlated subqueries rather than a join grouped by session: the database aggregates the
    attendance of the rows it returns (one page), not of every session in the jurisdiction,
    and the page's COUNT needs no grouping at all.
    """
    attendance = TrainingAttendance.objects.filter(session=OuterRef("pk")).order_by().values("session")
    firms = attendance.annotate(n=Count("pk")).values("n")
    persons = attendance.annotate(n=Sum("persons")).values("n")
    return sessions.annotate(
        firm_times=Coalesce(Subquery(firms, output_field=IntegerField()), 0),
        person_times=Coalesce(Subquery(persons, output_field=IntegerField()), 0),
    )


def campaigns_for_training(user: User) -> QuerySet[Campaign]:
    """Campaigns a user may record a session for: those of their jurisdiction, those above it
    (covering it) and those inside it, which its regulators run as well. Whether the session's
    region lies inside the chosen campaign is the model's check (TrainingSession.clean)."""
    return campaigns_visible_to(user).order_by("-starts_on", "name")


@dataclass
class FirmLookup:
    """Credit codes sorted into the firms the user may name and the codes they may not."""

    visible: dict[str, Enterprise] = field(default_factory=dict)
    outside: set[str] = field(default_factory=set)  # registered, outside the user's jurisdiction

    def unknown(self, code: str) -> bool:
        return code not in self.visible and code not in self.outside


def firms_by_code(user: User, codes: Iterable[str]) -> FirmLookup:
    """Look up normalised credit codes: two queries per 500 codes, never one per row."""
    codes = list(dict.fromkeys(normalise(code) for code in codes if code))
    lookup = FirmLookup()
    for start in range(0, len(codes), LOOKUP_CHUNK):
        chunk = codes[start:start + LOOKUP_CHUNK]
        found = {firm.uscc: firm for firm in enterprises_visible_to(user).filter(uscc__in=chunk)}
        lookup.visible.update(found)
        missing = [code for code in chunk if code not in found]
        if missing:
            lookup.outside.update(Enterprise.objects.filter(uscc__in=missing).values_list("uscc", flat=True))
    return lookup
