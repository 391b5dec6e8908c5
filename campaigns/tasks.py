"""The app's Celery tasks, where the worker's autodiscovery looks for them: the KPI engine's
live in campaigns/kpis/tasks.py."""

from campaigns.kpis.tasks import kpi_compute, kpi_refresh_all  # noqa: F401
