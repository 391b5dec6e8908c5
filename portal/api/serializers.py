"""Serializer plumbing shared by every app's API (named enums, audit entries), and the reference
data and /api/me/ shapes."""


from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_choice_description_list
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from portal.audit import change_rows, note_text
from portal.models import AuditEntry, Industry, Region, ServiceArea, Specialty, User


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose choices are one named enum in the OpenAPI schema.

    A need's status, and the from/to statuses of its history, are then one NeedStatusEnum rather
    than several enums that collide with a claim's status.
    """

    def __init__(self, *, enum_name: str, **kwargs):
        self.enum_name = enum_name
        super().__init__(**kwargs)

    def to_representation(self, value):
        if value == "" and self.allow_null:
            return None
        return super().to_representation(value)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "enum": list(self.target.choices),
            "description": build_choice_description_list(self.target.choices.items()),
        }


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent"]


class IndustrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Industry
        fields = ["code", "name", "name_en", "level", "parent"]


class ServiceAreaSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceArea
        fields = ["code", "name", "name_en", "description", "active"]


class SpecialtySerializer(serializers.ModelSerializer):
    class Meta:
        model = Specialty
        fields = ["code", "name", "name_en", "service_areas"]


class MeSerializer(serializers.ModelSerializer):
    region = RegionSerializer(read_only=True, allow_null=True)
    role = serializers.CharField(source="effective_role", read_only=True)

    class Meta:
        model = User
        fields = ["username", "full_name", "role", "region", "organisation"]


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class AuditEntrySerializer(serializers.ModelSerializer):
    action = NamedChoiceField(enum_name="AuditActionEnum", choices=AuditEntry.Action.choices, read_only=True)
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    actor = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField(help_text=_("Each field changed, old and new, as displayed."))
    note = serializers.SerializerMethodField(help_text=_("The note, in the reader's language when the portal "
                                                         "wrote it."))

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "action", "action_label", "actor", "note", "changes"]
        read_only_fields = fields

    def get_actor(self, entry: AuditEntry) -> str | None:
        return str(entry.actor) if entry.actor else None

    def get_note(self, entry: AuditEntry) -> str:
        return note_text(entry.note)

    @extend_schema_field(ChangeSerializer(many=True))
    def get_changes(self, entry: AuditEntry):
        return ChangeSerializer(change_rows(entry), many=True).data
