"""Input and output shapes of the training API; the rules live in campaigns.training.services."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.models import Campaign
from campaigns.training.models import TrainingAttendance, TrainingSession
from campaigns.training.selectors import campaigns_for_training, firms_by_code
from enterprises.selectors import enterprises_visible_to
from enterprises.uscc import normalise
from portal.api.serializers import NamedChoiceField
from portal.models import Region, ServiceArea, User
from portal.selectors import regions_visible_to

MODE = {"enum_name": "TrainingModeEnum", "choices": TrainingSession.Mode.choices}
MAX_PERSONS = 10_000
MAX_ATTENDANCE_ROWS = 10_000


class AttendanceSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    region = serializers.CharField(source="enterprise.region_id", read_only=True)

    class Meta:
        model = TrainingAttendance
        fields = ["enterprise", "enterprise_name", "uscc", "region", "persons", "names"]
        read_only_fields = fields


class TrainingSessionSerializer(serializers.ModelSerializer):
    """A session as the list shows it, with its totals."""

    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    mode = NamedChoiceField(**MODE, read_only=True)
    mode_label = serializers.CharField(source="get_mode_display", read_only=True)
    recorded_by = serializers.CharField(source="recorded_by.__str__", read_only=True)
    firm_times = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Attending enterprises."))
    person_times = serializers.IntegerField(read_only=True, help_text=gettext_lazy("Their persons, added up."))
    entered_later = serializers.BooleanField(read_only=True, help_text=gettext_lazy(
        "Typed in after the fact (补录): after the campaign ended, or more than a week after the session; "
        "recorded_by and recorded_at say who entered it and when."))

    class Meta:
        model = TrainingSession
        fields = ["id", "campaign", "campaign_name", "region", "region_name", "topic", "held_on", "place", "mode",
                  "mode_label", "organiser", "service_area", "firm_times", "person_times", "recorded_by",
                  "recorded_at", "entered_later", "updated_at"]
        read_only_fields = fields


class TrainingSessionDetailSerializer(TrainingSessionSerializer):
    """A session with its attendance list."""

    attendances = AttendanceSerializer(many=True, read_only=True)

    class Meta(TrainingSessionSerializer.Meta):
        fields = [*TrainingSessionSerializer.Meta.fields, "attendances"]
        read_only_fields = fields


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 64}],
                      "description": "The enterprise's registry id, or its unified social credit code."})
class EnterpriseReferenceField(serializers.Field):
    """An enterprise named by its id (a number) or its credit code (a string); resolved by the
    parent serializer, which looks them all up at once."""

    default_error_messages = {"invalid": gettext_lazy("Give the enterprise's id or its credit code.")}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            if not 0 < data < 2**63:
                self.fail("invalid")
            return data
        if isinstance(data, str) and data.strip():
            text = data.strip()
            if text.isdigit() and len(text) < 18:
                return int(text) if 0 < int(text) < 2**63 else self.fail("invalid")
            if len(text) > 64:
                self.fail("invalid")
            return normalise(text)
        self.fail("invalid")

    def to_representation(self, value):
        return value


class AttendanceInputSerializer(serializers.Serializer):
    enterprise = EnterpriseReferenceField()
    persons = serializers.IntegerField(min_value=1, max_value=MAX_PERSONS, default=1,
                                       help_text=gettext_lazy("How many of its people came."))
    names = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                  help_text=gettext_lazy("Who signed in, e.g. 张三、李四."))


class TrainingRecordSerializer(serializers.Serializer):
    """A session and its attendance; every id must be one the caller may use, else "does not exist"."""

    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.none())
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.none(),
                                          help_text=gettext_lazy("Code of the region where it was held."))
    topic = serializers.CharField(max_length=TrainingSession._meta.get_field("topic").max_length)
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=TrainingSession._meta.get_field("place").max_length, required=False,
                                  allow_blank=True, default="")
    mode = NamedChoiceField(**MODE, default=TrainingSession.Mode.IN_PERSON)
    organiser = serializers.CharField(max_length=TrainingSession._meta.get_field("organiser").max_length)
    service_area = serializers.PrimaryKeyRelatedField(queryset=ServiceArea.objects.all(), required=False,
                                                      allow_null=True, default=None)
    attendances = AttendanceInputSerializer(many=True, required=False, default=list,
                                            max_length=MAX_ATTENDANCE_ROWS)

    def __init__(self, *args, user: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None:
            self.fields["campaign"].queryset = campaigns_for_training(user)
            self.fields["region"].queryset = regions_visible_to(user)

    def validate_attendances(self, rows: list[dict]) -> list[tuple]:
        """Resolve every enterprise at once: a row naming a firm outside the caller's reach, or one
        already on the list, gets its own message."""
        ids = [row["enterprise"] for row in rows if isinstance(row["enterprise"], int)]
        codes = [row["enterprise"] for row in rows if isinstance(row["enterprise"], str)]
        by_id = enterprises_visible_to(self.user).in_bulk(ids) if ids else {}
        by_code = firms_by_code(self.user, codes).visible if codes else {}
        # Keyed by the row's index, as DRF reports the rows' own field errors.
        errors: dict[int, dict] = {}
        attendances, first_row = [], {}
        for index, row in enumerate(rows):
            reference = row["enterprise"]
            firm = by_id.get(reference) if isinstance(reference, int) else by_code.get(reference)
            if firm is None:
                errors[index] = {"enterprise": [_("No enterprise of your jurisdiction has this id or credit code.")]}
            elif firm.pk in first_row:
                errors[index] = {"enterprise": [_("This enterprise is already on the list, at index %(index)d.")
                                                % {"index": first_row[firm.pk]}]}
            else:
                first_row[firm.pk] = index
                attendances.append((firm, row["persons"], row["names"]))
        if errors:
            raise serializers.ValidationError(errors)
        return attendances
