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


# The two national campaigns of DESIGN.md section 1, run before the portal existed and entered
# after the fact by the national regulator through the imports, at demo scale (48 firms).
NATIONAL = (
    ("double_zero", "2017年“服务零距离、质量零缺陷”中小企业质量技术服务活动", "国家质量监督检验检疫总局",
     "质量月期间，摸清企业质量需求，开展精准帮扶；以帮扶成效和企业满意度评价各地。",
     date(2017, 9, 1), date(2017, 9, 30)),
    ("qms", "小微企业质量管理体系认证提升行动", "国家市场监督管理总局",
     "一企一策，派专家上门帮扶小微企业建立并有效运行质量管理体系，获得认证。",
     date(2020, 1, 1), date(2022, 12, 31)),
)
NATIONAL_FIRMS = 48


def seed_national_campaigns(regulator) -> dict[str, Campaign]:
    """The national campaigns with their cases, visits and surveys, imported as a clerk would;
    importing the same lists again adds nothing."""
    import csv
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile

    from campaigns import importing as survey_importing
    from campaigns.cases import importing as case_importing
    from campaigns.services import campaign_target_set
    from enterprises import services as registry
    from enterprises.models import Certification, Enterprise
    from portal.models import User

    admin = User.objects.filter(role=User.Role.ADMINISTRATOR).order_by("pk").first() or regulator

    def upload(name, columns, rows):
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([column.header for column in columns])
        writer.writerows(rows)
        return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")

    campaigns = {}
    for key, name, organiser, theme, starts_on, ends_on in NATIONAL:
        campaigns[key], _created = Campaign.objects.get_or_create(
            name=name, defaults={"organiser": organiser, "theme": theme, "region_id": "000000",
                                 "starts_on": starts_on, "ends_on": ends_on})
    # Every seventh demo firm: some in each of the demo's provinces.
    firms = list(Enterprise.objects.order_by("pk").values_list("uscc", flat=True))[::7][:NATIONAL_FIRMS]
    # Double zero: a baseline survey of every firm (7 in 8 want the quality-infrastructure upgrade,
    # area 2: 87.5%), a case and one visit for each.
    double_zero = campaigns["double_zero"]
    baseline = [[code, "", "基线", "2017-09-02", "2、8" if n % 8 else "8", "", "", "", "", ""]
                for n, code in enumerate(firms)]
    survey_importing.survey_import(user=regulator, campaign=double_zero,
                                   upload=upload("baseline.csv", survey_importing.COLUMNS, baseline))
    cases = [[code, "", "2017-09-05", "精准帮扶", f"2017-09-{10 + n % 15}", ("现场", "远程", "流动诊所")[n % 3], 2,
              "质检专家", "", "2017-09-28", "已解决", "否", "否", "否", "否", "", ""] for n, code in enumerate(firms)]
    case_importing.case_import(user=regulator, campaign=double_zero,
                               upload=upload("cases.csv", case_importing.COLUMNS, cases))
    # QMS uplift: one plan per firm, follow-up surveys shaped like the 2023 survey of 14,267 firms
    # (about 90% awareness up, 97% performance up, revenue +12%, output +13%, margin +10%).
    qms = campaigns["qms"]
    cases = [[code, "", f"2020-0{1 + n % 9}-15", "一企一策", f"2020-1{n % 3}-20", "现场", 3, "认证机构审核员", "",
              "2021-06-30", "已解决", "是" if n % 5 == 0 else "否", "否", "否", "否", "", ""]
             for n, code in enumerate(firms)]
    case_importing.case_import(user=regulator, campaign=qms, upload=upload("cases.csv", case_importing.COLUMNS, cases))
    follow_up = [[code, "", "跟踪", "2022-11-30", "", "否" if n % 10 == 0 else "是", "否" if n == 7 else "是",
                  12 + n % 5 - 2, 13 + n % 3 - 1, 10 + n % 3 - 1] for n, code in enumerate(firms)]
    survey_importing.survey_import(user=regulator, campaign=qms,
                                   upload=upload("follow_up.csv", survey_importing.COLUMNS, follow_up))
    # ISO 9001 obtained during the uplift by 1 in 5 of the surveyed firms (the survey: 20.17%), and
    # ISO 14001 by a few of them.
    for n, code in enumerate(firms):
        for scheme, wanted in (("iso9001", n % 5 == 0), ("iso14001", n % 12 == 1)):
            number = f"DEMO-{scheme.upper()}-{code[-8:]}"
            if wanted and not Certification.objects.filter(scheme=scheme, number=number).exists():
                registry.certification_add(user=regulator, enterprise=Enterprise.objects.get(uscc=code), scheme=scheme,
                                           number=number, body="中国质量认证中心",
                                           issued_on=date(2021, 1 + n % 12, 10), expires_on=date(2024, 1 + n % 12, 9))
    for campaign, metric, key, value in ((qms, "surveyed_certified_share", "iso9001", 20),
                                         (double_zero, "wanting_share", "2", 80),
                                         (double_zero, "baseline_surveys", "", 40)):
        campaign_target_set(user=admin, campaign=campaign, metric=metric, key=key, value=value)
    return campaigns


def seed_relative_targets(campaigns: dict[str, Campaign], national: dict[str, Campaign]) -> None:
    """Anhui's "at least 20% more than last time", measured against the national QMS uplift's
    figures in each Anhui city (the demo has no earlier Anhui campaign of its own)."""
    from campaigns.models import CampaignTarget
    from campaigns.services import campaign_target_set
    from portal.models import User

    admin = User.objects.filter(role=User.Role.ADMINISTRATOR).order_by("pk").first()
    anhui, qms = campaigns.get("ah"), national.get("qms")
    if admin is None or anhui is None or qms is None:
        return
    campaign_target_set(user=admin, campaign=anhui, metric=CampaignTarget.Metric.FIRMS_ASSISTED,
                        scope=CampaignTarget.Scope.EACH_CITY, base_campaign=qms, base_percent=20)
