"""Demo enterprises with valid credit codes, in the regions of the demo accounts."""

import random

from django.db import transaction

from enterprises.models import Enterprise
from enterprises.uscc import generate_uscc
from portal.models import Industry, Region, User

# Firms per city, roughly in the proportions of the seed campaigns (Shijiazhuang 252 assisted
# one-to-one, Dongguan ~400 point-to-point): scaled down so the demo stays quick to load.
FIRMS_PER_CITY = {"130100": 120, "130200": 40, "441900": 100, "340100": 60, "340200": 20}

TRADE_WORDS = {
    "13": ["食品", "乳业", "酿造"], "14": ["食品", "调味品"], "17": ["纺织", "织造"], "18": ["服饰", "制衣"],
    "22": ["纸业", "包装"], "26": ["化工", "涂料"], "27": ["药业", "制药"], "29": ["塑胶", "橡塑"],
    "30": ["建材", "陶瓷"], "31": ["钢铁", "特钢"], "33": ["五金", "金属制品"], "34": ["机械", "泵业"],
    "35": ["装备", "仪器"], "36": ["汽车配件"], "38": ["电器", "电气"], "39": ["电子", "光电"],
    "40": ["仪表", "计量仪器"], "52": ["商贸", "超市"], "62": ["餐饮"], "65": ["软件", "信息技术"],
    "74": ["检测技术", "工程技术"], "44": ["电力", "能源"],
}
NAME_STEMS = ["恒泰", "华兴", "鑫源", "宏达", "盛世", "金顺", "永信", "瑞丰", "德润", "正阳", "博远", "凯旋",
              "天诚", "新锐", "远航", "嘉禾", "同创", "利民", "安达", "中诚", "丰华", "润泽", "锦程", "立信"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞"]
STREETS = ["建设", "中山", "人民", "工业", "科技"]
SIZES = [(Enterprise.Size.MICRO, 0.45, (3, 9)), (Enterprise.Size.SMALL, 0.35, (10, 99)),
         (Enterprise.Size.MEDIUM, 0.17, (100, 299)), (Enterprise.Size.LARGE, 0.03, (300, 2000))]


# The firms the demo SME accounts are given (link_sme_accounts): no other firm takes their names.
SME_FIRMS = [("sme_hengtai", "130100", "14", "石家庄恒泰食品有限公司"),
             ("sme_dongguan", "441900", "33", "东莞市精益五金制品有限公司")]


def unique_name(name: str, stem: str, used: set[str]) -> str:
    """`name`, or the same firm under the next free stem: two firms never share a name. Chosen
    without the random generator, so the rest of the demo stays as it was."""
    start = NAME_STEMS.index(stem)
    for step in range(len(NAME_STEMS)):
        candidate = name.replace(stem, NAME_STEMS[(start + step) % len(NAME_STEMS)], 1)
        if candidate not in used:
            break
    else:
        candidate = name.replace("有限公司", f"{len(used)}有限公司")
    used.add(candidate)
    return candidate


def short_name(region: Region) -> str:
    return region.name.removesuffix("市").removesuffix("区").removesuffix("县")


@transaction.atomic
def seed_enterprises(seed: int = 2026) -> int:
    rng = random.Random(seed)
    divisions = {industry.code: industry for industry in Industry.objects.filter(code__in=TRADE_WORDS)}
    created = 0
    used = {name for *_, name in SME_FIRMS} | set(Enterprise.objects.values_list("name", flat=True))
    for city_code, count in FIRMS_PER_CITY.items():
        city = Region.objects.get(code=city_code)
        counties = list(city.children.all()) or [city]
        for _ in range(count):
            county = rng.choice(counties)
            division_code = rng.choice(list(TRADE_WORDS))
            size, _, (low, high) = rng.choices(SIZES, weights=[s[1] for s in SIZES])[0]
            uscc = generate_uscc(county.code, rng)
            stem = rng.choice(NAME_STEMS)
            name = unique_name(f"{short_name(city)}{stem}{rng.choice(TRADE_WORDS[division_code])}有限公司", stem, used)
            contact = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(["", *GIVEN])
            employees = rng.randint(low, high)
            _, was_created = Enterprise.objects.get_or_create(
                uscc=uscc,
                defaults={
                    "name": name, "region": county, "industry": divisions[division_code], "size": size,
                    "address": f"{city.name}{county.name}{rng.choice(STREETS)}路{rng.randint(1, 399)}号",
                    "contact_name": contact,
                    "contact_phone": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                    "employees": employees, "annual_revenue": round(employees * rng.uniform(30, 120), 2),
                    "is_key": rng.random() < 0.15, "is_specialized": rng.random() < 0.08,
                    "is_exporter": rng.random() < (0.4 if city_code == "441900" else 0.1),
                    "in_industrial_park": rng.random() < 0.3,
                },
            )
            created += was_created
    link_sme_accounts()
    return created


def link_sme_accounts() -> None:
    """Give each demo SME account a firm of its own, with the name its account promises."""
    for username, city_code, division, name in SME_FIRMS:
        user = User.objects.filter(username=username).first()
        if user is None or user.enterprises.exists():
            continue
        unlinked = Enterprise.objects.filter(region__code__startswith=city_code[:4], users__isnull=True)
        firm = unlinked.filter(industry_id=division).order_by("uscc").first() or unlinked.order_by("uscc").first()
        firm.name = name
        firm.save(update_fields=["name"])
        firm.users.add(user)


NEED_SAMPLES = [
    (1, "全面质量诊断", "希望专家帮助摸清企业质量管理现状，找出主要质量问题。"),
    (2, "压力表和计量器具校准", "生产线上的压力表、温度计需要定期检定校准，希望开通绿色通道。"),
    (2, "建立企业计量室", "计划自建计量室，需要计量专家指导设备选型和人员培训。"),
    (3, "新产品质量技术攻关", "新产品合格率偏低，希望得到质量技术创新方面的帮助。"),
    (4, "品牌培育辅导", "希望申报地方知名品牌，需要品牌建设辅导。"),
    (5, "出口产品技术性贸易措施应对", "出口欧盟产品遇到新的技术法规要求，需要咨询。"),
    (6, "服务质量提升", "门店服务投诉较多，希望建立服务质量管理体系。"),
    (8, "ISO 9001 体系认证培训", "准备申请ISO 9001认证，需要内审员培训和认证咨询。"),
    (9, "产品送检绿色通道", "新产品需要送检，希望缩短检测周期。"),
    (10, "计量、标准、认证一站式服务", "希望一次性解决计量、标准和认证方面的问题。"),
]
CERT_BODIES = ["中国质量认证中心", "方圆标志认证集团", "中国船级社质量认证有限公司", "北京世标认证中心"]


@transaction.atomic
def seed_needs_and_surveys(seed: int = 2027) -> int:
    """Needs in every status, certifications and survey answers, as a running campaign would have."""
    from datetime import timedelta

    from django.utils import timezone

    from enterprises.models import Certification, EnterpriseClaim, NeedEvent, NeedRequest, NeedsSurvey
    from portal.models import ServiceArea

    if NeedRequest.objects.exists():
        return 0
    rng = random.Random(seed)
    areas = {area.code: area for area in ServiceArea.objects.all()}
    regulators = {u.region_id[:4]: u for u in User.objects.filter(role=User.Role.REGULATOR, region__level="city")}
    firms = list(Enterprise.objects.select_related("region").order_by("uscc"))
    statuses = [NeedRequest.Status.SUBMITTED] * 4 + [NeedRequest.Status.TRIAGED] * 3 + [
        NeedRequest.Status.DECLINED, NeedRequest.Status.FULFILLED, NeedRequest.Status.IN_PROGRESS]
    created = 0
    now = timezone.now()
    for firm in rng.sample(firms, k=len(firms) // 3):
        contact = firm.users.first() or User.objects.get(username="sme_hengtai")
        regulator = regulators.get(firm.region_id[:4])
        area_code, title, description = rng.choice(NEED_SAMPLES)
        status = rng.choice(statuses) if regulator else NeedRequest.Status.SUBMITTED
        submitted = now - timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))
        need = NeedRequest.objects.create(
            enterprise=firm, service_area=areas[area_code], title=title, description=description,
            urgency=rng.choice(["low", "normal", "normal", "high", "urgent"]), status=status,
            decline_reason="不属于本次帮扶活动范围" if status == NeedRequest.Status.DECLINED else "",
            submitted_by=contact, submitted_at=submitted, created_at=submitted,
        )
        NeedEvent.objects.create(need=need, to_status=NeedRequest.Status.SUBMITTED, actor=contact, at=submitted)
        if status != NeedRequest.Status.SUBMITTED:
            NeedEvent.objects.create(need=need, from_status=NeedRequest.Status.SUBMITTED, to_status=status,
                                     actor=regulator, at=submitted + timedelta(days=rng.randint(1, 7)),
                                     note=need.decline_reason)
        created += 1
    for firm in rng.sample(firms, k=len(firms) // 5):
        issued = (now - timedelta(days=rng.randint(30, 1500))).date()
        Certification.objects.get_or_create(
            scheme=rng.choice(["iso9001", "iso9001", "iso14001", "iso45001", "haccp", "iatf16949"]),
            number=f"{rng.randint(10, 99)}{issued:%y}Q{rng.randint(10000, 99999)}R0S",
            defaults={"enterprise": firm, "body": rng.choice(CERT_BODIES), "issued_on": issued,
                      "expires_on": issued + timedelta(days=3 * 365)},
        )
    for firm in rng.sample(firms, k=len(firms) // 4):
        contact = firm.users.first() or User.objects.get(username="sme_hengtai")
        baseline = NeedsSurvey.objects.create(enterprise=firm, kind=NeedsSurvey.Kind.BASELINE, answered_by=contact,
                                              answered_at=now - timedelta(days=150))
        baseline.services_wanted.set(rng.sample(list(areas), k=rng.randint(1, 3)))
        if rng.random() < 0.6:
            # Its campaign is named by campaigns.demo.seed_cases, which creates the campaigns later.
            NeedsSurvey.objects.create(
                enterprise=firm, kind=NeedsSurvey.Kind.FOLLOW_UP, answered_by=contact,
                answered_at=now - timedelta(days=rng.randint(1, 20)),
                awareness_improved=rng.random() < 0.9, performance_improved=rng.random() < 0.95,
                revenue_change_pct=round(rng.gauss(12, 6), 2), output_change_pct=round(rng.gauss(13, 6), 2),
                profit_margin_change_pct=round(rng.gauss(10, 5), 2),
            )
    newcomer = User.objects.filter(username="sme_newcomer").first()
    if newcomer is not None and not newcomer.enterprise_claims.exists():
        firm = Enterprise.objects.filter(region__code__startswith="1301", users__isnull=True).order_by("uscc").first()
        EnterpriseClaim.objects.create(enterprise=firm, user=newcomer, message="我是该企业新任质量负责人，请确认。")
    return created
