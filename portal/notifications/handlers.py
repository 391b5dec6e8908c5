"""The outbox topic of notifications: a commit that wrote deliveries wakes a worker to send them."""

import logging

from django.db import transaction

from portal import outbox
from portal.background import task_for
from portal.notifications.services import TOPIC

logger = logging.getLogger(__name__)


@outbox.handles(TOPIC)
def wake_delivery(entries) -> None:
    """The entries carry nothing: the Delivery table says what is due."""

    def wake() -> None:
        try:
            task_for("portal.tasks.notifications_deliver").delay()
        except Exception:  # noqa: BLE001 - the beat schedule's sweep sends them a minute later
            logger.warning("Could not wake the delivery of notifications; the sweep will send them", exc_info=True)

    transaction.on_commit(wake)
