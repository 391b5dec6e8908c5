from django.contrib import admin

from experts.models import Expert
from experts.services import AUDITED_FIELDS
from portal.admin import AuditedAdminMixin


@admin.register(Expert)
class ExpertAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audited_fields = AUDITED_FIELDS
    list_display = ["code", "name", "employer", "employer_kind", "region", "capacity", "is_active"]
    list_filter = ["is_active", "employer_kind", "specialties"]
    search_fields = ["code", "name", "employer"]
    list_select_related = ["region"]
    autocomplete_fields = ["region", "regions_served", "user"]
    filter_horizontal = ["specialties"]
