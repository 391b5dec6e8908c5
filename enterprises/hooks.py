"""What the registry asks of the apps built on it (see portal/hooks.py)."""

from django.dispatch import Signal

from portal.hooks import Hook

# The extra context of a need's page: {"cases": the cases answering it that the user may see,
# "can_open_case": whether the user may open one for it now}.
need_page = Hook("need_page", default=lambda user, need: {"cases": [], "can_open_case": False})

# Sent once a change to a firm's record, needs, certificates or surveys is committed to the
# transaction (with `enterprise`): figures that count the firm are out of date.
firm_changed = Signal()
