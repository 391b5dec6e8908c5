"""One-to-one assistance cases and what happens on them: lifecycle steps, expert assignments,
visits with their photos and files, and the firm's satisfaction rating."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.models import Enterprise, NeedRequest

# The code of the refusal of a second open case for a firm in a campaign.
OPEN_CASE_EXISTS = "open_case_exists"


class AssistanceCase(models.Model):
    """A one-to-one assistance case (一对一帮扶, "一企一策"): one firm, one plan, inside a campaign.

    It answers some of the firm's needs (or none, when the bureau reaches out first), is led by a
    regulator, carried by assigned experts and recorded visit by visit until it closes resolved
    or not. `version` grows with every edit so two people editing at once cannot overwrite
    each other silently.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DIAGNOSING = "diagnosing", _("Diagnosing")
        PLAN_AGREED = "plan_agreed", _("Plan agreed")
        IN_PROGRESS = "in_progress", _("In progress")
        CLOSED = "closed", _("Closed")

    class Resolution(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        UNRESOLVED = "unresolved", _("Unresolved")

    class SavingsPeriod(models.TextChoices):
        ONCE = "once", _("One-off")
        PER_YEAR = "per_year", _("Per year")

    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 related_name="cases")
    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.PROTECT,
                                   related_name="cases")
    needs = models.ManyToManyField(NeedRequest, verbose_name=_("needs answered"), related_name="cases", blank=True)
    title = models.CharField(_("title"), max_length=120)
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("lead regulator"), on_delete=models.PROTECT,
                             related_name="cases_led", limit_choices_to={"role": "regulator"})
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(_("resolution"), max_length=12, choices=Resolution.choices, blank=True)
    diagnosis = models.TextField(_("diagnosis"), blank=True)
    plan = models.TextField(_("assistance plan"), blank=True)
    certificate_obtained = models.BooleanField(_("certificate obtained"), default=False)
    standard_drafted = models.BooleanField(_("standard drafted"), default=False)
    excellence_model_adopted = models.BooleanField(_("excellence-performance model adopted"), default=False)
    lab_set_up = models.BooleanField(_("measurement lab set up"), default=False)
    money_saved = models.DecimalField(_("money saved (yuan)"), max_digits=14, decimal_places=2, null=True,
                                      blank=True, validators=[MinValueValidator(0)])
    money_saved_period = models.CharField(_("money saved per"), max_length=8, choices=SavingsPeriod.choices,
                                          default=SavingsPeriod.ONCE,
                                          help_text=_("A one-off saving, or one the firm makes every year."))
    outcome_notes = models.TextField(_("outcome notes"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.PROTECT,
                                  related_name="+")
    # When the case opened: today, or the day given when it is entered after the fact (补录).
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    entered_at = models.DateTimeField(_("entered at"), default=timezone.now,
                                      help_text=_("When the case was typed into the portal."))
    # Kept by the visit services so the home page and lists need no aggregate over visits.
    last_visit_on = models.DateField(_("last visit"), null=True, blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("assistance case")
        verbose_name_plural = _("assistance cases")
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="closed") & ~Q(resolution="") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(resolution="") & Q(closed_at__isnull=True)),
                name="case_closed_has_resolution",
                violation_error_message=_("A closed case needs a resolution, and only a closed case has one."),
            ),
            models.CheckConstraint(condition=Q(money_saved__isnull=True) | Q(money_saved__gte=0),
                                   name="case_money_saved_not_negative",
                                   violation_error_message=_("Money saved cannot be negative.")),
            # One plan per firm: at most one open case for a firm in a campaign.
            models.UniqueConstraint(fields=["campaign", "enterprise"], condition=~Q(status="closed"),
                                    name="case_one_open_per_firm_and_campaign",
                                    violation_error_code=OPEN_CASE_EXISTS,
                                    violation_error_message=_("This enterprise already has an open case in this "
                                                              "campaign.")),
        ]
        indexes = [
            models.Index(fields=["status", "-opened_at"], name="case_status_opened_idx"),
            models.Index(fields=["lead", "status"], name="case_lead_status_idx"),
            models.Index(fields=["next_follow_up_on"], name="case_follow_up_idx", condition=~Q(status="closed")),
        ]

    def __str__(self) -> str:
        return self.title

    def validate_constraints(self, exclude=None) -> None:
        """Django's checks of the constraints, with a second open case for the firm said on the
        enterprise field (Django puts a conditional constraint's message on no field): it is what
        the user chose, and what another user may have opened a case for a moment before."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            general = error.error_dict.get(NON_FIELD_ERRORS, [])
            moved = [item for item in general if item.code == OPEN_CASE_EXISTS]
            if not moved:
                raise
            errors = {**error.error_dict, NON_FIELD_ERRORS: [item for item in general if item not in moved]}
            errors["enterprise"] = [*errors.get("enterprise", []), *moved]
            raise ValidationError({field: items for field, items in errors.items() if items}) from None

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED

    @property
    def entered_later(self) -> bool:
        """Typed in after the fact (补录): after the campaign ended or well after the case opened."""
        return self.campaign.entered_later(timezone.localdate(self.opened_at), timezone.localdate(self.entered_at))


class CaseEvent(models.Model):
    """One step in a case's lifecycle: who moved it from which status to which, when and why."""

    case = models.ForeignKey(AssistanceCase, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=AssistanceCase.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=AssistanceCase.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("case history entry")
        verbose_name_plural = _("case history")

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class CaseAssignment(models.Model):
    """An expert assigned to a case (指派专家).

    `active` while the case is open and the expert has not been released; it is what an
    expert's load counts. Assigning past capacity needs `override_reason`.
    """

    case = models.ForeignKey(AssistanceCase, verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="assignments")
    expert = models.ForeignKey("experts.Expert", verbose_name=_("expert"), on_delete=models.PROTECT,
                               related_name="assignments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assigned by"),
                                    on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    active = models.BooleanField(_("active"), default=True)
    over_capacity = models.BooleanField(_("assigned past capacity"), default=False)
    override_reason = models.TextField(_("reason for assigning past capacity"), blank=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("released by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("expert assignment")
        verbose_name_plural = _("expert assignments")
        constraints = [
            models.UniqueConstraint(fields=["case", "expert"], condition=Q(active=True),
                                    name="assignment_one_active_per_case_and_expert"),
            models.CheckConstraint(condition=Q(over_capacity=False) | ~Q(override_reason=""),
                                   name="assignment_override_has_reason"),
        ]
        indexes = [
            models.Index(fields=["expert"], name="assignment_active_expert_idx", condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        return f"{self.expert} · {self.case}"


class Visit(models.Model):
    """One assistance contact on a case (帮扶走访): on site, remote or by a mobile quality clinic.

    `internal_remark` is for the bureau and experts only; the firm never sees it.
    """

    class Mode(models.TextChoices):
        ON_SITE = "on_site", _("On site")
        REMOTE = "remote", _("Remote")
        MOBILE_CLINIC = "mobile_clinic", _("Mobile quality clinic")

    case = models.ForeignKey(AssistanceCase, verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="visits")
    visited_on = models.DateField(_("date"))
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.ON_SITE)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1,
                                validators=[MinValueValidator(0.5), MaxValueValidator(24)])
    people_present = models.TextField(_("people present"))
    problems_found = models.TextField(_("problems found"), blank=True)
    actions_recommended = models.TextField(_("actions recommended"), blank=True)
    next_follow_up_on = models.DateField(_("next follow-up"), null=True, blank=True)
    internal_remark = models.TextField(_("internal remark"), blank=True,
                                       help_text=_("Seen by the bureau and the experts only, never by the enterprise."))
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT,
                                  related_name="visits_logged")
    logged_at = models.DateTimeField(_("logged at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.CheckConstraint(condition=Q(hours__gte=0.5) & Q(hours__lte=24), name="visit_hours_range",
                                   violation_error_message=_("Hours are between 0.5 and 24.")),
            models.CheckConstraint(condition=Q(next_follow_up_on__isnull=True)
                                   | Q(next_follow_up_on__gt=F("visited_on")),
                                   name="visit_follow_up_after_visit",
                                   violation_error_message=_("The next follow-up must come after the visit.")),
        ]
        indexes = [models.Index(fields=["case", "-visited_on"], name="visit_case_date_idx")]

    def __str__(self) -> str:
        return f"{self.case} · {self.visited_on}"

    @property
    def entered_later(self) -> bool:
        """Typed in after the fact (补录), e.g. from a paper visit record."""
        if self.logged_at is None:
            return False
        return self.case.campaign.entered_later(self.visited_on, timezone.localdate(self.logged_at))

    def clean(self) -> None:
        errors = {}
        if self.visited_on and self.visited_on > timezone.localdate():
            errors["visited_on"] = _("A visit cannot be logged for a future date.")
        if self.visited_on and self.next_follow_up_on and self.next_follow_up_on <= self.visited_on:
            errors["next_follow_up_on"] = _("The next follow-up must come after the visit.")
        if errors:
            raise ValidationError(errors)


def visit_attachment_path(instance, filename: str) -> str:
    """A random stored name: the uploader's file name is kept in `original_name`, never on disk."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"visits/{instance.visit_id}/{uuid.uuid4().hex}{suffix}"


class VisitAttachment(models.Model):
    """A photo or document taken on a visit (a defect, a record sheet, a test report ...)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=visit_attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size in bytes"))
    is_photo = models.BooleanField(_("photo"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("visit attachment")
        verbose_name_plural = _("visit attachments")

    def __str__(self) -> str:
        return self.original_name


class CaseRating(models.Model):
    """The firm's satisfaction with a closed case (满意度评价): 1 to 5 with a comment, given once."""

    case = models.OneToOneField(AssistanceCase, verbose_name=_("case"), on_delete=models.CASCADE,
                                related_name="rating")
    score = models.PositiveSmallIntegerField(_("score"), validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(_("comment"), blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rated by"), on_delete=models.PROTECT,
                                 related_name="+")
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    class Meta:
        verbose_name = _("satisfaction rating")
        verbose_name_plural = _("satisfaction ratings")
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_range",
                                   violation_error_message=_("The score is from 1 to 5.")),
        ]

    def __str__(self) -> str:
        return f"{self.case} · {self.score}"
