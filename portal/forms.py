from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext_lazy as _

from portal.models import User


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
    phone = forms.CharField(label=_("Mobile phone"), max_length=32)
    email = forms.EmailField(label=_("E-mail"), required=False)

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "full_name", "phone", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")

    def clean_phone(self):
        phone = "".join(self.cleaned_data["phone"].split())
        if not phone.lstrip("+").replace("-", "").isdigit() or len(phone) < 7:
            raise ValidationError(_("Enter a phone number made of digits."))
        return phone

    def save(self, commit=True):
        user = super().save(commit=False)
        user.role = User.Role.SME
        if commit:
            user.save()
        return user
