"""Key industrial parks and key products or services a bureau designates in a region."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class KeyDesignation(models.Model):
    """A key industrial park (重点工业园区) or a key product or service (重点产品/服务) designated in a
    region, as a campaign's quotas ask (Anhui 2018: at least one park and two products or services per
    city). A campaign counts those designated in its jurisdiction within its period (key_parks,
    key_products); the region is where the park lies or the product is made, at any level."""

    class Kind(models.TextChoices):
        PARK = "park", _("Key industrial park")
        PRODUCT = "product", _("Key product or service")

    name = models.CharField(_("name"), max_length=128)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    designated_on = models.DateField(_("designated on"))
    designated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("designated by"),
                                      on_delete=models.PROTECT, related_name="+")
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-designated_on", "name", "id"]
        verbose_name = _("key designation")
        verbose_name_plural = _("key designations")
        constraints = [
            models.UniqueConstraint(fields=["region", "kind", "name"], name="key_designation_unique",
                                    violation_error_message=_("This region already has a designation of this "
                                                              "kind with this name.")),
        ]
        indexes = [models.Index(fields=["region", "designated_on"], name="key_designation_region_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.name}"

    def clean(self) -> None:
        if self.designated_on and self.designated_on > timezone.localdate():
            raise ValidationError({"designated_on": _("The date cannot be in the future.")})
