from django.contrib import admin

from enterprises.models import Enterprise, ImportJob
from enterprises.services import AUDITED_ENTERPRISE_FIELDS
from portal.admin import AuditedAdminMixin


@admin.register(Enterprise)
class EnterpriseAdmin(AuditedAdminMixin, admin.ModelAdmin):
    audited_fields = AUDITED_ENTERPRISE_FIELDS
    list_display = ["name", "uscc", "region", "industry", "size"]
    list_filter = ["size", "is_key", "is_specialized"]
    search_fields = ["name", "uscc"]
    autocomplete_fields = ["region", "industry", "users"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only: jobs are made by uploads and moved on by the import task."""

    list_display = ["original_name", "uploaded_by", "region", "status", "total_rows", "valid_rows",
                    "created_count", "updated_count", "created_at"]
    list_filter = ["status", "format"]
    search_fields = ["original_name", "uploaded_by__username"]
    list_select_related = ["uploaded_by", "region"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# The sub-domains' admin pages register with the app's.
from enterprises.designations import admin as designations_admin  # noqa: E402, F401
