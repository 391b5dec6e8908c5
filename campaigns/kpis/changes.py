"""The KPI engine's side of the outbox: notes of changed figures become recounts.

A note from campaigns/ names its campaign (campaigns/figures.py); a note from the registry names a
firm (enterprises/services.py: figures_changed), and the campaigns that count that firm are worked
out here: those with a case for it, those whose jurisdiction and period take its needs, those where
it attended a training session, and those its surveys name. A note of key designations names only
region codes and a month (enterprises/designations/services.py): the campaigns over those regions
whose period holds the month count them. Deleting a row (in
Django admin) is noted by the signal handlers at the bottom, in the deleting transaction.
"""

from collections import defaultdict

from django.db.models.signals import post_delete
from django.dispatch import receiver

from campaigns.cases.models import AssistanceCase, CaseRating, Visit
from campaigns.figures import figures_changed
from campaigns.kpis.engine import Touched, recount
from campaigns.kpis.sources import month_bounds
from campaigns.models import Campaign
from campaigns.training.models import TrainingAttendance, TrainingSession
from enterprises.models import Certification, Enterprise, KeyDesignation, NeedRequest, NeedsSurvey
from portal import outbox
from portal.kpi_notes import CERTIFICATE_SOURCES, SURVEY_SOURCES, TOPIC, month_of
from portal.models import OutboxEntry, enclosing_codes


@outbox.handles(TOPIC)
def recount_noted(entries: list[OutboxEntry]) -> None:
    """Recount, campaign by campaign, what a slice of notes names (in the drain's transaction)."""
    work: dict[int, Touched] = defaultdict(Touched)
    for entry in entries:
        note = entry.payload
        if "firm" in note:
            for campaign_id, code, month, sources in firm_cells(note):
                work[campaign_id].add(sources, code, month)
            continue
        if "campaign" not in note:  # rows of a region, not of a firm (key designations)
            for campaign_id in covering_campaigns(note["codes"], note.get("month")):
                for code in note["codes"]:
                    work[campaign_id].add(note["sources"], code, note.get("month"))
            continue
        touched = work[note["campaign"]]
        touched.everything |= bool(note.get("all"))
        touched.targets |= bool(note.get("targets"))
        for code, month in note.get("cells", []):
            touched.add(note["sources"], code, month)
    for campaign_id in sorted(work):
        recount(campaign_id, work[campaign_id])


def covering_campaigns(codes: list[str], month: str | None) -> list[int]:
    """The campaigns whose jurisdiction holds one of the region codes and whose period the month
    (None: any) overlaps."""
    covering = Campaign.objects.filter(region_id__in={c for code in codes for c in enclosing_codes(code)})
    if month is not None:
        first, following = month_bounds(month)
        covering = covering.filter(starts_on__lt=following, ends_on__gte=first)
    return list(covering.values_list("pk", flat=True))


def firm_cells(note: dict):
    """(campaign, code, month, sources) for a note about a firm's figures."""
    firm, codes, month, sources = note["firm"], note["codes"], note.get("month"), note["sources"]
    every = "*" in sources
    with_case = set(AssistanceCase.objects.filter(enterprise_id=firm).values_list("campaign_id", flat=True))
    case_sources = ([name for name in sources if name not in ("needs", *SURVEY_SOURCES, "designations")]
                    if not every else ["*"])
    if case_sources:
        for campaign_id in with_case:
            for code in codes:
                yield campaign_id, code, month, case_sources
    if every or "needs" in sources:
        for campaign_id in covering_campaigns(codes, month):
            for code in codes:
                yield campaign_id, code, month, ["needs"]
    survey_sources = list(SURVEY_SOURCES) if every else [name for name in sources if name in SURVEY_SOURCES]
    if survey_sources:
        # The campaigns the firm answered a survey of: its answers, and its certificates among the
        # surveyed firms', count there.
        survey_campaigns = set(NeedsSurvey.objects.filter(enterprise_id=firm, campaign__isnull=False)
                               .values_list("campaign_id", flat=True))
        if note.get("campaign"):
            survey_campaigns.add(note["campaign"])
        for campaign_id in survey_campaigns:
            for code in codes:
                yield campaign_id, code, month, survey_sources
    if every:
        # Firm-times count where the session was held, broken down by the firm's industry and size.
        for campaign_id, code in (TrainingAttendance.objects.filter(enterprise_id=firm)
                                  .values_list("session__campaign_id", "session__region_id").distinct()):
            yield campaign_id, code, None, ["attendance"]


# --- Rows deleted outside the services (Django admin) ------------------------------------------


@receiver(post_delete, sender=Visit, dispatch_uid="kpi-visit-deleted")
def visit_deleted(sender, instance: Visit, **kwargs) -> None:
    case = AssistanceCase.objects.filter(pk=instance.case_id).select_related("enterprise").first()
    if case is not None:
        figures_changed(case.campaign_id, ["visits", "answered"], [(case.enterprise.region_id, instance.visited_on),
                                                                   (case.enterprise.region_id, None)])


@receiver(post_delete, sender=AssistanceCase, dispatch_uid="kpi-case-deleted")
def case_deleted(sender, instance: AssistanceCase, **kwargs) -> None:
    region = Enterprise.objects.filter(pk=instance.enterprise_id).values_list("region_id", flat=True).first()
    if region is not None and Campaign.objects.filter(pk=instance.campaign_id).exists():
        figures_changed(instance.campaign_id, ["*"], [(region, None)])


@receiver(post_delete, sender=CaseRating, dispatch_uid="kpi-rating-deleted")
def rating_deleted(sender, instance: CaseRating, **kwargs) -> None:
    case = AssistanceCase.objects.filter(pk=instance.case_id).select_related("enterprise").first()
    if case is not None:
        figures_changed(case.campaign_id, ["ratings"], [(case.enterprise.region_id, instance.rated_at)])


@receiver(post_delete, sender=TrainingSession, dispatch_uid="kpi-session-deleted")
def session_deleted(sender, instance: TrainingSession, **kwargs) -> None:
    if Campaign.objects.filter(pk=instance.campaign_id).exists():
        figures_changed(instance.campaign_id, ["sessions", "attendance"], [(instance.region_id, instance.held_on)])


@receiver(post_delete, sender=TrainingAttendance, dispatch_uid="kpi-attendance-deleted")
def attendance_deleted(sender, instance: TrainingAttendance, **kwargs) -> None:
    session = TrainingSession.objects.filter(pk=instance.session_id).first()
    if session is not None:
        figures_changed(session.campaign_id, ["attendance"], [(session.region_id, session.held_on)])


@receiver(post_delete, sender=Certification, dispatch_uid="kpi-certification-deleted")
@receiver(post_delete, sender=NeedRequest, dispatch_uid="kpi-need-deleted")
@receiver(post_delete, sender=NeedsSurvey, dispatch_uid="kpi-survey-deleted")
def registry_row_deleted(sender, instance, **kwargs) -> None:
    region = Enterprise.objects.filter(pk=instance.enterprise_id).values_list("region_id", flat=True).first()
    if region is None:
        return
    sources = {Certification: CERTIFICATE_SOURCES, NeedRequest: ("needs", "answered"),
               NeedsSurvey: SURVEY_SOURCES}[sender]
    when = {Certification: "issued_on", NeedRequest: "submitted_at", NeedsSurvey: "answered_at"}[sender]
    outbox.record(TOPIC, firm=instance.enterprise_id, sources=list(sources), codes=[region],
                  month=month_of(getattr(instance, when)), campaign=getattr(instance, "campaign_id", None))


@receiver(post_delete, sender=KeyDesignation, dispatch_uid="kpi-designation-deleted")
def designation_deleted(sender, instance: KeyDesignation, **kwargs) -> None:
    outbox.record(TOPIC, sources=["designations"], codes=[instance.region_id], month=month_of(instance.designated_on))
