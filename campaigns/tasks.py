"""The app's Celery tasks, where the worker's autodiscovery looks for them: the KPI engine's
live in campaigns/kpis/tasks.py; the daily and weekly reminders are here."""

from celery import shared_task

from campaigns.kpis.tasks import kpi_compute, kpi_refresh_all  # noqa: F401


@shared_task(name="campaigns.tasks.reminders_send", ignore_result=True, soft_time_limit=240, time_limit=270)
def reminders_send() -> dict[str, int]:
    """Today's reminders to lead regulators and firms; a rerun on the same day writes nothing new."""
    from campaigns.cases.reminders import reminders_send as send

    return send()


@shared_task(name="campaigns.tasks.kpi_pace_check", ignore_result=True)
def kpi_pace_check() -> int:
    """This week's notices of targets behind their pro-rata pace; a rerun in the week adds nothing."""
    from campaigns.kpis.pace import kpi_pace_check as check

    return check()
