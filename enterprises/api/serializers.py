"""Input and output shapes of the registry API; the rules live in enterprises.services."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from enterprises.models import (
    Certification,
    Enterprise,
    EnterpriseClaim,
    NeedAttachment,
    NeedEvent,
    NeedRequest,
    NeedsSurvey,
)
from enterprises.selectors import survey_campaigns
from enterprises.services import REGISTRY_FIELDS
from portal.api.serializers import NamedChoiceField
from portal.models import Industry, Region, ServiceArea

# A credit code as typed: blanks and lower case are allowed, the service normalises and validates
# it, so the serializer only bounds its length.
TYPED_USCC_MAX_LENGTH = 64
NEED_STATUS = {"enum_name": "NeedStatusEnum", "choices": NeedRequest.Status.choices, "read_only": True}


class RegionBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="full_name")


# --- enterprises ---------------------------------------------------------------------------------


class EnterpriseSerializer(serializers.ModelSerializer):
    """A firm as the registry shows it."""

    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.SerializerMethodField()
    industry = serializers.SlugRelatedField(slug_field="code", read_only=True)
    industry_name = serializers.CharField(source="industry.label", read_only=True)
    has_open_needs = serializers.BooleanField(read_only=True, default=False)

    class Meta:
        model = Enterprise
        fields = [
            "id", "uscc", "name", "region", "region_name", "industry", "industry_name", "size",
            "address", "contact_name", "contact_phone", "contact_email", "employees", "annual_revenue",
            "is_key", "is_specialized", "is_exporter", "in_industrial_park", "has_open_needs",
            "created_at", "updated_at",
        ]
        read_only_fields = fields

    def get_region_name(self, enterprise: Enterprise) -> str:
        return enterprise.region.full_name()


class EnterpriseUpdateSerializer(serializers.ModelSerializer):
    """The editable fields of a firm; which of them a user may change is the service's rule."""

    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    industry = serializers.SlugRelatedField(
        slug_field="code", queryset=Industry.objects.filter(level=Industry.Level.DIVISION)
    )

    class Meta:
        model = Enterprise
        fields = list(REGISTRY_FIELDS)


class EnterpriseRegisterSerializer(EnterpriseUpdateSerializer):
    # Declared rather than generated, so the model's validators and uniqueness check do not run
    # here: the service answers a taken code with "claim it instead".
    uscc = serializers.CharField(label=_("unified social credit code"), max_length=TYPED_USCC_MAX_LENGTH)

    class Meta(EnterpriseUpdateSerializer.Meta):
        fields = ["uscc", *REGISTRY_FIELDS]


class UsccLookupQuerySerializer(serializers.Serializer):
    uscc = serializers.CharField(label=_("unified social credit code"), max_length=TYPED_USCC_MAX_LENGTH)


class UsccLookupSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())
    normalised = serializers.CharField()
    suggested_region = RegionBriefSerializer(allow_null=True)
    in_registry = serializers.BooleanField(help_text=_("Whether a firm with this code is registered."))


# --- certifications ------------------------------------------------------------------------------


class CertificationSerializer(serializers.ModelSerializer):
    scheme_label = serializers.CharField(source="get_scheme_display", read_only=True)
    is_valid_today = serializers.BooleanField(read_only=True)

    class Meta:
        model = Certification
        fields = ["id", "enterprise", "scheme", "scheme_label", "number", "body", "issued_on", "expires_on",
                  "is_valid_today"]
        read_only_fields = ["enterprise"]
        # Uniqueness of (scheme, number) is checked by the service's full_clean, with the model's message.
        validators = []


# --- claims --------------------------------------------------------------------------------------


class ClaimSerializer(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc", read_only=True)
    enterprise_name = serializers.SerializerMethodField()
    region = serializers.CharField(source="enterprise.region_id", read_only=True)
    claimant = serializers.CharField(source="user.__str__", read_only=True)
    decided_by = serializers.SerializerMethodField()
    status = NamedChoiceField(enum_name="ClaimStatusEnum", choices=EnterpriseClaim.Status.choices, read_only=True)

    class Meta:
        model = EnterpriseClaim
        fields = ["id", "enterprise", "uscc", "enterprise_name", "region", "claimant", "message", "status",
                  "decided_by", "decided_at", "decision_note", "created_at"]
        read_only_fields = fields

    def get_enterprise_name(self, claim: EnterpriseClaim) -> str | None:
        # Typing a credit code only tells the claimant that the firm is registered; its record is
        # theirs to see once a regulator confirms the claim.
        request = self.context.get("request")
        is_claimant = request is not None and request.user.pk == claim.user_id
        if is_claimant and claim.status != EnterpriseClaim.Status.CONFIRMED:
            return None
        return claim.enterprise.name

    def get_decided_by(self, claim: EnterpriseClaim) -> str | None:
        return str(claim.decided_by) if claim.decided_by else None


class ClaimCreateSerializer(serializers.Serializer):
    uscc = serializers.CharField(label=_("unified social credit code"), max_length=TYPED_USCC_MAX_LENGTH)
    message = serializers.CharField(label=_("message to the regulator"), required=False, allow_blank=True,
                                    default="")


class ClaimDecisionSerializer(serializers.Serializer):
    note = serializers.CharField(label=_("note on the decision"), required=False, allow_blank=True, default="")


# --- needs ---------------------------------------------------------------------------------------


class NeedSerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    region = serializers.CharField(source="enterprise.region_id", read_only=True)
    region_name = serializers.CharField(source="enterprise.region.name", read_only=True)
    service_area_name = serializers.CharField(source="service_area.label", read_only=True)
    status = NamedChoiceField(**NEED_STATUS)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    is_open = serializers.BooleanField(read_only=True)
    submitted_at = serializers.DateTimeField(read_only=True, help_text=_(
        "When the need was received: online, the moment it was submitted; on paper or by phone, the day it came "
        "in (at noon)."))
    entered_at = serializers.DateTimeField(source="created_at", read_only=True,
                                           help_text=_("When it was typed into the portal."))
    entered_later = serializers.BooleanField(read_only=True, help_text=_(
        "Typed in more than a week after it was received (补录); submitted_by says who typed it in."))
    submitted_by = serializers.CharField(source="submitted_by.__str__", read_only=True,
                                         help_text=_("Who typed it in: the firm's user, or the bureau's for a need "
                                                     "received on paper."))

    class Meta:
        model = NeedRequest
        fields = ["id", "enterprise", "enterprise_name", "region", "region_name", "service_area",
                  "service_area_name", "title", "description", "urgency", "status", "status_label", "is_open",
                  "decline_reason", "duplicate_of", "submitted_at", "entered_at", "submitted_by", "entered_later",
                  "updated_at"]
        read_only_fields = fields


class NeedEventSerializer(serializers.ModelSerializer):
    from_status = NamedChoiceField(**NEED_STATUS, allow_null=True, help_text=_("Empty for the submission."))
    to_status = NamedChoiceField(**NEED_STATUS)
    actor = serializers.SerializerMethodField()
    note = serializers.CharField(source="note_text", read_only=True,
                                 help_text=_("Why: as the user typed it, or the portal's own note in the reader's "
                                             "language."))

    class Meta:
        model = NeedEvent
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields

    def get_actor(self, event: NeedEvent) -> str | None:
        return str(event.actor) if event.actor else None


class NeedAttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = NeedAttachment
        fields = ["id", "name", "size", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: NeedAttachment) -> str:
        # Served through the API, to those who may see the need, never from a public folder.
        path = reverse("api:need-attachment", kwargs={"pk": attachment.need_id, "attachment_id": attachment.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class NeedDetailSerializer(NeedSerializer):
    events = NeedEventSerializer(many=True, read_only=True)
    attachments = NeedAttachmentSerializer(many=True, read_only=True)

    class Meta(NeedSerializer.Meta):
        fields = [*NeedSerializer.Meta.fields, "events", "attachments"]
        read_only_fields = fields


class NeedSubmitSerializer(serializers.Serializer):
    """A new need: the enterprise must be one the caller may see, else "does not exist"."""

    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.none())
    service_area = serializers.PrimaryKeyRelatedField(queryset=ServiceArea.objects.all())
    title = serializers.CharField(max_length=NeedRequest._meta.get_field("title").max_length)
    description = serializers.CharField()
    urgency = serializers.ChoiceField(choices=NeedRequest.Urgency.choices, default=NeedRequest.Urgency.NORMAL)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)
    received_on = serializers.DateField(required=False, allow_null=True, default=None, help_text=_(
        "A need received on paper or by phone: the day it came in (not in the future). Regulators of the firm's "
        "region and administrators give it when they enter such a need."))

    def __init__(self, *args, enterprises=None, **kwargs):
        super().__init__(*args, **kwargs)
        if enterprises is not None:
            self.fields["enterprise"].queryset = enterprises


class NeedNoteSerializer(serializers.Serializer):
    note = serializers.CharField(label=_("note"), required=False, allow_blank=True, default="")


class NeedDeclineSerializer(serializers.Serializer):
    # Blank is let through so that the service, which owns the rule, says why it is refused.
    reason = serializers.CharField(label=_("reason for declining"), required=False, allow_blank=True, default="")


class NeedDuplicateSerializer(serializers.Serializer):
    original = serializers.PrimaryKeyRelatedField(queryset=NeedRequest.objects.none(),
                                                  help_text=_("The need this one repeats."))

    def __init__(self, *args, needs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if needs is not None:
            self.fields["original"].queryset = needs


# --- surveys -------------------------------------------------------------------------------------

SURVEY_ANSWER_FIELDS = ["awareness_improved", "performance_improved", "revenue_change_pct", "output_change_pct",
                        "profit_margin_change_pct", "comments"]


class SurveySerializer(serializers.ModelSerializer):
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    services_wanted = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    answered_by = serializers.CharField(source="answered_by.__str__", read_only=True)

    class Meta:
        model = NeedsSurvey
        fields = ["id", "enterprise", "enterprise_name", "kind", "campaign", "services_wanted", *SURVEY_ANSWER_FIELDS,
                  "answered_by", "answered_at"]
        read_only_fields = fields


class SurveyAnswerSerializer(serializers.ModelSerializer):
    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.none())
    # Any campaign by id: the service refuses one that does not cover the firm, per field.
    campaign = serializers.PrimaryKeyRelatedField(
        queryset=survey_campaigns(), required=False, allow_null=True, default=None,
        help_text=_("The campaign whose assistance the answers report on: required for a follow-up, optional for "
                    "a baseline; it must cover the firm's region."),
    )
    services_wanted = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ServiceArea.objects.filter(active=True),
        help_text=_("Service-area numbers."),
    )

    class Meta:
        model = NeedsSurvey
        fields = ["enterprise", "kind", "campaign", "services_wanted", *SURVEY_ANSWER_FIELDS]

    def __init__(self, *args, enterprises=None, **kwargs):
        super().__init__(*args, **kwargs)
        if enterprises is not None:
            self.fields["enterprise"].queryset = enterprises
