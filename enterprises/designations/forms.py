from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises.designations.models import KeyDesignation
from portal.forms import BootstrapMixin, RegionCodeField


class KeyDesignationForm(BootstrapMixin, forms.Form):
    """Designate a key industrial park or a key product or service in a region of one's jurisdiction."""

    kind = forms.ChoiceField(label=_("Kind"), choices=KeyDesignation.Kind.choices)
    name = forms.CharField(label=_("Name"), max_length=128)
    region = RegionCodeField(label=_("Region"))
    designated_on = forms.DateField(label=_("Designated on"), initial=timezone.localdate,
                                    widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
