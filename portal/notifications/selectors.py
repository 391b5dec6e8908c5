"""What a person may read of notifications: their own, nobody else's."""

from django.db.models import QuerySet

from portal.models import User
from portal.notifications.models import Notification


def notifications_visible_to(user: User) -> QuerySet[Notification]:
    if not user.is_authenticated or not user.is_active:
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def unread_count(user: User) -> int:
    return notifications_visible_to(user).filter(read_at__isnull=True).count()
