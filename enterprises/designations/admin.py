"""Administrators' page for key designations; a deletion here is noted for the KPI engine
(campaigns/kpis/changes.py), as one through the portal is."""

from django.contrib import admin

from enterprises.designations.models import KeyDesignation


@admin.register(KeyDesignation)
class KeyDesignationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "region", "designated_on", "designated_by"]
    list_filter = ["kind"]
    search_fields = ["name", "region__name"]
    autocomplete_fields = ["region", "designated_by"]
    list_select_related = ["region", "designated_by"]
    date_hierarchy = "designated_on"
