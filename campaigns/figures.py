"""Noting, in a write's own transaction, which of a campaign's figures it changed.

The services of campaigns, its cases and its training call these; the KPI engine (campaigns/kpis/)
drains the notes from the outbox and recounts what they name, soon after the commit. The note says
which sources of figures a write touched (see campaigns/kpis/sources.py: cases, closed, visits,
needs, answered, certified, ratings, surveys, sessions, attendance; "*" for all), the region code
the rows are filed under and the month of the event; a month of None means every month.
"""

from collections.abc import Iterable
from datetime import date, datetime

from portal import outbox
from portal.kpi_notes import TOPIC, month_of


def figures_changed(campaign_id: int, sources: Iterable[str], cells: Iterable[tuple[str, date | datetime | None]]
                    ) -> None:
    """The rows of `sources` filed under each (region code, date) cell changed."""
    outbox.record(TOPIC, campaign=campaign_id, sources=sorted(set(sources)),
                  cells=sorted({(code, month_of(when)) for code, when in cells}, key=str))


def all_figures_changed(campaign_id: int) -> None:
    """The campaign's period or scope changed: every figure is to be counted again."""
    outbox.record(TOPIC, campaign=campaign_id, all=True)


def targets_changed(campaign_id: int) -> None:
    outbox.record(TOPIC, campaign=campaign_id, targets=True)
