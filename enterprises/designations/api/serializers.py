"""Input and output shapes of the key-designation API; the rules live in enterprises.designations.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from enterprises.designations.models import KeyDesignation
from portal.api.serializers import NamedChoiceField
from portal.models import Region

KIND = {"enum_name": "KeyDesignationKindEnum", "choices": KeyDesignation.Kind.choices}


class KeyDesignationSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    kind = NamedChoiceField(**KIND, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    designated_by = serializers.CharField(source="designated_by.__str__", read_only=True)

    class Meta:
        model = KeyDesignation
        fields = ["id", "name", "kind", "kind_label", "region", "region_name", "designated_on", "designated_by",
                  "note", "created_at"]
        read_only_fields = fields


class KeyDesignationCreateSerializer(serializers.Serializer):
    """A key industrial park or key product or service to designate in a region of the caller's jurisdiction."""

    name = serializers.CharField(max_length=128)
    kind = NamedChoiceField(**KIND)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(),
                                          help_text=_("The region's 6-digit code."))
    designated_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="")
