"""Demo key parks and products of Anhui's cities (the 2018 quality-uplift year asked each city for at
least one key industrial park and two key products or services), most cities meeting the quota and a
few short of it, designated through the service as the cities' bureaus would."""

from datetime import timedelta

from django.utils import timezone

from enterprises.designations.models import KeyDesignation
from enterprises.designations.services import key_designation_create
from portal.models import Region, User

# city code → (key industrial park or "", [key products or services])
ANHUI = {
    "340100": ("合肥高新技术产业开发区", ["新能源汽车", "集成电路", "人工智能语音服务"]),
    "340200": ("芜湖经济技术开发区", ["工业机器人", "家用空调"]),
    "340300": ("蚌埠高新技术产业开发区", ["硅基新材料"]),
    "340400": ("淮南经济技术开发区", ["煤化工产品", "大数据服务"]),
    "340500": ("马鞍山经济技术开发区", ["轨道交通车轮", "绿色食品"]),
    "340700": ("铜陵经济技术开发区", ["铜基新材料", "电子铜箔"]),
    "340800": ("安庆高新技术产业开发区", ["化工新材料", "汽车零部件"]),
    "341000": ("", ["徽州文化旅游服务", "祁门红茶"]),
    "341100": ("滁州经济技术开发区", ["光伏组件", "家电配件"]),
    "341800": ("宣城经济技术开发区", ["汽车零部件"]),
}
# Who designated: the city's demo regulator where there is one, else the administrator.
DESIGNATORS = {"340100": "hf_regulator"}


def seed_key_designations() -> int:
    """Returns how many designations were new; one already there (same region, kind and name) is kept."""
    today = timezone.localdate()
    admin = User.objects.filter(role=User.Role.ADMINISTRATOR).order_by("pk").first()
    created = 0
    for number, (city, (park, products)) in enumerate(ANHUI.items()):
        user = User.objects.filter(username=DESIGNATORS.get(city, "")).first() or admin
        if user is None:
            continue
        region = Region.objects.get(code=city)
        items = [(KeyDesignation.Kind.PARK, park)] if park else []
        items += [(KeyDesignation.Kind.PRODUCT, product) for product in products]
        for offset, (kind, name) in enumerate(items):
            if KeyDesignation.objects.filter(region=region, kind=kind, name=name).exists():
                continue
            key_designation_create(user=user, name=name, region=region, kind=kind,
                                   designated_on=today - timedelta(days=20 + 9 * number + 3 * offset))
            created += 1
    return created
