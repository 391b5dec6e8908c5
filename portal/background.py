"""Waking background work from the layer that records it.

A service of a lower app names the task it wants run (`"enterprises.tasks.import_job_run"`)
rather than importing the module that defines it, which imports the service in turn.
"""

from celery import current_app
from django.db import transaction


def enqueue_after_commit(task_name: str, *args) -> None:
    """Run the named task with `args` once the current transaction commits (nothing if it rolls
    back): in this process on the embedded default, by a worker when a broker is configured."""

    def enqueue() -> None:
        task_for(task_name).delay(*args)

    transaction.on_commit(enqueue)


def task_for(name: str):
    """The registered task of that name; a web process finds the apps' tasks modules on first use."""
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    return current_app.tasks[name]
