"""What the registry asks of the apps built on it (see portal/hooks.py)."""

from portal.hooks import Hook

# The extra context of a need's page: {"cases": the cases answering it that the user may see,
# "can_open_case": whether the user may open one for it now}.
need_page = Hook("need_page", default=lambda user, need: {"cases": [], "can_open_case": False})
