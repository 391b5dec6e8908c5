from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal and reference data")

    def ready(self) -> None:
        # The outbox handler that wakes the delivery of notifications.
        from portal.notifications import handlers  # noqa: F401
