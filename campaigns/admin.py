"""Administrators' pages for campaigns and their targets; the sub-domains' admin registers below."""

from django.contrib import admin

from campaigns.models import Campaign, CampaignTarget


class CampaignTargetInline(admin.TabularInline):
    model = CampaignTarget
    fk_name = "campaign"
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


# Django's admin discovers this module only: the sub-domains' admin pages register when it imports them.
from campaigns.cases import admin as cases_admin  # noqa: E402, F401
from campaigns.training import admin as training_admin  # noqa: E402, F401
