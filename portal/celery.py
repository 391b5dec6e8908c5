"""The Celery app: configured from the CELERY_* Django settings, tasks found in every app, and in
every worker a listener that drains the outbox as soon as a write commits (portal/outbox.py)."""

import os
import threading

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class OutboxListener(bootsteps.StartStopStep):
    """A thread of the worker's main process, LISTENing for commits that wrote outbox entries.

    It needs no broker: a write's entry reaches the figures while Redis is down, and the worker
    keeps draining while it reconnects to the broker."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stop_event = threading.Event()
        self.thread = None

    def start(self, worker):
        from portal.outbox import listen

        self.thread = threading.Thread(target=listen, args=(self.stop_event,), name="outbox-listener", daemon=True)
        self.thread.start()

    def stop(self, worker):
        self.stop_event.set()


app.steps["worker"].add(OutboxListener)
