from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.notifications.models import NotificationPreference


class PreferencesForm(forms.Form):
    """One choice per kind the user can receive, and the language notifications are written in."""

    language = forms.ChoiceField(label=_("Language of notifications and emails"), choices=settings.LANGUAGES,
                                 widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args, kinds, initial_choices: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        for kind in kinds:
            self.fields[f"kind_{kind.name}"] = forms.ChoiceField(
                label=kind.label, choices=NotificationPreference.Email.choices,
                initial=initial_choices.get(kind.name),
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def choices(self) -> dict[str, str]:
        return {kind.name: self.cleaned_data[f"kind_{kind.name}"] for kind in self.kinds}

    def kind_fields(self):
        return [self[f"kind_{kind.name}"] for kind in self.kinds]
