"""Administrators' pages for training sessions."""

from django.contrib import admin

from campaigns.training.models import TrainingAttendance, TrainingSession


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
