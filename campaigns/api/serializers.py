"""Input and output shapes of the campaign API; the rules live in campaigns.services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from campaigns.filters import PeriodStatus
from campaigns.models import MAX_BASE_PERCENT, MIN_BASE_PERCENT, Campaign, CampaignTarget, RecordsImportJob
from portal.api.serializers import NamedChoiceField
from portal.filters import MAX_ID
from portal.models import Region, ServiceArea


class CampaignSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    service_areas = serializers.PrimaryKeyRelatedField(many=True, read_only=True,
                                                       help_text=_("Service-area numbers in scope."))

    class Meta:
        model = Campaign
        fields = ["id", "name", "theme", "organiser", "region", "region_name", "starts_on", "ends_on",
                  "service_areas", "created_at"]
        read_only_fields = fields


METRIC = {"enum_name": "CampaignTargetMetricEnum", "choices": CampaignTarget.Metric.choices}
SCOPE = {"enum_name": "CampaignTargetScopeEnum", "choices": CampaignTarget.Scope.choices}


class CampaignTargetSerializer(serializers.ModelSerializer):
    metric = NamedChoiceField(**METRIC, read_only=True)
    metric_label = serializers.CharField(source="get_metric_display", read_only=True)
    scope = NamedChoiceField(**SCOPE, read_only=True)
    scope_label = serializers.CharField(source="get_scope_display", read_only=True)
    region = serializers.CharField(source="region_id", read_only=True, allow_null=True,
                                   help_text=_("Only for a target of one region."))
    region_name = serializers.CharField(source="region.name", read_only=True, allow_null=True, default=None)
    key = serializers.CharField(read_only=True, help_text=_("The certification scheme or service area of a figure "
                                                            "counted per scheme or area; \"\" for the others."))
    key_label = serializers.CharField(read_only=True)
    value = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True,
                                     help_text=_("The target; null for a target relative to another campaign."))
    base_campaign = serializers.IntegerField(source="base_campaign_id", read_only=True, allow_null=True,
                                             help_text=_("A relative target: the campaign it is compared with."))
    base_campaign_name = serializers.CharField(source="base_campaign.name", read_only=True, allow_null=True,
                                               default=None)
    base_percent = serializers.DecimalField(
        max_digits=7, decimal_places=2, read_only=True, allow_null=True,
        help_text=_("A relative target: at least this many percent more than the base campaign's figure in the "
                    "same region (computed per region on the dashboards and in /api/kpi-snapshots/)."))

    class Meta:
        model = CampaignTarget
        fields = ["id", "metric", "metric_label", "key", "key_label", "scope", "scope_label", "region", "region_name",
                  "value", "base_campaign", "base_campaign_name", "base_percent"]
        read_only_fields = fields


class CampaignDetailSerializer(CampaignSerializer):
    """A campaign with its status today, its targets, and the cases and training sessions the
    caller may see in it (those of the caller's jurisdiction)."""

    status = NamedChoiceField(enum_name="CampaignStatusEnum", choices=PeriodStatus.choices, source="period_status",
                              read_only=True, help_text=_("Upcoming, running or ended, as of today."))
    cases_count = serializers.IntegerField(read_only=True, help_text=_("Cases the caller may see."))
    training_sessions_count = serializers.IntegerField(read_only=True,
                                                       help_text=_("Training sessions the caller may see."))
    targets = CampaignTargetSerializer(many=True, read_only=True)

    class Meta(CampaignSerializer.Meta):
        fields = [*CampaignSerializer.Meta.fields, "status", "cases_count", "training_sessions_count", "targets"]
        read_only_fields = fields


class CampaignWriteSerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(),
                                          help_text=_("The 6-digit code of the jurisdiction."))
    service_areas = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=ServiceArea.objects.filter(active=True),
        help_text=_("Service-area numbers in scope; none means every area."),
    )

    class Meta:
        model = Campaign
        fields = ["name", "organiser", "region", "theme", "starts_on", "ends_on", "service_areas"]

    def run_validators(self, value):
        pass  # the service validates the campaign as a whole (full_clean), with its rules across rows


class CampaignCreateSerializer(CampaignWriteSerializer):
    """A new campaign: administrators only."""


class CampaignUpdateSerializer(CampaignWriteSerializer):
    """Changes to a campaign: only the fields sent change. Its regulators change the theme, period
    and service areas; administrators the name and organiser too (a change to those by anyone
    else answers 403). The jurisdiction never changes."""

    class Meta(CampaignWriteSerializer.Meta):
        fields = ["name", "organiser", "theme", "starts_on", "ends_on", "service_areas"]
        extra_kwargs = {name: {"required": False} for name in fields}


class CampaignTargetSetSerializer(serializers.Serializer):
    """A target to set: a new one, or a new value for the one with the same figure, scope and region."""

    metric = NamedChoiceField(**METRIC)
    scope = NamedChoiceField(**SCOPE, default=CampaignTarget.Scope.CAMPAIGN)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all(), required=False,
                                          allow_null=True, default=None,
                                          help_text=_("Only for a target of one region: its 6-digit code."))
    key = serializers.CharField(max_length=16, required=False, allow_blank=True, default="",
                                help_text=_("For a figure per certification scheme (e.g. iso9001) or per service "
                                            "area (its number, e.g. 2)."))
    value = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False, allow_null=True,
                                     default=None, help_text=_("The target; leave out for a relative target."))
    base_campaign = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None,
        help_text=_("A relative target: the id of the campaign to compare with (one the caller may see)."))
    base_percent = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=MIN_BASE_PERCENT, max_value=MAX_BASE_PERCENT, required=False,
        allow_null=True, default=None,
        help_text=_("A relative target: at least this many percent more than the base campaign's figure."))


class RecordsImportSerializer(serializers.Serializer):
    """A list of the campaign's records to import in the background: every row is checked, and all of
    it is recorded or, when a row is bad, nothing and the report."""

    kind = NamedChoiceField(enum_name="RecordsImportKindEnum", choices=RecordsImportJob.Kind.choices,
                            help_text=_("cases: cases with their visits and outcomes; surveys: survey answers."))
    file = serializers.FileField(help_text=_("The list, .csv or .xlsx, the first row holding the column headers."))
    lead = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID,
                                    help_text=_("Administrators: the id of the imported cases' lead regulator."))


class RecordsImportJobSerializer(serializers.ModelSerializer):
    kind = NamedChoiceField(enum_name="RecordsImportKindEnum", choices=RecordsImportJob.Kind.choices, read_only=True)
    status = NamedChoiceField(enum_name="RecordsImportStatusEnum", choices=RecordsImportJob.Status.choices,
                              read_only=True, help_text=_("validating and importing while it runs; then done, "
                                                          "invalid (nothing recorded, see problems) or failed."))
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.__str__", read_only=True, default=None)
    bad_rows = serializers.IntegerField(read_only=True)
    problems = serializers.SerializerMethodField(help_text=_("The bad rows: line, column and the reason, in the "
                                                             "reader's language (the first 1,000)."))

    class Meta:
        model = RecordsImportJob
        fields = ["id", "campaign", "kind", "status", "status_label", "original_name", "total_rows",
                  "processed_rows", "error_count", "bad_rows", "problems", "failure", "counts", "uploaded_by",
                  "created_at", "updated_at", "finished_at"]
        read_only_fields = fields

    def get_problems(self, job: RecordsImportJob) -> list[dict]:
        from campaigns.import_jobs import problem_rows

        return problem_rows(job)
