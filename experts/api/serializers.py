"""Input and output shapes of the expert-pool API; the rules live in experts.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from experts.models import Expert
from portal.models import Region, Specialty, User


class ExpertSerializer(serializers.ModelSerializer):
    """An expert with the record the pool list shows: open cases carried and satisfaction.

    `load`, `rating_mean` and `rating_count` are the annotations of experts.selectors.with_record.
    """

    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.SerializerMethodField()
    employer_kind_label = serializers.CharField(source="get_employer_kind_display", read_only=True)
    specialties = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    regions_served = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                        help_text=_("The expert's login, if they have one."))
    load = serializers.IntegerField(read_only=True, help_text=_("Open cases the expert carries now."))
    has_capacity = serializers.SerializerMethodField()
    rating_mean = serializers.FloatField(read_only=True, allow_null=True,
                                         help_text=_("Mean satisfaction (1-5) over the cases rated."))
    rating_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Expert
        fields = [
            "id", "code", "name", "title", "employer", "employer_kind", "employer_kind_label", "phone", "email",
            "region", "region_name", "specialties", "regions_served", "capacity", "load", "has_capacity",
            "rating_mean", "rating_count", "is_active", "user", "notes", "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_region_name(self, expert: Expert) -> str:
        return expert.region.full_name()

    def get_has_capacity(self, expert: Expert) -> bool:
        return expert.load < expert.capacity


class ExpertWriteSerializer(serializers.ModelSerializer):
    """The fields a regulator keeps; which pool they may write to is the service's rule."""

    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(),
                                          help_text=_("Code of the region whose pool keeps the expert."))
    # Empty lists are let through so that the service, which owns the rule, says what is missing.
    specialties = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Specialty.objects.all(),
                                               allow_empty=True, required=False, help_text=_("Specialty codes."))
    regions_served = serializers.SlugRelatedField(slug_field="code", many=True, queryset=Region.objects.all(),
                                                  allow_empty=True, required=False, help_text=_("Region codes."))
    # The model bounds capacity with a table constraint, which full_clean reports for the whole
    # record; bounding the field here puts the message on the field.
    capacity = serializers.IntegerField(label=_("capacity"), min_value=1, max_value=50, required=False)
    user = serializers.SlugRelatedField(slug_field="username", queryset=User.objects.filter(role=User.Role.EXPERT),
                                        allow_null=True, required=False,
                                        help_text=_("Username of an expert-role account to sign in with."))

    class Meta:
        model = Expert
        fields = ["code", "name", "title", "employer", "employer_kind", "phone", "email", "region", "specialties",
                  "regions_served", "capacity", "is_active", "user", "notes"]
