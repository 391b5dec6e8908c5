"""Password policy from settings: length, character classes, no reuse, optional expiry for staff."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.access import STAFF_ROLES
from portal.security.models import PasswordRecord, SecurityEvent

CLASSES = (
    ("lower", str.islower),
    ("upper", str.isupper),
    ("digit", str.isdigit),
    ("symbol", lambda c: not c.isalnum()),
)


class MinimumLengthValidator:
    """At least PASSWORD_MIN_LENGTH characters (settings, not a fixed OPTIONS value)."""

    def validate(self, password, user=None):
        length = settings.PASSWORD_MIN_LENGTH
        if len(password) < length:
            raise ValidationError(
                ngettext("The password must have at least %(length)d character.",
                         "The password must have at least %(length)d characters.", length) % {"length": length},
                code="password_too_short",
            )

    def get_help_text(self):
        length = settings.PASSWORD_MIN_LENGTH
        return ngettext("At least %(length)d character.", "At least %(length)d characters.", length) % {
            "length": length}


class CharacterClassesValidator:
    """Characters of at least PASSWORD_MIN_CLASSES of: lower case, upper case, digits, symbols."""

    def validate(self, password, user=None):
        needed = settings.PASSWORD_MIN_CLASSES
        found = sum(1 for _name, test in CLASSES if any(test(c) for c in password))
        if found < needed:
            raise ValidationError(
                _("The password must mix at least %(count)d of: lower-case letters, upper-case letters, digits and "
                  "symbols.") % {"count": needed},
                code="password_too_simple",
            )

    def get_help_text(self):
        return _("At least %(count)d of: lower-case letters, upper-case letters, digits and symbols.") % {
            "count": settings.PASSWORD_MIN_CLASSES}


class PasswordHistoryValidator:
    """Not one of the user's last PASSWORD_HISTORY passwords; remembers each new one when it is saved."""

    def validate(self, password, user=None):
        keep = settings.PASSWORD_HISTORY
        if user is None or user.pk is None or keep <= 0:
            return
        former = [user.password] if user.password else []
        former += list(PasswordRecord.objects.filter(user=user).values_list("password", flat=True)[:keep])
        if any(check_password(password, encoded) for encoded in former[:keep]):
            raise ValidationError(
                ngettext("The password must differ from your last password.",
                         "The password must differ from your last %(count)d passwords.", keep) % {"count": keep},
                code="password_reused",
            )

    def password_changed(self, password, user=None):
        from portal.security.events import event_record

        if user is None or user.pk is None:
            return
        PasswordRecord.objects.create(user=user, password=user.password)
        keep = max(settings.PASSWORD_HISTORY, 1)
        stale = PasswordRecord.objects.filter(user=user).values_list("pk", flat=True)[keep:]
        PasswordRecord.objects.filter(pk__in=list(stale)).delete()
        event_record(kind=SecurityEvent.Kind.PASSWORD_CHANGED, user=user)

    def get_help_text(self):
        return _("Not one of your last %(count)d passwords.") % {"count": settings.PASSWORD_HISTORY}


def password_expired(user) -> bool:
    """Staff passwords older than PASSWORD_MAX_AGE_DAYS (0: never) must be changed before going on."""
    days = settings.PASSWORD_MAX_AGE_DAYS
    if days <= 0 or not user.is_authenticated or user.effective_role not in STAFF_ROLES:
        return False
    last = PasswordRecord.objects.filter(user=user).values_list("changed_at", flat=True).first()
    changed = last or user.date_joined
    return changed < timezone.now() - timedelta(days=days)
