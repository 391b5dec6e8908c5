"""Administrators see how notifications went out: each delivery's state, attempts and last error."""

from django.contrib import admin

from portal.notifications.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "digest", "state", "attempts", "next_attempt_at", "sent_at",
                    "last_error"]
    list_filter = ["state", "channel", "digest"]
    list_select_related = ["notification"]
    search_fields = ["notification__recipient__username", "notification__title"]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
