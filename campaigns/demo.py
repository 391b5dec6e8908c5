"""Demo campaigns, told through the services."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from campaigns.models import Campaign


@dataclass(frozen=True)
class DemoCampaign:
    key: str
    name: str  # "{year}" becomes the year the campaign started
    region: str
    organiser: str
    theme: str
    started_days_ago: int
    ends_in_days: int
    service_areas: tuple[int, ...]


CAMPAIGNS = (
    DemoCampaign("sjz", "{year}年石家庄市中小企业一对一质量帮扶", "130100", "石家庄市市场监督管理局",
                 "服务零距离、质量零缺陷：摸清企业质量需求，专家一对一上门，一企一策精准帮扶。", 200, 100,
                 tuple(range(1, 11))),
    DemoCampaign("hebei", "{year}年河北省质量提升行动年", "130000", "河北省市场监督管理局",
                 "以重点企业为抓手推行全面质量管理和卓越绩效模式，提升全省中小企业质量水平。", 180, 120,
                 (1, 2, 3, 4, 5, 8, 10)),
    DemoCampaign("dg", "{year}年东莞质量强市中小企业帮扶", "441900", "东莞市市场监督管理局",
                 "质量强市：免费培训巡回、点对点帮扶，帮助中小企业解决认证、标准和出口质量难题。", 210, 90,
                 tuple(range(1, 11))),
    DemoCampaign("ah", "{year}年安徽省质量提升行动", "340000", "安徽省市场监督管理局",
                 "每市至少帮扶50家重点企业，质量流动诊所进园区，推广卓越绩效模式。", 160, 140,
                 (1, 2, 6, 8, 9, 10)),
)


def seed_campaigns(today: date | None = None) -> dict[str, Campaign]:
    """The demo campaigns, each running today; found again by name."""
    today = today or timezone.localdate()
    campaigns = {}
    for demo in CAMPAIGNS:
        starts_on = today - timedelta(days=demo.started_days_ago)
        campaign, created = Campaign.objects.get_or_create(
            name=demo.name.format(year=starts_on.year),
            defaults={"theme": demo.theme, "organiser": demo.organiser, "region_id": demo.region,
                      "starts_on": starts_on, "ends_on": today + timedelta(days=demo.ends_in_days)},
        )
        if created:
            campaign.full_clean()
            campaign.service_areas.set(demo.service_areas)
        campaigns[demo.key] = campaign
    return campaigns
