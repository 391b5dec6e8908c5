"""What the expert pool asks of the apps built on it (see portal/hooks.py)."""

from portal.hooks import Hook

# The extra context of an expert's page: {"assignments": the expert's case assignments the user may
# see, newest first; "ratings": recent satisfaction ratings of the cases the expert saw through}.
expert_page = Hook("expert_page", default=lambda user, expert: {"assignments": [], "ratings": []})
