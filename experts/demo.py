"""Demo expert pools (专家库), shaped like Shijiazhuang's 2013 pool of 169 experts in 15 specialties.

About sixty experts across the demo cities and provinces, written through `expert_create` by the
regulator who keeps each pool (the administrator for the province pools), so every one has its
audit entry. Deterministic and idempotent: an expert is found again by their pool number.
"""

import random
from dataclasses import dataclass

from django.db import transaction

from experts.models import Expert
from experts.services import expert_create
from portal.models import Region, Specialty, User

Kind = Expert.EmployerKind


@dataclass(frozen=True)
class Pool:
    region: str
    keeper: str  # the demo account that keeps the pool
    size: int
    employers: tuple[tuple[str, str], ...]  # (employer, kind)


POOLS = (
    Pool("130100", "sjz_regulator", 28, (
        ("河北省计量监督检测研究院", Kind.METROLOGY), ("河北省标准化研究院", Kind.METROLOGY),
        ("中国质量认证中心石家庄分中心", Kind.CERTIFICATION_BODY),
        ("方圆标志认证集团河北有限公司", Kind.CERTIFICATION_BODY),
        ("河北省产品质量监督检验研究院", Kind.TEST_LAB), ("河北省食品检验研究院", Kind.TEST_LAB),
        ("河北省特种设备监督检验研究院", Kind.TEST_LAB), ("河北科技大学", Kind.UNIVERSITY),
        ("石家庄铁道大学", Kind.UNIVERSITY), ("河北经贸大学", Kind.UNIVERSITY),
        ("石家庄卓越质量管理咨询有限公司", Kind.CONSULTANCY), ("河北省质量协会", Kind.OTHER),
        ("石家庄市知识产权保护中心", Kind.GOVERNMENT), ("华北制药股份有限公司", Kind.ENTERPRISE),
    )),
    Pool("130000", "admin", 6, (
        ("中国检验认证集团河北有限公司", Kind.CERTIFICATION_BODY), ("河北工业大学", Kind.UNIVERSITY),
        ("河北省质量信息中心", Kind.GOVERNMENT), ("河北省品牌建设促进会", Kind.OTHER),
        ("河北省特种设备监督检验研究院", Kind.TEST_LAB),
    )),
    Pool("130200", "ts_regulator", 6, (
        ("唐山市产品质量监督检验所", Kind.TEST_LAB), ("华北理工大学", Kind.UNIVERSITY),
        ("唐山市计量测试所", Kind.METROLOGY), ("河钢集团唐钢公司", Kind.ENTERPRISE),
        ("唐山市质量协会", Kind.OTHER), ("唐山精益企业管理咨询有限公司", Kind.CONSULTANCY),
    )),
    Pool("441900", "dg_regulator", 10, (
        ("东莞市质量监督检测中心", Kind.TEST_LAB), ("东莞市计量科学研究所", Kind.METROLOGY),
        ("东莞理工学院", Kind.UNIVERSITY), ("中国质量认证中心东莞分中心", Kind.CERTIFICATION_BODY),
        ("东莞市标准化协会", Kind.OTHER), ("东莞市卓信管理咨询有限公司", Kind.CONSULTANCY),
        ("东莞市技术性贸易措施研究中心", Kind.GOVERNMENT), ("东莞市精密五金集团有限公司", Kind.ENTERPRISE),
    )),
    Pool("440000", "admin", 2, (
        ("广东产品质量监督检验研究院", Kind.TEST_LAB), ("华南理工大学", Kind.UNIVERSITY),
    )),
    Pool("340100", "hf_regulator", 6, (
        ("合肥工业大学", Kind.UNIVERSITY), ("安徽省计量科学研究院", Kind.METROLOGY),
        ("合肥市产品质量监督检验研究院", Kind.TEST_LAB), ("合肥市质量协会", Kind.OTHER),
        ("安徽精益质量管理咨询有限公司", Kind.CONSULTANCY),
    )),
    Pool("340000", "admin", 4, (
        ("安徽省产品质量监督检验研究院", Kind.TEST_LAB), ("安徽省标准化研究院", Kind.METROLOGY),
        ("中国科学技术大学", Kind.UNIVERSITY), ("安徽省质量协会", Kind.OTHER),
    )),
)

# Which employers an expert in a specialty usually comes from.
SPECIALTY_KINDS = {
    "quality-management": (Kind.CERTIFICATION_BODY, Kind.CONSULTANCY, Kind.UNIVERSITY, Kind.OTHER),
    "excellence-model": (Kind.OTHER, Kind.CONSULTANCY, Kind.UNIVERSITY),
    "food-safety": (Kind.TEST_LAB, Kind.UNIVERSITY),
    "special-equipment": (Kind.TEST_LAB,),
    "inspection-testing": (Kind.TEST_LAB,),
    "standardization": (Kind.METROLOGY, Kind.OTHER, Kind.ENTERPRISE),
    "metrology": (Kind.METROLOGY,),
    "certification": (Kind.CERTIFICATION_BODY,),
    "product-safety": (Kind.TEST_LAB, Kind.GOVERNMENT),
    "brand": (Kind.OTHER, Kind.CONSULTANCY, Kind.UNIVERSITY),
    "intellectual-property": (Kind.GOVERNMENT, Kind.UNIVERSITY),
    "production-licence": (Kind.GOVERNMENT, Kind.TEST_LAB),
    "service-quality": (Kind.CONSULTANCY, Kind.UNIVERSITY, Kind.OTHER),
    "technology-innovation": (Kind.UNIVERSITY, Kind.ENTERPRISE),
    "export-tbt": (Kind.GOVERNMENT, Kind.CERTIFICATION_BODY, Kind.ENTERPRISE),
}
TITLES = {
    Kind.UNIVERSITY: ("教授", "副教授", "研究员"),
    Kind.CONSULTANCY: ("高级咨询师", "注册质量工程师", "高级经济师"),
    Kind.CERTIFICATION_BODY: ("高级审核员", "高级工程师"),
    Kind.OTHER: ("高级工程师", "秘书长", "注册质量工程师"),
    Kind.GOVERNMENT: ("高级工程师", "主任科员"),
}
ENGINEER_TITLES = ("正高级工程师", "高级工程师", "高级工程师", "工程师")
SURNAMES = ("王李张刘陈杨赵黄周吴徐孙马朱胡郭何林罗高梁郑谢宋唐韩冯董程曹袁邓许傅沈曾彭"
            "吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段")
GIVEN = ("建华", "国强", "晓东", "丽娟", "志刚", "秀英", "海涛", "静怡", "文博", "雪梅", "立新", "红霞", "卫东",
         "振宇", "玉兰", "俊杰", "春燕", "德明", "慧敏", "永强", "淑芬", "家豪", "晨曦", "泽民", "桂英", "宏伟",
         "梦琪", "子轩", "婧", "磊", "鹏", "敏", "军", "燕", "超", "琳", "欣", "峰", "颖", "斌")
INACTIVE_NOTES = ("已退休，暂停派遣。", "借调外地一年，暂不接受新的帮扶任务。", "本人申请暂停，待年度考核后恢复。")


@dataclass(frozen=True)
class Login:
    """A demo expert account (portal/demo.py ACCOUNTS) and the pool record it signs in as."""

    username: str
    code: str
    name: str
    title: str
    employer: str
    kind: str
    specialties: tuple[str, ...]
    regions_served: tuple[str, ...]
    capacity: int


LOGINS = (
    Login("expert_wang", "130100-0001", "王海燕", "正高级工程师", "河北省计量监督检测研究院", Kind.METROLOGY,
          ("metrology", "standardization", "inspection-testing"), ("130100",), 3),
    Login("expert_zhao", "130100-0002", "赵明", "高级审核员", "中国质量认证中心石家庄分中心", Kind.CERTIFICATION_BODY,
          ("certification", "quality-management", "excellence-model"), ("130100", "130000"), 4),
)


def expert_specs(rng: random.Random) -> list[dict]:
    """Every demo expert as the keyword arguments of `expert_create`, plus the keeper's username."""
    specialties = list(SPECIALTY_KINDS)
    taken = {login.name for login in LOGINS}
    specs = []
    for login in LOGINS:
        specs.append({
            "keeper": "sjz_regulator", "login": login.username, "code": login.code, "name": login.name,
            "title": login.title, "employer": login.employer, "employer_kind": login.kind, "region": "130100",
            "specialties": list(login.specialties), "regions_served": list(login.regions_served),
            "capacity": login.capacity, "is_active": True, "notes": "",
        })
    for pool in POOLS:
        pool_region = Region.objects.get(code=pool.region)
        counties = list(pool_region.children.filter(level=Region.Level.COUNTY).values_list("code", flat=True))
        province = pool.region[:2] + "0000"
        first = len(LOGINS) + 1 if pool.region == "130100" else 1
        # Every employer of the pool has an expert in it, and every specialty is covered where the
        # pool is big enough (Shijiazhuang's covers all fifteen, like the 2013 pool).
        uncovered = list(specialties)
        for index, number in enumerate(range(first, first + pool.size - (first - 1))):
            if index < len(pool.employers):
                employer, kind = pool.employers[index]
                fits = [s for s in specialties if kind in SPECIALTY_KINDS[s]] or specialties
                primary = next((s for s in uncovered if s in fits), rng.choice(fits))
            else:
                primary = uncovered[0] if uncovered else rng.choice(specialties)
                fitting = [e for e in pool.employers if e[1] in SPECIALTY_KINDS[primary]] or list(pool.employers)
                employer, kind = rng.choice(fitting)
            if primary in uncovered:
                uncovered.remove(primary)
            others = [s for s in specialties if s != primary and kind in SPECIALTY_KINDS[s]]
            chosen = [primary, *rng.sample(others, k=min(len(others), rng.randint(0, 2)))]
            while True:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                if name not in taken:
                    taken.add(name)
                    break
            if pool_region.level == Region.Level.PROVINCE:
                served = [pool.region]
            elif counties and rng.random() < 0.3:
                served = rng.sample(counties, k=rng.randint(1, 2))  # a county's own experts
            else:
                served = [pool.region]
            if pool_region.level == Region.Level.CITY and rng.random() < 0.15:
                served.append(province)
            inactive = rng.random() < 0.07
            specs.append({
                "keeper": pool.keeper, "login": None, "code": f"{pool.region}-{number:04d}", "name": name,
                "title": rng.choice(TITLES.get(kind, ENGINEER_TITLES)), "employer": employer, "employer_kind": kind,
                "region": pool.region, "specialties": chosen, "regions_served": served,
                "capacity": rng.randint(2, 5), "is_active": not inactive,
                "notes": rng.choice(INACTIVE_NOTES) if inactive else "",
            })
    for spec in specs:
        spec["phone"] = f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}"
        spec["email"] = f"expert{spec['code'].replace('-', '')}@example.cn"
    return specs


@transaction.atomic
def seed_experts(seed: int = 2028) -> int:
    """Add the demo pools; returns how many experts were new."""
    rng = random.Random(seed)
    specs = expert_specs(rng)
    existing = set(Expert.objects.filter(code__in=[spec["code"] for spec in specs]).values_list("code", flat=True))
    keepers = {user.username: user for user in User.objects.filter(username__in={s["keeper"] for s in specs})}
    specialties = {specialty.code: specialty for specialty in Specialty.objects.all()}
    regions = Region.objects.in_bulk({code for spec in specs for code in [spec["region"], *spec["regions_served"]]})
    # Demo expert accounts that are nobody's login yet (one linked by hand meanwhile stays as it is).
    logins = {user.username: user for user in User.objects.filter(
        username__in=[spec["login"] for spec in specs if spec["login"]], role=User.Role.EXPERT,
        expert_profile__isnull=True)}
    created = 0
    for spec in specs:
        if spec["code"] in existing or spec["keeper"] not in keepers:
            continue
        fields = {key: value for key, value in spec.items()
                  if key not in {"keeper", "login", "specialties", "regions_served", "region"}}
        login = logins.get(spec["login"])
        # `user` names the acting user, so the expert's login travels as its id (as the pages send it).
        expert_create(
            user=keepers[spec["keeper"]], specialties=[specialties[code] for code in spec["specialties"]],
            regions_served=[regions[code] for code in spec["regions_served"]], region=regions[spec["region"]],
            user_id=login.pk if login else None, **fields,
        )
        created += 1
    return created
