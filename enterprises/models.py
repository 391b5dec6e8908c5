"""Enterprises in the registry, what they hold and what they ask for."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises import search
from enterprises.uscc import validate_uscc
from portal.audit import note_text
from portal.dates import typed_in_later
from portal.models import Industry, Region, ServiceArea

# The columns Enterprise.derive() computes from the others.
DERIVED_FIELDS = ("province_code", "city_code", "search_text", "search_pairs")


def region_path_names(code: str, names: dict[str, str] | None = None) -> list[str]:
    """The names of the province, city and county a region code lies in (from `names`, code → name,
    when the caller has them all; else one query)."""
    codes = list(dict.fromkeys([code[:2] + "0000", code[:4] + "00", code])) if code else []
    if names is None:
        names = dict(Region.objects.filter(code__in=codes).values_list("code", "name"))
    return [names[c] for c in codes if c in names]


class Enterprise(models.Model):
    """A firm in the registry (企业), keyed by its Unified Social Credit Code."""

    class Size(models.TextChoices):
        MICRO = "micro", _("Micro")
        SMALL = "small", _("Small")
        MEDIUM = "medium", _("Medium")
        LARGE = "large", _("Large")

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True,
                            validators=[validate_uscc])
    name = models.CharField(_("name"), max_length=128)
    # No index of their own: the county-level indexes below lead with region_id, and industry's
    # plain B-tree is in Meta (a foreign key's index on PostgreSQL comes with a second, LIKE index
    # on a text key, which nothing here uses and every import would keep up to date).
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="enterprises", db_index=False)
    industry = models.ForeignKey(Industry, verbose_name=_("industry"), on_delete=models.PROTECT,
                                 related_name="enterprises", limit_choices_to={"level": "division"},
                                 db_index=False)
    size = models.CharField(_("size class"), max_length=8, choices=Size.choices)
    address = models.CharField(_("address"), max_length=255, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(_("annual revenue (10,000 yuan)"), max_digits=14,
                                         decimal_places=2, null=True, blank=True)
    is_key = models.BooleanField(_("key enterprise"), default=False)
    is_specialized = models.BooleanField(_("specialized and innovative (专精特新)"), default=False)
    is_exporter = models.BooleanField(_("exporter"), default=False)
    in_industrial_park = models.BooleanField(_("in an industrial park"), default=False)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("contact accounts"),
                                   related_name="enterprises", blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Kept by the registry's own writes, never typed: the region's first 2 and 4 digits, so a
    # province's or city's firms are an equality that an index sorted by name or date can serve;
    # the folded text the search reads (enterprises/search.py); whether any need is open
    # (NeedRequest.save keeps it).
    province_code = models.CharField(_("province code"), max_length=2, editable=False, default="")
    city_code = models.CharField(_("city code"), max_length=4, editable=False, default="")
    search_text = models.TextField(_("search text"), editable=False, default="")
    search_pairs = models.TextField(_("search text's character pairs"), editable=False, default="")
    has_open_needs = models.BooleanField(_("has open needs"), default=False, editable=False)
    # The schemes of the firm's certifications, distinct, sorted and blank-separated (Certification
    # keeps it): the certification filter reads it through a partial GIN index (migration 0009).
    certification_schemes = models.CharField(_("certification schemes"), max_length=200, editable=False,
                                             default="", blank=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        constraints = [
            models.CheckConstraint(condition=Q(uscc__regex=r"^[0-9A-HJ-NPQRTUW-Y]{18}$"),
                                   name="enterprise_uscc_alphabet"),
            models.CheckConstraint(condition=Q(annual_revenue__gte=0) | Q(annual_revenue__isnull=True),
                                   name="enterprise_revenue_not_negative",
                                   violation_error_message=_("Revenue cannot be negative.")),
        ]
        # Every registry filter has an index behind it; the region prefix (LIKE '1301%') and the
        # name search use PostgreSQL-only indexes added in migration 0002.
        indexes = [
            models.Index(fields=["size"], name="enterprise_size_idx"),
            models.Index(fields=["industry"], name="enterprise_industry_idx"),
            models.Index(fields=["is_key"], name="enterprise_key_idx", condition=Q(is_key=True)),
            models.Index(fields=["is_specialized"], name="enterprise_specialized_idx",
                         condition=Q(is_specialized=True)),
            models.Index(fields=["is_exporter"], name="enterprise_exporter_idx", condition=Q(is_exporter=True)),
            models.Index(fields=["in_industrial_park"], name="enterprise_park_idx",
                         condition=Q(in_industrial_park=True)),
            models.Index(fields=["has_open_needs"], name="enterprise_open_needs_idx",
                         condition=Q(has_open_needs=True)),
            # One index per jurisdiction level and sort (enterprises/filters.py SORTS), ending in
            # id: a page is the next rows of one index from a cursor, whatever the registry's size.
            *(models.Index(fields=[*level, *sort, "id"], name=f"enterprise_{prefix}_{suffix}_idx")
              for prefix, level in (("all", []), ("prov", ["province_code"]),
                                    ("city", ["province_code", "city_code"]),
                                    ("county", ["region"]))
              for suffix, sort in (("name", ["name"]), ("created", ["created_at"]))),
            models.Index(fields=["province_code", "region", "name", "id"], name="enterprise_prov_region_idx"),
            models.Index(fields=["province_code", "city_code", "region", "name", "id"],
                         name="enterprise_city_region_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.derive()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], *DERIVED_FIELDS}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.annual_revenue is not None and self.annual_revenue < 0:
            raise ValidationError({"annual_revenue": _("Revenue cannot be negative.")})

    def derive(self, region_names: dict[str, str] | None = None) -> None:
        """Compute the derived columns from the others; `region_names` (code → name) saves the query
        for the region's names when a caller writes many firms."""
        code = self.region_id or ""
        self.province_code, self.city_code = code[:2], code[:4]
        self.search_text = search.search_text(
            uscc=self.uscc, name=self.name, address=self.address, contact_name=self.contact_name,
            contact_phone=self.contact_phone, region_names=region_path_names(code, region_names),
        )
        self.search_pairs = search.pairs(self.search_text)

    @staticmethod
    def refresh_certification_schemes(enterprise_id: int) -> None:
        """Set certification_schemes of this firm from its certifications (two queries)."""
        schemes = sorted(set(Certification.objects.filter(enterprise_id=enterprise_id)
                             .values_list("scheme", flat=True)))
        Enterprise.objects.filter(pk=enterprise_id).update(certification_schemes=" ".join(schemes))

    @staticmethod
    def refresh_open_needs(enterprise_ids) -> None:
        """Set has_open_needs of these firms from their needs, in one statement."""
        open_needs = NeedRequest.objects.filter(enterprise=models.OuterRef("pk"),
                                                status__in=NeedRequest.OPEN_STATUSES)
        Enterprise.objects.filter(pk__in=enterprise_ids).update(has_open_needs=models.Exists(open_needs))


class Certification(models.Model):
    """A certificate an enterprise holds (ISO 9001 and the like).

    One issued during a campaign's period is what the campaign's "firms certified" counts.
    """

    class Scheme(models.TextChoices):
        ISO9001 = "iso9001", "ISO 9001"
        ISO14001 = "iso14001", "ISO 14001"
        ISO45001 = "iso45001", "ISO 45001"
        ISO22000 = "iso22000", "ISO 22000"
        HACCP = "haccp", "HACCP"
        IATF16949 = "iatf16949", "IATF 16949"
        GBT29490 = "gbt29490", _("GB/T 29490 intellectual-property management")
        CCC = "ccc", _("China Compulsory Certification (CCC)")
        OTHER = "other", _("Other")

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="certifications")
    scheme = models.CharField(_("scheme"), max_length=16, choices=Scheme.choices)
    number = models.CharField(_("certificate number"), max_length=64)
    body = models.CharField(_("certification body"), max_length=128)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(_("expires on"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_on"]
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "number"], name="certification_unique_number"),
            models.CheckConstraint(condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("issued_on")),
                                   name="certification_expires_after_issue"),
        ]
        indexes = [models.Index(fields=["scheme", "enterprise"], name="certification_scheme_idx")]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.number}"

    def save(self, *args, **kwargs):
        # The firm's certification_schemes follows every write of one of its certificates, in the
        # same transaction (a certificate moved to another firm refreshes both).
        old = (Certification.objects.filter(pk=self.pk).values_list("enterprise_id", flat=True).first()
               if self.pk else None)
        super().save(*args, **kwargs)
        for enterprise_id in {self.enterprise_id, old} - {None}:
            Enterprise.refresh_certification_schemes(enterprise_id)

    def delete(self, *args, **kwargs):
        enterprise_id = self.enterprise_id
        result = super().delete(*args, **kwargs)
        Enterprise.refresh_certification_schemes(enterprise_id)
        return result

    def clean(self) -> None:
        if self.expires_on and self.issued_on and self.expires_on <= self.issued_on:
            raise ValidationError({"expires_on": _("The expiry date must come after the issue date.")})
        if self.issued_on and self.issued_on > timezone.localdate():
            raise ValidationError({"issued_on": _("The issue date cannot be in the future.")})

    @property
    def is_valid_today(self) -> bool:
        return self.expires_on is None or self.expires_on >= timezone.localdate()


class EnterpriseClaim(models.Model):
    """An SME user's request to act for a firm already in the registry.

    It waits for a regulator of the firm's region: nobody takes over another firm's record by
    typing its credit code.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        REJECTED = "rejected", _("Rejected")

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="claims")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("claimant"), on_delete=models.CASCADE,
                             related_name="enterprise_claims")
    message = models.TextField(_("message to the regulator"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("note on the decision"), blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("enterprise claim")
        verbose_name_plural = _("enterprise claims")
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "user"], condition=Q(status="pending"),
                                    name="claim_one_pending_per_user_and_firm"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.enterprise}"


class NeedRequest(models.Model):
    """A quality-need request (质量需求): what an SME asks the bureau to help with."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted")
        TRIAGED = "triaged", _("Accepted")
        MATCHED = "matched", _("Matched with experts")
        IN_PROGRESS = "in_progress", _("In progress")
        FULFILLED = "fulfilled", _("Fulfilled")
        DECLINED = "declined", _("Declined")

    OPEN_STATUSES = (Status.SUBMITTED, Status.TRIAGED, Status.MATCHED, Status.IN_PROGRESS)

    class Urgency(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")
        URGENT = "urgent", _("Urgent")

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="needs")
    service_area = models.ForeignKey(ServiceArea, verbose_name=_("service area"), on_delete=models.PROTECT,
                                     related_name="needs")
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"))
    urgency = models.CharField(_("urgency"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    duplicate_of = models.ForeignKey("self", verbose_name=_("duplicate of"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="duplicates")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("submitted by"),
                                     on_delete=models.PROTECT, related_name="needs_submitted")
    # When the need was received (on paper, by phone or online); figures count it then.
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    # When it was typed into the portal: the same moment for a need submitted online, later for one
    # received on paper and entered by the bureau (补录).
    created_at = models.DateTimeField(_("entered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("quality need")
        verbose_name_plural = _("quality needs")
        constraints = [
            models.CheckConstraint(condition=~Q(status="declined") | ~Q(decline_reason=""),
                                   name="need_declined_has_reason"),
        ]
        indexes = [
            models.Index(fields=["enterprise", "status"], name="need_enterprise_status_idx"),
            models.Index(fields=["status", "-submitted_at"], name="need_status_submitted_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        # The firm's has_open_needs follows every write of one of its needs, in the same transaction.
        super().save(*args, **kwargs)
        Enterprise.refresh_open_needs([self.enterprise_id])

    def delete(self, *args, **kwargs):
        enterprise_id = self.enterprise_id
        result = super().delete(*args, **kwargs)
        Enterprise.refresh_open_needs([enterprise_id])
        return result

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def entered_later(self) -> bool:
        """Received on paper or by phone and typed in more than ENTERED_LATER_DAYS later (补录);
        `submitted_by` is who typed it in."""
        if self.submitted_at is None or self.created_at is None:
            return False
        return typed_in_later(timezone.localdate(self.submitted_at), timezone.localdate(self.created_at))


class NeedEvent(models.Model):
    """One step in a need's history: who moved it from which status to which, when and why."""

    need = models.ForeignKey(NeedRequest, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=12, choices=NeedRequest.Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=NeedRequest.Status.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("need history entry")
        verbose_name_plural = _("need history")

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"

    @property
    def note_text(self) -> str:
        """The note in the reader's language when the portal wrote it ("Answered by case #23"); as typed otherwise."""
        return note_text(self.note)


def need_attachment_path(instance, filename: str) -> str:
    """A random stored name: the uploader's file name is kept in `original_name`, never on disk."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"needs/{instance.need_id}/{uuid.uuid4().hex}{suffix}"


class NeedAttachment(models.Model):
    """A file an SME attaches to a need (a test report, a photo of the product ...)."""

    need = models.ForeignKey(NeedRequest, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=need_attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class NeedsSurvey(models.Model):
    """A needs survey (需求调查) answered by a firm: baseline before assistance, follow-up after.

    The follow-up carries the outcome questions the campaign reports: quality awareness and
    performance improved, and the change in revenue, output and profit margin in percent, and
    names the campaign it reports on, so the campaign's figures can count it.
    """

    class Kind(models.TextChoices):
        BASELINE = "baseline", _("Baseline")
        FOLLOW_UP = "follow_up", _("Follow-up")

    enterprise = models.ForeignKey(Enterprise, verbose_name=_("enterprise"), on_delete=models.CASCADE,
                                   related_name="surveys")
    kind = models.CharField(_("survey"), max_length=10, choices=Kind.choices)
    # A string reference: campaigns.models imports this module.
    campaign = models.ForeignKey("campaigns.Campaign", verbose_name=_("campaign"), on_delete=models.PROTECT,
                                 null=True, blank=True, related_name="surveys",
                                 help_text=_("The campaign whose assistance the answers report on; a follow-up "
                                             "survey names one, a baseline may be answered outside any."))
    services_wanted = models.ManyToManyField(ServiceArea, verbose_name=_("services wanted"), blank=True,
                                             related_name="+")
    awareness_improved = models.BooleanField(_("quality awareness improved"), null=True, blank=True)
    performance_improved = models.BooleanField(_("quality performance improved"), null=True, blank=True)
    revenue_change_pct = models.DecimalField(_("revenue change (%)"), max_digits=6, decimal_places=2,
                                             null=True, blank=True)
    output_change_pct = models.DecimalField(_("output change (%)"), max_digits=6, decimal_places=2,
                                            null=True, blank=True)
    profit_margin_change_pct = models.DecimalField(_("profit-margin change (%)"), max_digits=6,
                                                   decimal_places=2, null=True, blank=True)
    comments = models.TextField(_("comments"), blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"),
                                    on_delete=models.PROTECT, related_name="+")
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now)

    class Meta:
        ordering = ["-answered_at"]
        verbose_name = _("needs survey")
        verbose_name_plural = _("needs surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="follow_up") | (Q(awareness_improved__isnull=True)
                                                 & Q(performance_improved__isnull=True)
                                                 & Q(revenue_change_pct__isnull=True)),
                name="survey_outcomes_only_on_follow_up",
                violation_error_message=_("Outcome answers belong to the follow-up survey only."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.get_kind_display()}"

    def clean(self) -> None:
        if self.kind == self.Kind.FOLLOW_UP:
            missing = {
                field: _("A follow-up survey needs this answer.")
                for field in ("awareness_improved", "performance_improved")
                if getattr(self, field) is None
            }
            if self.campaign_id is None:
                missing["campaign"] = _("Choose the campaign whose assistance this follow-up reports on.")
            if missing:
                raise ValidationError(missing)
        for field in ("revenue_change_pct", "output_change_pct", "profit_margin_change_pct"):
            value = getattr(self, field)
            if value is not None and not (-100 <= value <= 1000):
                raise ValidationError({field: _("Enter a change between -100% and 1000%.")})


def import_file_path(instance, filename: str) -> str:
    """A random stored name: the uploader's file name is kept in `original_name`, never in a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


class ImportJob(models.Model):
    """A bulk import of an enterprise list (企业名录批量导入) from a CSV or XLSX file.

    Every row is checked before anything is written. A file with bad rows waits for the
    uploader (or a colleague of the same jurisdiction) to fix and upload it again, or to import
    only the good rows. Rows are keyed by credit code, so importing a file twice updates firms
    rather than duplicating them.
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        VALIDATING = "validating", _("Checking rows")
        INVALID = "invalid", _("Has bad rows")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Discarded")

    RUNNING_STATUSES = (Status.VALIDATING, Status.IMPORTING)

    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), null=True,
                                    on_delete=models.SET_NULL, related_name="import_jobs")
    region = models.ForeignKey(Region, verbose_name=_("jurisdiction"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text=_("The uploader's jurisdiction when the file was uploaded; "
                                           "empty for administrators."))
    file = models.FileField(_("file"), upload_to=import_file_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=4, choices=Format.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.VALIDATING)
    total_rows = models.PositiveIntegerField(_("rows in the file"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    valid_rows = models.PositiveIntegerField(_("good rows"), default=0)
    error_count = models.PositiveIntegerField(_("problems found"), default=0)
    errors = models.JSONField(_("problems"), default=list, blank=True,
                              help_text=_("The first problems found in rows: line, column, code and parameters."))
    failure = models.JSONField(_("failure"), null=True, blank=True,
                               help_text=_("Why the whole file was refused or the run stopped: code and parameters."))
    ignored_columns = models.JSONField(
        _("ignored columns"), default=list, blank=True,
        help_text=_("Header cells this import does not know; their values are not read."),
    )
    created_count = models.PositiveIntegerField(_("enterprises created"), default=0)
    updated_count = models.PositiveIntegerField(_("enterprises updated"), default=0)
    only_valid_rows = models.BooleanField(_("only the good rows"), default=False)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last progress"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("enterprise import")
        verbose_name_plural = _("enterprise imports")
        indexes = [models.Index(fields=["region", "-created_at"], name="importjob_region_created_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATUSES

    @property
    def bad_rows(self) -> int:
        return max(self.total_rows - self.valid_rows, 0)


# The sub-domains' tables are this app's: importing them here is how Django registers them with it.
from enterprises.designations.models import KeyDesignation  # noqa: E402, F401
