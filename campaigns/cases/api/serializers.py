"""Input and output shapes of the case and visit API; the rules live in campaigns.cases.services."""

from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, CaseRating, Visit, VisitAttachment
from campaigns.cases.services import VISIT_FIELDS
from campaigns.models import Campaign
from enterprises.models import Enterprise, NeedRequest
from experts.models import Expert
from portal.api.serializers import NamedChoiceField
from portal.models import ServiceArea, User

Status = AssistanceCase.Status
CASE_STATUS = {"enum_name": "CaseStatusEnum", "choices": Status.choices}
# The outcomes a case records when it closes, and that its managers may correct afterwards.
OUTCOME_FIELDS = ["certificate_obtained", "standard_drafted", "excellence_model_adopted", "lab_set_up",
                  "money_saved", "money_saved_period", "outcome_notes"]


def absolute(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request else path


class UnsentBooleanField(serializers.BooleanField):
    """A yes/no left out when a form does not send it, where DRF would read it as "no".

    Closing or editing a case from form data must not clear an outcome recorded earlier just
    because the client did not send it again.
    """

    default_empty_html = empty


def money_field(**kwargs) -> serializers.DecimalField:
    # Not negative: the model says so with a table constraint, which full_clean reports for the
    # whole record; bounding the field here puts the message on the field.
    return serializers.DecimalField(label=_("money saved (yuan)"), max_digits=14, decimal_places=2, min_value=0,
                                    allow_null=True, **kwargs)


class ExpertBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Expert
        fields = ["id", "code", "name", "title", "employer"]
        read_only_fields = fields


class AssignmentSerializer(serializers.ModelSerializer):
    expert = ExpertBriefSerializer(read_only=True)
    assigned_by = serializers.CharField(source="assigned_by.__str__", read_only=True)

    class Meta:
        model = CaseAssignment
        fields = ["id", "expert", "assigned_by", "assigned_at", "active", "over_capacity", "override_reason",
                  "released_at"]
        read_only_fields = fields


class RatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseRating
        fields = ["score", "comment", "rated_at"]
        read_only_fields = fields


class CaseSerializer(serializers.ModelSerializer):
    """A case as the lists show it, with the experts assigned to it now."""

    campaign_name = serializers.CharField(source="campaign.name", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.name", read_only=True)
    region = serializers.CharField(source="enterprise.region_id", read_only=True)
    region_name = serializers.SerializerMethodField()
    status = NamedChoiceField(**CASE_STATUS, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    resolution = NamedChoiceField(enum_name="CaseResolutionEnum", choices=AssistanceCase.Resolution.choices,
                                  read_only=True, allow_null=True, help_text=_("Empty until the case closes."))
    lead_name = serializers.CharField(source="lead.__str__", read_only=True)
    experts = serializers.SerializerMethodField(help_text=_("The experts assigned now."))

    class Meta:
        model = AssistanceCase
        fields = ["id", "title", "campaign", "campaign_name", "enterprise", "enterprise_name", "region",
                  "region_name", "status", "status_label", "resolution", "lead", "lead_name", "experts", "opened_at",
                  "closed_at", "last_visit_on", "next_follow_up_on", "version", "updated_at"]
        read_only_fields = fields

    def get_region_name(self, case: AssistanceCase) -> str:
        return case.enterprise.region.full_name()

    @extend_schema_field(ExpertBriefSerializer(many=True))
    def get_experts(self, case: AssistanceCase):
        # `active_assignments` is prefetched by the viewset: one query for the whole page.
        return ExpertBriefSerializer([a.expert for a in case.active_assignments], many=True).data


class CaseDetailSerializer(CaseSerializer):
    """A case with its plan, outcomes, answered needs, every assignment and the firm's rating."""

    needs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    opened_by = serializers.CharField(source="opened_by.__str__", read_only=True)
    entered_later = serializers.BooleanField(read_only=True, help_text=_(
        "Typed in after the fact (after the campaign ended, or more than a week after it opened)."))
    assignments = AssignmentSerializer(many=True, read_only=True)
    rating = serializers.SerializerMethodField()

    class Meta(CaseSerializer.Meta):
        fields = [*CaseSerializer.Meta.fields, "needs", "diagnosis", "plan", *OUTCOME_FIELDS, "opened_by",
                  "entered_at", "entered_later", "assignments", "rating"]
        read_only_fields = fields

    @extend_schema_field(RatingSerializer(allow_null=True))
    def get_rating(self, case: AssistanceCase):
        rating = getattr(case, "rating", None)
        return RatingSerializer(rating).data if rating is not None else None


class CaseOpenSerializer(serializers.Serializer):
    """A new case: every id must be one the caller may see, else "does not exist"."""

    campaign = serializers.PrimaryKeyRelatedField(queryset=Campaign.objects.none())
    enterprise = serializers.PrimaryKeyRelatedField(queryset=Enterprise.objects.none(), required=False,
                                                    allow_null=True, default=None,
                                                    help_text=_("May be left out when needs are given."))
    needs = serializers.PrimaryKeyRelatedField(many=True, queryset=NeedRequest.objects.none(), required=False,
                                               default=list, help_text=_("The firm's needs the case answers."))
    title = serializers.CharField(max_length=AssistanceCase._meta.get_field("title").max_length)
    lead = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(role=User.Role.REGULATOR), required=False, allow_null=True, default=None,
        help_text=_("The lead regulator; the caller when left out."),
    )
    diagnosis = serializers.CharField(required=False, allow_blank=True, default="")
    plan = serializers.CharField(required=False, allow_blank=True, default="")
    opened_on = serializers.DateField(required=False, allow_null=True, default=None,
                                      help_text=_("For a case entered after the fact: the day it opened, inside "
                                                  "the campaign's period. Left out: today, in a running campaign."))

    def __init__(self, *args, campaigns=None, enterprises=None, needs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if campaigns is not None:
            self.fields["campaign"].queryset = campaigns
        if enterprises is not None:
            self.fields["enterprise"].queryset = enterprises
        if needs is not None:
            self.fields["needs"].child_relation.queryset = needs


class CaseUpdateSerializer(serializers.ModelSerializer):
    """Changes to a case, from the `version` the editor read: a stale one answers 409."""

    version = serializers.IntegerField(min_value=1, help_text=_("The version you read the case at."))
    lead = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(role=User.Role.REGULATOR), required=False)
    certificate_obtained = UnsentBooleanField(required=False)
    standard_drafted = UnsentBooleanField(required=False)
    excellence_model_adopted = UnsentBooleanField(required=False)
    lab_set_up = UnsentBooleanField(required=False)
    money_saved = money_field(required=False)

    class Meta:
        model = AssistanceCase
        fields = ["version", "title", "lead", "diagnosis", "plan", *OUTCOME_FIELDS]
        extra_kwargs = {name: {"required": False} for name in ["title", "diagnosis", "plan", *OUTCOME_FIELDS]}


class VersionedSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None,
        help_text=_("The version you read the case at; when given and stale, nothing changes and 409 answers."),
    )


class CaseTransitionSerializer(VersionedSerializer):
    to_status = NamedChoiceField(**CASE_STATUS, help_text=_("The next status: one step on (closing has its own "
                                                            "action)."))
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CaseCloseSerializer(VersionedSerializer):
    resolution = NamedChoiceField(enum_name="CaseResolutionEnum", choices=AssistanceCase.Resolution.choices)
    fulfilled_needs = serializers.PrimaryKeyRelatedField(
        many=True, queryset=NeedRequest.objects.none(), required=False, default=list,
        help_text=_("Needs of the case it met; its other open needs are declined."),
    )
    note = serializers.CharField(required=False, allow_blank=True, default="",
                                 help_text=_("Required when closing unresolved: say why."))
    certificate_obtained = UnsentBooleanField(required=False)
    standard_drafted = UnsentBooleanField(required=False)
    excellence_model_adopted = UnsentBooleanField(required=False)
    lab_set_up = UnsentBooleanField(required=False)
    money_saved = money_field(required=False)
    money_saved_period = serializers.ChoiceField(choices=AssistanceCase.SavingsPeriod.choices, required=False)
    outcome_notes = serializers.CharField(required=False, allow_blank=True)
    closed_on = serializers.DateField(required=False, allow_null=True, default=None,
                                      help_text=_("For a case entered after the fact: the day it closed."))

    def __init__(self, *args, needs=None, **kwargs):
        super().__init__(*args, **kwargs)
        if needs is not None:
            self.fields["fulfilled_needs"].child_relation.queryset = needs


class CaseAssignSerializer(serializers.Serializer):
    expert = serializers.PrimaryKeyRelatedField(queryset=Expert.objects.none())
    override_reason = serializers.CharField(required=False, allow_blank=True, default="",
                                            help_text=_("Why to assign an expert already at capacity."))

    def __init__(self, *args, experts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if experts is not None:
            self.fields["expert"].queryset = experts


class CaseReleaseSerializer(serializers.Serializer):
    expert = serializers.PrimaryKeyRelatedField(queryset=Expert.objects.none())
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def __init__(self, *args, experts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if experts is not None:
            self.fields["expert"].queryset = experts


class CaseRateSerializer(serializers.Serializer):
    score = serializers.IntegerField(label=_("score"), min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CaseEventSerializer(serializers.ModelSerializer):
    from_status = NamedChoiceField(**CASE_STATUS, read_only=True, allow_null=True,
                                   help_text=_("Empty for the opening."))
    to_status = NamedChoiceField(**CASE_STATUS, read_only=True)
    actor = serializers.CharField(source="actor.__str__", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["from_status", "to_status", "actor", "at", "note"]
        read_only_fields = fields


class SuggestionQuerySerializer(serializers.Serializer):
    service_area = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ServiceArea.objects.all(), required=False,
        help_text=_("Service areas to match specialties against; by default those of the need, or of the "
                    "case's needs."),
    )
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)


class ServedRegionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class SuggestionSerializer(serializers.Serializer):
    """One ranked expert (experts.selectors.Suggestion): the score out of 100 and why."""

    expert = ExpertBriefSerializer()
    score = serializers.IntegerField()
    specialty_fits = serializers.BooleanField()
    named_words = serializers.ListField(child=serializers.CharField(),
                                        help_text=_("Words of the need that name one of the expert's specialties."))
    past_cases = serializers.IntegerField(help_text=_("Past cases in the service area or on those words."))
    served_region = ServedRegionSerializer(allow_null=True, help_text=_("The closest region served."))
    load = serializers.IntegerField()
    capacity = serializers.IntegerField()
    at_capacity = serializers.BooleanField()
    rating_mean = serializers.FloatField(allow_null=True)
    rating_count = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())


class VisitAttachmentSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="original_name", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = VisitAttachment
        fields = ["id", "name", "size", "is_photo", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, attachment: VisitAttachment) -> str:
        # Served through the API, to those who may see the visit, never from a public folder.
        return absolute(self, reverse("api:visit-attachment",
                                      kwargs={"pk": attachment.visit_id, "attachment_id": attachment.pk}))


class VisitSerializer(serializers.ModelSerializer):
    """A visit as the firm may read it: without the internal remark."""

    case_title = serializers.CharField(source="case.title", read_only=True)
    enterprise = serializers.IntegerField(source="case.enterprise_id", read_only=True)
    enterprise_name = serializers.CharField(source="case.enterprise.name", read_only=True)
    mode = NamedChoiceField(enum_name="VisitModeEnum", choices=Visit.Mode.choices, read_only=True)
    mode_label = serializers.CharField(source="get_mode_display", read_only=True)
    logged_by = serializers.CharField(source="logged_by.__str__", read_only=True)
    attachments = VisitAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Visit
        fields = ["id", "case", "case_title", "enterprise", "enterprise_name", "visited_on", "mode", "mode_label",
                  "hours", "people_present", "problems_found", "actions_recommended", "next_follow_up_on",
                  "logged_by", "logged_at", "updated_at", "version", "attachments"]
        read_only_fields = fields


class VisitWithRemarkSerializer(VisitSerializer):
    """A visit as the bureau and the experts read it."""

    class Meta(VisitSerializer.Meta):
        fields = [*VisitSerializer.Meta.fields, "internal_remark"]
        read_only_fields = fields


class VisitInputSerializer(serializers.ModelSerializer):
    # Declared: the model's validators bound hours with floats, which DecimalField warns about.
    hours = serializers.DecimalField(label=_("hours"), max_digits=4, decimal_places=1, min_value=Decimal("0.5"),
                                     max_value=Decimal("24"))
    mode = NamedChoiceField(enum_name="VisitModeEnum", choices=Visit.Mode.choices, default=Visit.Mode.ON_SITE)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list,
                                        help_text=_("Photos or documents to attach."))

    class Meta:
        model = Visit
        fields = [*VISIT_FIELDS, "attachments"]


class VisitLogSerializer(VisitInputSerializer):
    """A new visit on a case the caller may see, with photos and files."""

    case = serializers.PrimaryKeyRelatedField(queryset=AssistanceCase.objects.none())

    class Meta(VisitInputSerializer.Meta):
        fields = ["case", *VisitInputSerializer.Meta.fields]

    def __init__(self, *args, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        if cases is not None:
            self.fields["case"].queryset = cases


class VisitUpdateSerializer(VisitInputSerializer):
    """Changes to a visit, from the `version` the editor read: a stale one answers 409.

    Only the fields sent change; files sent are added to those already attached.
    """

    version = serializers.IntegerField(min_value=1, help_text=_("The version you read the visit at."))
    hours = serializers.DecimalField(label=_("hours"), max_digits=4, decimal_places=1, min_value=Decimal("0.5"),
                                     max_value=Decimal("24"), required=False)
    mode = NamedChoiceField(enum_name="VisitModeEnum", choices=Visit.Mode.choices, required=False)

    class Meta(VisitInputSerializer.Meta):
        fields = ["version", *VisitInputSerializer.Meta.fields]
        extra_kwargs = {name: {"required": False} for name in VISIT_FIELDS}


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("Someone saved in between: reload, then make the change again."))
