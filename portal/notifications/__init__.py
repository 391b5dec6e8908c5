"""Notifications (站内通知) and their delivery by email and other channels.

The apps' services call `portal.notifications.services.notify` inside their own transactions, so a
notification commits or rolls back with the event it tells of; the workers deliver it afterwards
from the Delivery table (delivery.py). The daily reminders are computed set-based (bulk.py).
"""
