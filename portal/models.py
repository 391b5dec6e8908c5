"""Accounts, roles and the reference data every other app stands on."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An administrative division (行政区划) by its 6-digit GB/T 2260 code.

    The code nests: the first two digits name the province, the first four the city, all six the
    county. "Inside a jurisdiction" is therefore a code prefix (see `prefix`). Above the provinces
    sits the whole country (全国, code 000000, the empty prefix): the jurisdiction of the national
    regulator and of campaigns it runs over every province.
    """

    class Level(models.TextChoices):
        NATIONAL = "national", _("National")
        PROVINCE = "province", _("Province")
        CITY = "city", _("City")
        COUNTY = "county", _("County")

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent region"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6}$"), name="region_code_six_digits"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The code prefix that every region inside this one starts with."""
        return code_prefix(self.code)

    def ancestors(self) -> list["Region"]:
        """Province first, then city: the regions this one lies in.

        Uses parents already loaded by select_related; whatever is missing comes in one query
        by code, never one query per level.
        """
        chain = []
        region = self
        while region.parent_id not in (None, NATIONAL_CODE) and Region.parent.is_cached(region):
            region = region.parent
            chain.append(region)
        if region.parent_id not in (None, NATIONAL_CODE):
            codes = {self.code[:2] + "0000", self.code[:4] + "00"} - {self.code} - {r.code for r in chain}
            chain.extend(Region.objects.filter(code__in=codes))
        # The country is above every province but no part of a region's name or trail of places.
        return sorted((r for r in chain if r.code != NATIONAL_CODE), key=lambda r: r.code)

    @property
    def is_grouping(self) -> bool:
        """A city-level row that only groups counties (a municipality's 市辖区, 省直辖县级行政区划)."""
        return self.level == self.Level.CITY and (self.code[:2] in MUNICIPALITIES or "直辖" in self.name)

    def full_name(self) -> str:
        """The name with its province and city, e.g. 河北省石家庄市长安区."""
        chain = [*self.ancestors(), self]
        return "".join(r.name for r in chain if not r.is_grouping or r is self)


MUNICIPALITIES = {"11", "12", "31", "50"}
# The whole country: above every province, its prefix is empty so every code lies inside it.
NATIONAL_CODE = "000000"


def code_prefix(code: str) -> str:
    """The prefix of every code inside `code`: the country 000000 → "", a province XX0000 → XX,
    a city XXYY00 → XXYY.

    GB/T 2260 codes carry their level in their trailing zeros, so no lookup is needed.
    """
    if code == NATIONAL_CODE:
        return ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def enclosing_codes(code: str) -> list[str]:
    """`code` and the codes of the country, province and city it lies in, widest first, without a query."""
    if code == NATIONAL_CODE:
        return [NATIONAL_CODE]
    return list(dict.fromkeys([NATIONAL_CODE, code[:2] + "0000", code[:4] + "00", code]))


class BilingualName(models.Model):
    """Reference data named in Chinese and English; `label` follows the active language."""

    name = models.CharField(_("name (Chinese)"), max_length=128)
    name_en = models.CharField(_("name (English)"), max_length=160)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = get_language() or "zh-hans"
        return self.name_en if language.startswith("en") else self.name


class Industry(BilingualName):
    """A GB/T 4754-2017 industry: a section (门类, letter) or a division (大类, two digits)."""

    class Level(models.TextChoices):
        SECTION = "section", _("Section")
        DIVISION = "division", _("Division")

    code = models.CharField(_("code"), max_length=2, primary_key=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("section"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="divisions",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self) -> str:
        return f"{self.code} {self.label}"


class ServiceArea(BilingualName):
    """One of the service areas a campaign offers (the ten of the "double zero" campaign by default)."""

    code = models.PositiveSmallIntegerField(_("number"), primary_key=True)
    description = models.TextField(_("description"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")


class Specialty(BilingualName):
    """An expert specialty (专业领域), and the service areas it can serve."""

    code = models.SlugField(_("code"), max_length=32, primary_key=True)
    service_areas = models.ManyToManyField(
        ServiceArea, verbose_name=_("service areas served"), related_name="specialties", blank=True
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("specialty")
        verbose_name_plural = _("specialties")


class User(AbstractUser):
    """A person who signs in. The role decides the pages; the region bounds what they see."""

    class Role(models.TextChoices):
        SME = "sme", _("SME user")
        REGULATOR = "regulator", _("Regulator")
        EXPERT = "expert", _("Expert")
        SUPERVISOR = "supervisor", _("Supervisor")
        ADMINISTRATOR = "admin", _("Administrator")

    JURISDICTION_ROLES = (Role.REGULATOR, Role.SUPERVISOR)

    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.SME)
    full_name = models.CharField(_("full name"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    organisation = models.CharField(_("organisation"), max_length=128, blank=True)
    region = models.ForeignKey(
        Region, verbose_name=_("jurisdiction"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="staff", help_text=_("Required for regulators and supervisors."),
    )
    # The language notifications and emails are written in (the portal's pages follow the switcher).
    language = models.CharField(_("language of notifications"), max_length=8, default="zh-hans")

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role__in=["regulator", "supervisor"]) | Q(region__isnull=False),
                name="user_jurisdiction_roles_have_region",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        if self.role in self.JURISDICTION_ROLES and self.region_id is None:
            raise ValidationError({"region": _("Regulators and supervisors need a jurisdiction region.")})

    @property
    def is_administrator(self) -> bool:
        return self.is_superuser or self.role == self.Role.ADMINISTRATOR

    @property
    def is_regulator(self) -> bool:
        return self.role == self.Role.REGULATOR

    @property
    def is_supervisor(self) -> bool:
        return self.role == self.Role.SUPERVISOR

    @property
    def is_expert(self) -> bool:
        return self.role == self.Role.EXPERT

    @property
    def is_sme(self) -> bool:
        return self.role == self.Role.SME

    @property
    def effective_role(self) -> str:
        return self.Role.ADMINISTRATOR if self.is_superuser else self.role


class WorkerHeartbeat(models.Model):
    """When a Celery worker last ran the scheduled heartbeat: shows administrators it is alive."""

    name = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255, blank=True)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.name}@{self.hostname}"


class OutboxEntry(models.Model):
    """A committed change that other parts must react to (the transactional outbox).

    A service writes one in the same transaction as its change, so the change and the note that
    others must react to it commit or roll back together. A worker drains the entries of a topic
    (portal/outbox.py): it handles them and deletes them in one transaction, so a worker, broker
    or database that dies half-way leaves them for the next drain; nothing is lost and, since
    handlers recompute from the data rather than count the entries, nothing is counted twice.
    """

    topic = models.CharField(_("topic"), max_length=32)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox entry")
        verbose_name_plural = _("outbox entries")
        indexes = [models.Index(fields=["topic", "id"], name="outbox_topic_idx")]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class IdempotencyKey(models.Model):
    """A request that creates something, remembered by the key its client sent (Idempotency-Key
    header, or a page form's one-time token), so a repeat of it (a double tap, a retry after a
    time-out) gets the first answer and creates nothing more."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    fingerprint = models.CharField(max_length=64, help_text=_("The method, path and body the key was first sent with."))
    status_code = models.PositiveSmallIntegerField(default=0)
    body = models.TextField(blank=True)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return self.key


class AuditQuerySet(models.QuerySet):
    """Audit entries are written once and never changed: bulk updates and deletes are refused."""

    def update(self, **kwargs):
        raise PermissionError("Audit entries cannot be changed.")

    def delete(self):
        raise PermissionError("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """One change to a record (审计记录): who did what to which object, when, old and new values.

    Append-only: the model refuses to save an existing entry or delete one, and on PostgreSQL a
    trigger (migration 0003) refuses UPDATE and DELETE from any client.
    """

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        TRANSITION = "transition", _("Status changed")
        ASSIGN = "assign", _("Expert assigned")
        RELEASE = "release", _("Expert released")
        IMPORT = "import", _("Imported")

    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    region_code = models.CharField(_("region code"), max_length=6, blank=True,
                                   help_text=_("The region the object belongs to; bounds who may read the entry."))
    action = models.CharField(_("action"), max_length=12, choices=Action.choices)
    # PROTECT: an account with audit history is deactivated, never deleted.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("at"), default=timezone.now)
    changes = models.JSONField(_("changes"), default=dict, blank=True,
                               help_text=_("Field name to [old value, new value]."))
    note = models.TextField(_("note"), blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="audit_object_idx"),
            models.Index(fields=["region_code", "-at"], name="audit_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries cannot be deleted.")


from portal.notifications.models import Delivery, Notification, NotificationPreference  # noqa: E402, F401
