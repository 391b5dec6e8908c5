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


def short_name(region: Region) -> str:
    return region.name.removesuffix("市").removesuffix("区").removesuffix("县")


@transaction.atomic
def seed_enterprises(seed: int = 2026) -> int:
    rng = random.Random(seed)
    divisions = {industry.code: industry for industry in Industry.objects.filter(code__in=TRADE_WORDS)}
    created = 0
    for city_code, count in FIRMS_PER_CITY.items():
        city = Region.objects.get(code=city_code)
        counties = list(city.children.all()) or [city]
        for _ in range(count):
            county = rng.choice(counties)
            division_code = rng.choice(list(TRADE_WORDS))
            size, _, (low, high) = rng.choices(SIZES, weights=[s[1] for s in SIZES])[0]
            uscc = generate_uscc(county.code, rng)
            name = f"{short_name(city)}{rng.choice(NAME_STEMS)}{rng.choice(TRADE_WORDS[division_code])}有限公司"
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
    for username, city_code, name in [("sme_hengtai", "130100", "石家庄恒泰食品有限公司"),
                                      ("sme_dongguan", "441900", "东莞市精益五金制品有限公司")]:
        user = User.objects.filter(username=username).first()
        if user is None or user.enterprises.exists():
            continue
        firm = Enterprise.objects.filter(region__code__startswith=city_code[:4]).exclude(users__isnull=False).first()
        firm.name = name
        firm.save(update_fields=["name"])
        firm.users.add(user)
