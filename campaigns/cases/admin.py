"""Administrators' pages for cases."""

from django.contrib import admin

from campaigns.cases.models import AssistanceCase


@admin.register(AssistanceCase)
class AssistanceCaseAdmin(admin.ModelAdmin):
    """Read-only: a case changes through its services, which keep the history and audit trail."""

    list_display = ["title", "enterprise", "campaign", "status", "resolution", "lead", "opened_at"]
    list_filter = ["status", "resolution", "campaign"]
    search_fields = ["title", "enterprise__name", "enterprise__uscc"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
