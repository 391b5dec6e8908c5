"""The KPI engine listens to the registry: a firm's change asks for its campaigns' figures."""

from django.dispatch import receiver

from campaigns.kpis.tasks import kpi_refresh_for_firm
from enterprises.hooks import firm_changed


@receiver(firm_changed, dispatch_uid="campaigns.kpis.firm_changed")
def refresh_for_firm(sender, enterprise, **kwargs) -> None:
    kpi_refresh_for_firm(enterprise)
