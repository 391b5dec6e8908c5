"""Enterprises in the registry and the certifications they hold."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from enterprises.uscc import validate_uscc
from portal.models import Industry, Region


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
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT,
                               related_name="enterprises")
    industry = models.ForeignKey(Industry, verbose_name=_("industry"), on_delete=models.PROTECT,
                                 related_name="enterprises", limit_choices_to={"level": "division"})
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

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        constraints = [
            models.CheckConstraint(condition=Q(uscc__regex=r"^[0-9A-HJ-NPQRTUW-Y]{18}$"),
                                   name="enterprise_uscc_alphabet"),
        ]

    def __str__(self) -> str:
        return self.name
