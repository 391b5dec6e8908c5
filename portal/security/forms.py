from django import forms
from django.utils.translation import gettext_lazy as _

from portal.security.models import ApiToken


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text",
                                                         "autofocus": True, "class": "form-control"}))


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Client name"), max_length=ApiToken._meta.get_field("name").max_length,
                           widget=forms.TextInput(attrs={"class": "form-control"}))
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, initial=90,
                              widget=forms.NumberInput(attrs={"class": "form-control"}))
