from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # Answers to the questions enterprises/ and experts/ ask of the apps built on them.
        from campaigns.cases import hooks as case_hooks  # noqa: F401

        # The KPI engine's handler of the outbox's notes, and of rows deleted in Django admin.
        from campaigns.kpis import changes  # noqa: F401
