from django.contrib import admin

from enterprises.models import Enterprise


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "region", "industry", "size"]
    list_filter = ["size", "is_key", "is_specialized"]
    search_fields = ["name", "uscc"]
    autocomplete_fields = ["region", "industry", "users"]
