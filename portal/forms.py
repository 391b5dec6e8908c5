"""Form plumbing shared by every app's pages: Bootstrap widgets, service errors shown per field,
bounded choices, regions typed as codes, several files in one field; and the sign-up form."""

import re
import unicodedata

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from portal.models import Region, User


def lazy_interpolate(message, **params):
    """`message % params`, translated when shown rather than when the module loads: a form's
    class attributes are built once, in the default language, and `gettext_lazy(...) % {...}`
    would fix that language for everyone."""
    return lazy(lambda: str(message) % params, str)()


def halfwidth(text: str) -> str:
    """Full-width letters, digits and signs typed with a Chinese input method (１３８, ＡＢＣ, ＠) as
    the ASCII characters they stand for (Unicode NFKC), so a code is checked as the user meant it."""
    return unicodedata.normalize("NFKC", text)


class HalfWidthMixin:
    """A form field whose text is read through `halfwidth` before it is validated."""

    def to_python(self, value):
        return super().to_python(halfwidth(value) if isinstance(value, str) else value)


class CodeField(HalfWidthMixin, forms.CharField):
    """A code, number or phone number."""


class HalfWidthEmailField(HalfWidthMixin, forms.EmailField):
    """An e-mail address, full-width ＠ and letters included."""


PHONE = re.compile(r"\+?[0-9][0-9-]{4,}[0-9]")


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that field."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Refuses an integer key the database column cannot hold, which would otherwise fail inside
    the `IN (...)` query (a 500) instead of being reported as an invalid choice."""

    def _check_values(self, value):
        meta = self.queryset.model._meta
        key = meta.pk if self.to_field_name in (None, "pk") else meta.get_field(self.to_field_name)
        low, high = connection.ops.integer_field_range(key.get_internal_type())
        if low is not None or high is not None:
            for item in value:
                text = str(item).strip()
                if text.lstrip("-").isdigit() and not ((low is None or int(text) >= low)
                                                       and (high is None or int(text) <= high)):
                    raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                          params={"value": item})
        return super()._check_values(value)


class SignupForm(UserCreationForm):
    """An SME contact person creates an account, then registers or claims their firm."""

    full_name = forms.CharField(label=_("Full name"), max_length=64)
    phone = CodeField(label=_("Mobile phone"), max_length=32)
    email = HalfWidthEmailField(label=_("E-mail"), required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "full_name", "phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def clean_phone(self):
        phone = "".join(self.cleaned_data["phone"].split())
        if not PHONE.fullmatch(phone):
            raise ValidationError(_("Enter a phone number made of digits."))
        return phone

    def save(self, commit=True):
        user = super().save(commit=False)
        user.role = User.Role.SME
        if commit:
            user.save()
        return user


class BootstrapMixin:
    """Gives every widget Bootstrap's classes, so templates can render fields generically."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs.setdefault("class", css)


class RegionCodeField(CodeField):
    """A region, picked by name or pinyin in the region picker or typed as its 6-digit code (the
    credit code usually suggests it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Region"))
        kwargs.setdefault("max_length", 6)
        kwargs.setdefault("help_text", _("Search by name or pinyin, or choose the province, city and county in turn "
                                         "(the 6-digit code, e.g. 130102, works too)."))
        super().__init__(**kwargs)
        # static/portal/pickers.js turns the code box into the region picker; without JavaScript
        # the code is typed.
        self.widget.attrs.update({"data-region-picker": "", "inputmode": "numeric"})

    def clean(self, value):
        value = (super().clean(value) or "").strip()
        if not value:
            return None
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise ValidationError(_("There is no region with the code %(code)s."), params={"code": value})
        return region


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; `accept` names the file types the browser offers to pick."""

    def __init__(self, *, accept: str = "", **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": accept} if accept else {}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(file, initial) for file in files]
