from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # Answers to the questions enterprises/ and experts/ ask of the apps built on them.
        from campaigns.cases import hooks as case_hooks  # noqa: F401
        from campaigns.kpis import hooks as kpi_hooks  # noqa: F401
