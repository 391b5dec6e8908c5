"""Demo targets and training sessions for the demo campaigns, shaped like DESIGN.md section 1.

The published figures are scaled down to the demo's few hundred firms, keeping their proportions:
Dongguan's free training tours ran about 1.5 persons per firm-time (3,219 person-times over 2,170
firm-times), Anhui set every city the same quotas (key enterprises assisted, key industries), and
Shijiazhuang counted firms assisted one-to-one and their satisfaction. Targets are set a little
above what the demo reaches, so the dashboards show regions both ahead and behind.

Written through campaigns/training/services.py and campaigns/services.py (audit entries,
validation); deterministic (seeded random)
and idempotent: a campaign that already has sessions gets none added.
"""

import random
from datetime import timedelta

from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_target_set
from campaigns.training import services as training_services
from campaigns.training.models import TrainingSession
from enterprises.models import Enterprise
from portal.models import Region, ServiceArea, User

# campaign key (campaigns.demo.CAMPAIGNS) → [(metric, scope, region code or None, value)]
TARGETS = {
    "sjz": [("firms_assisted", "campaign", None, 30), ("satisfaction_mean", "campaign", None, 4.5),
            ("certified_share", "campaign", None, 20), ("person_times", "campaign", None, 400),
            ("training_sessions", "each_county", None, 1)],
    "hebei": [("key_firms_assisted", "each_city", None, 5), ("key_industries", "each_city", None, 2),
              ("person_times", "campaign", None, 300), ("firms_assisted", "region", "130100", 10)],
    "dg": [("firm_times", "campaign", None, 500), ("person_times", "campaign", None, 750),
           ("needs_fulfilled", "campaign", None, 20), ("training_sessions", "campaign", None, 40)],
    "ah": [("key_firms_assisted", "each_city", None, 5), ("key_industries", "each_city", None, 2),
           ("training_sessions", "each_city", None, 8), ("satisfied_share", "campaign", None, 90),
           # The published quota: at least one key industrial park and two key products or services per city.
           ("key_parks", "each_city", None, 1), ("key_products", "each_city", None, 2)],
}
# campaign key → [(city code, regulator username or "" for the administrator, sessions, firms per session)]
SESSIONS = {
    "sjz": [("130100", "sjz_regulator", 14, 8)],
    "hebei": [("130100", "sjz_regulator2", 6, 10), ("130200", "ts_regulator", 5, 8)],
    "dg": [("441900", "dg_regulator", 36, 12)],
    "ah": [("340100", "hf_regulator", 7, 9), ("340200", "", 4, 6)],
}
TOPICS = [
    ("ISO 9001 质量管理体系内审员培训", 8), ("计量器具管理与送检实务", 2), ("《产品质量法》与企业主体责任", 7),
    ("卓越绩效评价准则解读", 1), ("标准化良好行为企业创建", 10), ("出口产品技术性贸易措施应对", 5),
    ("服务业质量管理与顾客满意", 6), ("品牌培育管理体系", 4), ("质量成本统计与改进", 8),
    ("特种设备使用单位安全管理", 9), ("食品生产企业质量安全管理", 2), ("QC 小组活动与质量改进工具", 8),
]
PLACES = ["市民服务中心报告厅", "工业园区管委会", "企业会议室", "线上直播"]
MODES = ["in_person", "in_person", "on_site", "online", "mobile_clinic"]


def seed_training(campaigns: dict[str, Campaign], seed: int = 2030) -> int:
    """Targets and sessions of the demo campaigns; returns how many sessions were new."""
    rng = random.Random(seed)
    today = timezone.localdate()
    admin = User.objects.filter(role=User.Role.ADMINISTRATOR).order_by("pk").first() or \
        User.objects.filter(is_superuser=True).order_by("pk").first()
    users = {user.username: user for user in User.objects.filter(role=User.Role.REGULATOR)}
    areas = {area.code: area for area in ServiceArea.objects.all()}
    created = 0
    for key, campaign in campaigns.items():
        for metric, scope, code, value in TARGETS.get(key, []):
            if admin is not None:
                campaign_target_set(user=admin, campaign=campaign, metric=metric, scope=scope, value=value,
                                             region=Region.objects.get(code=code) if code else None)
        if TrainingSession.objects.filter(campaign=campaign).exists():
            continue
        for city, username, count, per_session in SESSIONS.get(key, []):
            user = users.get(username) if username else admin
            if user is None:
                continue  # the demo accounts were changed by hand
            firms = list(Enterprise.objects.filter(region__code__startswith=city[:4]).order_by("pk"))
            counties = sorted({firm.region_id for firm in firms}) or [city]
            days = max((min(today, campaign.ends_on) - campaign.starts_on).days, 1)
            for number in range(count):
                topic, area = TOPICS[(number + len(city)) % len(TOPICS)]
                attending = rng.sample(firms, min(per_session + rng.randint(-3, 3), len(firms)))
                # About 1.5 persons per firm-time, as Dongguan's tours reported.
                attendances = [(firm, rng.choice([1, 1, 1, 2, 2, 3]), "") for firm in attending]
                training_services.training_record(
                    user=user, campaign=campaign, region=Region.objects.get(code=rng.choice(counties)),
                    topic=topic, held_on=campaign.starts_on + timedelta(days=rng.randrange(days)),
                    organiser=campaign.organiser, place=rng.choice(PLACES),
                    mode=rng.choice(MODES), service_area=areas.get(area), attendances=attendances,
                )
                created += 1
    return created
