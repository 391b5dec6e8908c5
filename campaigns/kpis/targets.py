"""Which targets apply to which region, with the value of each, for the KPI engine to store.

An absolute target carries its value. A relative one ("at least 20% more demonstrations than last
year", Anhui 2018) is worked out when the figures are counted, from the base campaign's stored
to-date figure for the same region: base × (1 + percent / 100). Its row also carries what it was
worked out from (`target_bases`), so a dashboard, the KPI API and the export can say "20% more than
<campaign> (n)", or "no base figure" when the base campaign has none for that region yet.

Targets are evaluated when counted, like every figure a dashboard reads: so that a relative target
follows its base, a recount that changed a campaign's figures notes a target change for each
campaign measuring itself against it (`dependants_changed`), in the recount's own transaction.
"""

from collections import defaultdict
from decimal import Decimal

from django.db.models import Q

from campaigns.figures import targets_changed
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign, CampaignTarget
from portal.models import Region

EACH_LEVEL = {CampaignTarget.Scope.EACH_PROVINCE: Region.Level.PROVINCE,
              CampaignTarget.Scope.EACH_CITY: Region.Level.CITY, CampaignTarget.Scope.EACH_COUNTY: Region.Level.COUNTY}


def target_codes(campaign: Campaign, target: CampaignTarget, regions: list[Region]) -> list[str]:
    """Campaign-wide: the campaign's own region; "each province/city/county": every one inside it;
    one region: that region."""
    if target.scope == CampaignTarget.Scope.CAMPAIGN:
        return [campaign.region_id]
    if target.scope == CampaignTarget.Scope.REGION:
        return [target.region_id]
    level = EACH_LEVEL[target.scope]
    return [region.code for region in regions if region.level == level]


def relative_value(base, percent: Decimal) -> float | None:
    """At least `percent`% more than `base` (None: no base figure)."""
    if base is None:
        return None
    return round(float(Decimal(str(base)) * (1 + percent / 100)), 2)


def base_figures(targets: list[CampaignTarget], codes_of: dict[int, list[str]]) -> dict[tuple[int, str, str], float]:
    """The to-date figures the relative targets are worked out from, by (base campaign, region code,
    figure): a figure of the region's totals, or for a target of one scheme or service area
    ("metric:key") the metric on that scheme's or area's breakdown row. One query per base campaign."""
    wanted: dict[int, set[str]] = defaultdict(set)
    for target in targets:
        if target.is_relative:
            wanted[target.base_campaign_id] |= set(codes_of[target.pk])
    found = {}
    for base_id, codes in wanted.items():
        rows = (KpiSnapshot.objects.filter(campaign_id=base_id, period="", region_id__in=sorted(codes))
                .filter(Q(breakdown="", key="") | Q(breakdown__in=[KpiSnapshot.Breakdown.SCHEME,
                                                                    KpiSnapshot.Breakdown.SERVICE_AREA]))
                .values_list("region_id", "breakdown", "key", "figures"))
        for code, breakdown, key, figures in rows:
            for name, value in figures.items():
                if breakdown:
                    found[(base_id, code, f"{name}:{key}", breakdown)] = value
                else:
                    found[(base_id, code, name, "")] = value
    return found


def base_of(bases: dict, target: CampaignTarget, code: str):
    """The base campaign's figure for `target` in `code`; a scheme or area the base campaign has no
    row of counts as 0 (none of its firms), a region it has no row of as no base figure."""
    if not target.key:
        return bases.get((target.base_campaign_id, code, target.metric, ""))
    breakdown = CampaignTarget.breakdown_of(target.metric)
    value = bases.get((target.base_campaign_id, code, target.figure, breakdown))
    if value is None and (target.base_campaign_id, code, "cases", "") in bases:
        return 0
    return value


def targets_by_region(campaign: Campaign, regions) -> dict[str, dict]:
    """Per region code, what its to-date row carries: `targets` (figure → value, a relative target
    without a base figure left out) and, when a target there is relative, `target_bases` (figure →
    the base campaign, its name, the percentage and the base figure or None). A figure is the
    metric, or "metric:key" for a target of one certification scheme or service area."""
    regions = list(regions)
    targets = list(campaign.targets.select_related("base_campaign"))
    codes_of = {target.pk: target_codes(campaign, target, regions) for target in targets}
    bases = base_figures(targets, codes_of)
    applies: dict[str, dict] = defaultdict(lambda: {"targets": {}})
    for target in targets:
        for code in codes_of[target.pk]:
            row = applies[code]
            if not target.is_relative:
                row["targets"][target.figure] = float(target.value)
                continue
            base = base_of(bases, target, code)
            value = relative_value(base, target.base_percent)
            if value is not None:
                row["targets"][target.figure] = value
            row.setdefault("target_bases", {})[target.figure] = {
                "campaign": target.base_campaign_id, "campaign_name": target.base_campaign.name,
                "percent": float(target.base_percent), "base": base}
    return applies


def dependants_changed(campaign_id: int) -> None:
    """The campaign's figures changed: each campaign with a target relative to it counts its targets again."""
    dependants = (CampaignTarget.objects.filter(base_campaign_id=campaign_id).exclude(campaign_id=campaign_id)
                  .values_list("campaign_id", flat=True).distinct())
    for dependant in sorted(set(dependants)):
        targets_changed(dependant)
