"""Administrators create campaigns here; cases are run in the portal's own pages."""

from django.contrib import admin

from campaigns.models import AssistanceCase, Campaign, CampaignTarget, TrainingAttendance, TrainingSession


class CampaignTargetInline(admin.TabularInline):
    model = CampaignTarget
    extra = 1
    autocomplete_fields = ["region"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    inlines = [CampaignTargetInline]
    list_display = ["name", "organiser", "region", "starts_on", "ends_on"]
    list_filter = ["starts_on"]
    search_fields = ["name", "organiser", "region__name"]
    autocomplete_fields = ["region"]
    filter_horizontal = ["service_areas"]


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


class TrainingAttendanceInline(admin.TabularInline):
    model = TrainingAttendance
    extra = 0
    autocomplete_fields = ["enterprise"]


@admin.register(TrainingSession)
class TrainingSessionAdmin(admin.ModelAdmin):
    list_display = ["topic", "campaign", "region", "held_on", "mode", "organiser"]
    list_filter = ["mode", "campaign"]
    search_fields = ["topic", "organiser", "place"]
    autocomplete_fields = ["region"]
    inlines = [TrainingAttendanceInline]
