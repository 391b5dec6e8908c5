from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from portal.audit import portal_note, record_create, record_update, snapshot
from portal.models import AuditEntry, Industry, Region, ServiceArea, Specialty, User, WorkerHeartbeat

admin.site.site_header = _("Quality-campaign portal administration")
admin.site.site_title = _("Quality-campaign portal")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "role", "region", "is_active"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name", "region__name"]
    autocomplete_fields = ["region"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        (_("Role and jurisdiction"), {"fields": ["role", "full_name", "phone", "organisation", "region"]}),
    ]
    add_fieldsets = [
        *BaseUserAdmin.add_fieldsets,
        (_("Role and jurisdiction"), {"fields": ["role", "full_name", "region"]}),
    ]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name", "name_en"]


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "active"]


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en"]
    filter_horizontal = ["service_areas"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "hostname", "seen_at"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Administrators may read the audit trail; nobody adds, changes or deletes an entry."""

    list_display = ["at", "action", "content_type", "object_repr", "region_code", "actor"]
    list_filter = ["action", "content_type"]
    search_fields = ["object_repr", "region_code", "actor__username", "actor__full_name"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditedAdminMixin:
    """Changes made in Django admin leave audit entries like changes made in the portal.

    `audited_fields` are snapshotted before the form is saved and compared after its
    many-to-many fields are saved; `audit_region(obj)` says whose jurisdiction reads the entry.
    """

    audited_fields: tuple[str, ...] = ()

    def audit_region(self, obj) -> str:
        return obj.region_id

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            request._audit_before = snapshot(obj, self.audited_fields)
        return obj

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if change:
            record_update(actor=request.user, obj=obj, before=getattr(request, "_audit_before", {}),
                          region_code=self.audit_region(obj), note=portal_note("Changed in administration"))
        else:
            record_create(actor=request.user, obj=obj, fields=self.audited_fields, region_code=self.audit_region(obj),
                          note=portal_note("Created in administration"))

    def has_delete_permission(self, request, obj=None):
        # Records with history are deactivated, not deleted.
        return False

from portal.notifications import admin as notifications_admin  # noqa: E402, F401 - registers Delivery
