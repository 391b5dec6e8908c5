"""Every kind of notification: its label, its subject and body templates (translated through
gettext and filled in the recipient's language when the event happens) and who may receive it.

Templates take named placeholders (`%(case)s`); a service passes their values in `params`. The
daily reminders fill the same templates in SQL (bulk.py), so a placeholder's value must be plain
text there too.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.models import User

Role = User.Role
SME = frozenset({Role.SME})
EXPERT = frozenset({Role.EXPERT})
REGULATOR = frozenset({Role.REGULATOR, Role.ADMINISTRATOR})


@dataclass(frozen=True)
class Kind:
    name: str
    label: str | Promise
    title: str | Promise
    body: str | Promise
    roles: frozenset[str]


KINDS: dict[str, Kind] = {}


def kind(name: str, label, title, body, roles) -> Kind:
    KINDS[name] = Kind(name, label, title, body, roles)
    return KINDS[name]


NEED_ACCEPTED = kind(
    "need_accepted", _("Need accepted"), _("Your need was accepted: %(need)s"),
    _("The bureau accepted your quality need “%(need)s” and will arrange assistance."), SME)
NEED_DECLINED = kind(
    "need_declined", _("Need declined"), _("Your need was declined: %(need)s"),
    _("The bureau declined your quality need “%(need)s”. Reason: %(reason)s"), SME)
NEED_MATCHED = kind(
    "need_matched", _("Need matched with an expert"), _("An expert will help with: %(need)s"),
    _("An expert from the pool was assigned to help with your need “%(need)s”."), SME)
NEED_FULFILLED = kind(
    "need_fulfilled", _("Need fulfilled"), _("Your need was fulfilled: %(need)s"),
    _("The bureau recorded your quality need “%(need)s” as fulfilled."), SME)
CLAIM_CONFIRMED = kind(
    "claim_confirmed", _("Claim confirmed"), _("You now act for %(enterprise)s"),
    _("The bureau confirmed your claim: your account now acts for %(enterprise)s."), SME)
CLAIM_REJECTED = kind(
    "claim_rejected", _("Claim rejected"), _("Your claim for %(enterprise)s was rejected"),
    _("The bureau rejected your claim to act for %(enterprise)s. Reason: %(reason)s"), SME)
CASE_OPENED = kind(
    "case_opened", _("Assistance case opened"), _("An assistance case was opened for %(enterprise)s"),
    _("The bureau opened the one-to-one assistance case “%(case)s” in the campaign %(campaign)s."), SME)
VISIT_LOGGED = kind(
    "visit_logged", _("Visit logged"), _("Visit of %(date)s recorded: %(case)s"),
    _("An assistance visit (%(mode)s) on %(date)s was recorded on the case “%(case)s”. Open it to read "
      "the problems found and the actions recommended."), SME)
CASE_CLOSED = kind(
    "case_closed", _("Case closed: please rate"), _("Case closed, please rate it: %(case)s"),
    _("The assistance case “%(case)s” was closed. Please rate the assistance you received (1 to 5 stars)."),
    SME)
RATING_REMINDER = kind(
    "rating_reminder", _("Rating reminder"), _("Reminder: please rate %(case)s"),
    _("The assistance case “%(case)s” closed a week ago and has not been rated yet. Your rating helps the "
      "bureau improve its assistance."), SME)
EXPERT_ASSIGNED = kind(
    "expert_assigned", _("Assigned to a case"), _("You were assigned to the case %(case)s"),
    _("You were assigned to the one-to-one assistance case “%(case)s” of %(enterprise)s."), EXPERT)
EXPERT_RELEASED = kind(
    "expert_released", _("Released from a case"), _("You were released from the case %(case)s"),
    _("You no longer work on the assistance case “%(case)s” of %(enterprise)s."), EXPERT)
FOLLOW_UP_DUE = kind(
    "follow_up_due", _("Follow-up due tomorrow"), _("Follow-up due tomorrow: %(case)s"),
    _("The follow-up of the case “%(case)s” (%(enterprise)s) is due on %(date)s."), REGULATOR)
FOLLOW_UP_OVERDUE = kind(
    "follow_up_overdue", _("Follow-up overdue"), _("Follow-up overdue: %(case)s"),
    _("The follow-up of the case “%(case)s” (%(enterprise)s) was due on %(date)s and no visit has been "
      "logged since."), REGULATOR)
CASE_STALE = kind(
    "case_stale", _("Case without a visit for 30 days"), _("No visit for 30 days: %(case)s"),
    _("The case “%(case)s” (%(enterprise)s) has had no visit since %(date)s."), REGULATOR)
IMPORT_FINISHED = kind(
    "import_finished", _("Import finished"), _("Import finished: %(file)s"),
    _("The import of %(file)s finished: %(created)s created, %(updated)s updated."), REGULATOR)
IMPORT_NEEDS_DECISION = kind(
    "import_invalid", _("Import has bad rows"), _("Import has bad rows: %(file)s"),
    _("%(errors)s rows of %(file)s are bad. Open the import to read the report and decide."), REGULATOR)
IMPORT_FAILED = kind(
    "import_failed", _("Import failed"), _("Import failed: %(file)s"),
    _("The import of %(file)s failed. Open it to read why."), REGULATOR)
KPI_BEHIND = kind(
    "kpi_behind", _("Target behind its pace"), _("%(campaign)s: %(region)s behind pace"),
    _("Halfway through the campaign %(campaign)s, %(region)s is behind the pro-rata pace of its targets: "
      "%(targets)s."), REGULATOR)


# Every kind as a choice, for the inbox's filter, the API and its schema (one enum, NotificationKindEnum).
KIND_CHOICES = [(kind.name, kind.label) for kind in KINDS.values()]


def kinds_for(user: User) -> list[Kind]:
    """The kinds a user can receive, for the preferences page."""
    role = user.effective_role
    return [kind for kind in KINDS.values() if role in kind.roles]
