"""Demo cases in every status, with visits, experts, outcomes and ratings, told through the services."""

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from campaigns.cases import services
from campaigns.cases.matching import case_words, suggest_experts
from campaigns.cases.models import AssistanceCase, CaseAssignment, CaseEvent, CaseRating, Visit
from campaigns.demo import seed_campaigns
from campaigns.models import Campaign
from enterprises.models import Enterprise, NeedEvent, NeedRequest, NeedsSurvey
from enterprises.services import need_submit
from experts.models import Expert
from portal import audit
from portal.models import ServiceArea, User

Status = AssistanceCase.Status
Resolution = AssistanceCase.Resolution
STEPS = [Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED, Status.IN_PROGRESS]
# What a case in a service area is about: its title, the diagnosis and plan written after the
# first visit, and what visits find and recommend.
AREA_TEXT = {
    1: ("全面质量诊断",
        "质量管理职责不清，过程控制依赖个人经验，质量成本未统计，顾客投诉处理无闭环。",
        "一、明确质量职责并建立质量目标；二、梳理关键过程并编制作业指导书；三、建立质量成本统计和投诉闭环处理机制。",
        ("关键工序无作业指导书", "质量目标未分解到班组", "投诉记录不完整，原因分析流于形式"),
        ("编制关键工序作业指导书", "按月统计质量成本", "建立投诉台账并每月分析")),
    2: ("计量器具检定校准与计量管理",
        "在用压力表、温度计等计量器具未按期检定，部分超期使用；无计量管理制度和台账。",
        "一、建立计量器具台账和周期检定计划；二、开通送检绿色通道完成超期器具检定；三、培训计量管理员。",
        ("12台压力表超过检定周期", "温度计无校准记录", "计量器具台账缺失"),
        ("建立计量器具台账", "超期器具立即停用送检", "指定专人负责计量管理")),
    3: ("质量技术攻关",
        "新产品一次交检合格率仅85%，主要问题为焊接气孔和尺寸超差。",
        "一、开展焊接工艺评定；二、引入统计过程控制；三、对关键尺寸实施首件检验。",
        ("焊接气孔比例偏高", "关键尺寸过程能力不足"), ("重新评定焊接工艺参数", "对关键尺寸做SPC控制图")),
    4: ("品牌培育辅导",
        "企业产品质量稳定但品牌意识薄弱，商标未注册，缺少品牌规划。",
        "一、完成商标注册；二、制定三年品牌培育规划；三、申报地方知名品牌。",
        ("商标尚未注册", "宣传资料与实际质量水平不符"), ("尽快提交商标注册申请", "梳理品牌定位和宣传材料")),
    5: ("出口产品质量提升",
        "出口欧盟产品未跟踪新版技术法规，检测报告过期，面临退运风险。",
        "一、对照新法规进行差距分析；二、完成型式试验；三、建立技术性贸易措施跟踪机制。",
        ("检测报告不符合新版标准要求", "无技术法规跟踪渠道"),
        ("委托有资质实验室重新检测", "订阅技术性贸易措施预警信息")),
    6: ("服务质量提升",
        "门店服务标准不统一，顾客投诉集中在等候时间和服务态度。",
        "一、制定服务规范；二、开展员工服务礼仪培训；三、建立顾客满意度测评。",
        ("服务流程无书面规范", "投诉响应超过48小时"), ("制定服务规范并上墙", "每季度开展顾客满意度测评")),
    7: ("质量政策宣贯",
        "企业对质量提升扶持政策不了解，未申报过任何质量奖励项目。",
        "一、宣讲质量强省政策；二、辅导申报质量奖励；三、对接检验检测补贴。",
        ("不了解首台套和质量奖励政策",), ("整理可申报政策清单",)),
    8: ("ISO 9001 质量管理体系认证辅导",
        "企业有认证意愿，但体系文件不全，内审员未经培训，管理评审未开展。",
        "一、编制体系文件；二、培训内审员3名；三、完成内审和管理评审后申请认证。",
        ("体系文件与实际运行脱节", "内审员未取得培训证书", "管理评审未开展"),
        ("按实际流程修订程序文件", "组织内审员培训", "完成一次完整的内部审核")),
    9: ("产品送检绿色通道",
        "新产品上市需送检，常规检测周期约30天，影响交货。",
        "一、开通检验检测绿色通道；二、指导企业整理送检资料；三、跟踪检测进度。",
        ("送检资料不全导致退件",), ("按检测机构要求准备技术资料", "预约绿色通道送检")),
    10: ("计量、标准、认证一站式服务",
         "企业同时面临计量器具检定、企业标准制定和产品认证问题，多头跑腿。",
         "一、一站式梳理计量、标准、认证需求；二、制定企业标准；三、统筹安排检定和认证时间。",
         ("企业标准未公开自我声明", "计量与认证资料分散管理"), ("起草企业标准并公开声明", "建立一站式联络人")),
}
INTERNAL_REMARKS = ("企业负责人对整改投入有顾虑，建议下次由局领导一同走访。",
                    "企业存在未取证生产的可能，已提醒执法科室关注。",
                    "车间现场管理较好，可作为下一批示范企业的候选。",
                    "专家建议的设备投资较大，需帮助企业对接技改补贴。")
COMMENTS = {
    5: ("专家很专业，解决了我们多年的老问题，非常满意！", "一对一上门服务，效率高，感谢市场监管局。"),
    4: ("帮扶效果明显，希望后续能继续跟踪指导。", "总体满意，个别整改建议落实成本偏高。"),
    3: ("专家意见有用，但走访次数偏少。",),
    2: ("专家来得不多，问题没有完全解决。",),
}


@dataclass
class Plan:
    """One demo case: where, who leads it, how far it got and what became of it."""

    campaign: str
    region: str  # prefix of the firm's region code
    lead: str
    status: str
    area: int | None = None  # the service area it answers; None: whatever the firm asked for
    title: str = ""
    firm_of: str = ""  # a demo SME account whose firm this is
    expert: str = ""  # a demo expert account to assign first
    over_capacity: str = ""  # assign that expert past capacity, for this reason
    second_expert: bool = False
    release: bool = False  # release the second expert again
    follow_up: str = "due"  # due | overdue | stale | silent (open a month and more, never visited)
    clinic: bool = False  # visits by a mobile quality clinic (质量流动诊所)
    resolution: str = ""
    outcomes: dict = field(default_factory=dict)
    note: str = ""
    rating: int | None = None
    comment: str = ""
    opened_age: int | None = None
    closed_age: int | None = None


P, R, U = Plan, Resolution.RESOLVED, Resolution.UNRESOLVED
PLANS = [
    # Shijiazhuang's one-to-one assistance
    P("sjz", "1301", "sjz_regulator", Status.CLOSED, area=1, firm_of="sme_hengtai", resolution=R,
      outcomes={"certificate_obtained": True,
                "outcome_notes": "通过食品安全管理体系认证，产品抽检合格率由92%提高到99%。"}),
    P("sjz", "1301", "sjz_regulator", Status.CLOSED, area=2, title="建立企业计量室", expert="expert_wang", resolution=R,
      outcomes={"lab_set_up": True, "money_saved": Decimal("450000"),
                "outcome_notes": "在专家指导下建成企业计量室，压力表、温度计等自行检定校准，"
                                 "每年节约外送检定费用45万元。"},
      rating=5, comment="王老师手把手指导建起了计量室，一年能省下四十五万元外检费用，非常感谢！"),
    P("sjz", "1301", "sjz_regulator2", Status.CLOSED, area=1, resolution=R, rating=5,
      outcomes={"excellence_model_adopted": True, "outcome_notes": "导入卓越绩效模式，完成首份自评报告。"}),
    P("sjz", "1301", "sjz_regulator", Status.CLOSED, area=8, resolution=R, rating=4,
      outcomes={"excellence_model_adopted": True, "certificate_obtained": True}),
    P("sjz", "1301", "sjz_regulator2", Status.CLOSED, area=8, resolution=R, rating=5,
      outcomes={"certificate_obtained": True, "outcome_notes": "取得ISO 9001质量管理体系认证证书。"}),
    P("sjz", "1301", "sjz_regulator", Status.CLOSED, area=10, resolution=R, rating=4,
      outcomes={"standard_drafted": True, "outcome_notes": "制定企业标准2项并公开自我声明。"}),
    P("sjz", "1301", "sjz_regulator2", Status.CLOSED, area=3, resolution=U, rating=3,
      note="企业停产搬迁，帮扶中止，待复产后重新申请。"),
    P("sjz", "1301", "sjz_regulator", Status.CLOSED, area=9, resolution=R, rating=4,
      outcomes={"money_saved": Decimal("80000"), "outcome_notes": "通过送检绿色通道缩短检测周期15天，减少库存积压。"}),
    P("sjz", "1301", "sjz_regulator", Status.IN_PROGRESS, area=2, expert="expert_wang", follow_up="overdue"),
    P("sjz", "1301", "sjz_regulator2", Status.IN_PROGRESS, area=2, expert="expert_wang", follow_up="stale"),
    P("sjz", "1301", "sjz_regulator", Status.IN_PROGRESS, area=8, expert="expert_zhao"),
    P("sjz", "1301", "sjz_regulator2", Status.IN_PROGRESS, area=1, second_expert=True, release=True),
    P("sjz", "1301", "sjz_regulator", Status.PLAN_AGREED, area=10, expert="expert_wang"),
    P("sjz", "1301", "sjz_regulator2", Status.PLAN_AGREED, follow_up="overdue"),
    P("sjz", "1301", "sjz_regulator", Status.DIAGNOSING, area=8, expert="expert_zhao"),
    P("sjz", "1301", "sjz_regulator2", Status.DIAGNOSING),
    P("sjz", "1301", "sjz_regulator", Status.OPEN, area=2, expert="expert_wang",
      over_capacity="企业压力容器停产待检，王海燕是本市唯一熟悉该型号安全阀校验规程的专家，经分管局领导同意超额指派。"),
    P("sjz", "1301", "sjz_regulator2", Status.OPEN, follow_up="silent"),
    P("sjz", "1301", "sjz_regulator", Status.OPEN),
    P("sjz", "130102", "changan_regulator", Status.IN_PROGRESS, second_expert=True),
    P("sjz", "1301", "sjz_regulator2", Status.DIAGNOSING, follow_up="overdue"),
    P("sjz", "1301", "sjz_regulator2", Status.IN_PROGRESS, area=1),
    # Hebei's quality uplift year
    P("hebei", "1301", "sjz_regulator", Status.IN_PROGRESS, area=4, firm_of="sme_hengtai"),
    P("hebei", "1302", "ts_regulator", Status.CLOSED, resolution=R, rating=4, outcomes={"certificate_obtained": True}),
    P("hebei", "1302", "ts_regulator", Status.IN_PROGRESS, follow_up="overdue"),
    P("hebei", "1302", "ts_regulator", Status.PLAN_AGREED),
    P("hebei", "1302", "ts_regulator", Status.OPEN),
    P("hebei", "1302", "ts_regulator", Status.CLOSED, resolution=U, rating=2,
      note="企业主要负责人变更，新负责人暂不参加帮扶。"),
    # Dongguan's quality city
    P("dg", "4419", "dg_regulator", Status.CLOSED, area=8, firm_of="sme_dongguan", resolution=R, rating=5,
      outcomes={"certificate_obtained": True, "money_saved": Decimal("120000")}, opened_age=175, closed_age=110,
      comment="认证一次通过，客户验厂也顺利了，谢谢专家！"),
    P("dg", "4419", "dg_regulator", Status.IN_PROGRESS, area=5, firm_of="sme_dongguan", opened_age=95),
    P("dg", "4419", "dg_regulator", Status.CLOSED, area=5, resolution=R, rating=4,
      outcomes={"outcome_notes": "按欧盟新法规完成产品整改，恢复出口订单。"}),
    P("dg", "4419", "dg_regulator", Status.CLOSED, resolution=R, rating=5, outcomes={"standard_drafted": True}),
    P("dg", "4419", "dg_regulator", Status.CLOSED, resolution=U, rating=3, note="企业经营困难，暂无能力投入整改。"),
    P("dg", "4419", "dg_regulator", Status.IN_PROGRESS, follow_up="stale"),
    P("dg", "4419", "dg_regulator", Status.PLAN_AGREED),
    P("dg", "4419", "dg_regulator", Status.DIAGNOSING),
    P("dg", "4419", "dg_regulator", Status.OPEN),
    # Anhui's quality uplift action, with its mobile quality clinics
    P("ah", "3401", "hf_regulator", Status.CLOSED, area=1, resolution=R, rating=5, clinic=True,
      outcomes={"excellence_model_adopted": True, "outcome_notes": "导入卓越绩效模式，入选市级质量标杆企业培育名单。"}),
    P("ah", "3401", "hf_regulator", Status.CLOSED, resolution=R, outcomes={"certificate_obtained": True}),
    P("ah", "3401", "hf_regulator", Status.IN_PROGRESS, follow_up="overdue", clinic=True),
    P("ah", "3401", "hf_regulator", Status.DIAGNOSING, clinic=True),
    P("ah", "3401", "hf_regulator", Status.OPEN),
]
# Days between opening and today, by how far a case got.
OPENED_AGE = {Status.OPEN: (2, 14), Status.DIAGNOSING: (15, 45), Status.PLAN_AGREED: (35, 90),
              Status.IN_PROGRESS: (60, 150), Status.CLOSED: (90, 170)}
VISIT_COUNT = {Status.OPEN: 0, Status.DIAGNOSING: 1, Status.PLAN_AGREED: 2, Status.IN_PROGRESS: 3, Status.CLOSED: 4}
# What an SME account asks for, when its own firm gets a case.
SME_NEEDS = {
    1: ("食品安全与质量管理体系诊断", "希望专家上门诊断食品生产过程中的质量和安全管理问题，准备申请体系认证。"),
    4: ("区域品牌培育", "产品在本地有口碑，希望申报河北省知名品牌，需要品牌建设辅导。"),
    5: ("出口欧盟五金件技术法规咨询", "欧盟客户要求按新版法规提供检测报告，希望得到技术性贸易措施方面的指导。"),
    8: ("ISO 9001 认证辅导", "客户要求供应商通过ISO 9001认证，希望得到体系建设和内审员培训的帮助。"),
}


def at(today: date, days_ago: int, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(hour)))


# Rows the case services stamp with "now", and the column holding the stamp.
STAMPED = ((CaseEvent, "at"), (NeedEvent, "at"), (CaseAssignment, "assigned_at"), (CaseRating, "rated_at"))


@contextmanager
def happened(when: datetime) -> Iterator[None]:
    """Move the history the enclosed service call writes to `when`, the day it happened in the story."""
    marks = {model: model.objects.aggregate(last=Max("pk"))["last"] or 0 for model, _column in STAMPED}
    with audit.dated(when):  # the audit trail cannot be changed afterwards: it is dated as written
        yield
    for model, column in STAMPED:
        model.objects.filter(pk__gt=marks[model]).update(**{column: when})


@transaction.atomic
def seed_cases(seed: int = 2029) -> int:
    """The demo cases; returns how many were new (none once the demo campaigns have cases)."""
    campaigns = seed_campaigns()
    created = 0
    if not AssistanceCase.objects.filter(campaign__in=campaigns.values()).exists():
        created = CaseSeeder(random.Random(seed), timezone.localdate(), campaigns).run()
    link_follow_up_surveys(list(campaigns.values()))
    return created


def link_follow_up_surveys(campaigns: list[Campaign]) -> int:
    """Name the campaign of each follow-up survey seeded before the campaigns existed.

    enterprises.demo answers the surveys first; here each follow-up gets the campaign of the firm's
    latest case, or else the narrowest demo campaign covering the firm. Returns how many changed.
    """
    surveys = list(NeedsSurvey.objects.filter(kind=NeedsSurvey.Kind.FOLLOW_UP, campaign__isnull=True)
                   .select_related("enterprise"))
    latest_case = {}
    for firm_id, campaign_id in (AssistanceCase.objects.filter(enterprise__in={s.enterprise_id for s in surveys})
                                 .order_by("opened_at", "pk").values_list("enterprise_id", "campaign_id")):
        latest_case[firm_id] = campaign_id  # the last one written is the latest
    narrowest_first = sorted(campaigns, key=lambda campaign: len(campaign.region.prefix), reverse=True)
    for survey in surveys:
        survey.campaign_id = latest_case.get(survey.enterprise_id) or next(
            (c.pk for c in narrowest_first if c.covers(survey.enterprise.region_id)), None)
    changed = [survey for survey in surveys if survey.campaign_id is not None]
    NeedsSurvey.objects.bulk_update(changed, ["campaign"])
    return len(changed)


class CaseSeeder:
    def __init__(self, rng: random.Random, today: date, campaigns: dict[str, Campaign]):
        self.rng = rng
        self.today = today
        self.campaigns = campaigns
        self.scopes = {key: set(campaign.service_areas.values_list("code", flat=True))
                      for key, campaign in campaigns.items()}
        names = {plan.lead for plan in PLANS} | {plan.firm_of for plan in PLANS} | {plan.expert for plan in PLANS}
        self.users = {user.username: user for user in User.objects.filter(username__in=names - {""})}
        self.areas = {area.code: area for area in ServiceArea.objects.all()}
        self.used: set[int] = set()  # firms given a case (an SME account's firm may have several)

    def run(self) -> int:
        created = 0
        for plan in PLANS:
            lead = self.users.get(plan.lead)
            if lead is None or (plan.firm_of and plan.firm_of not in self.users):
                continue  # the demo accounts were changed by hand: leave their cases out
            if self.open_case(plan, lead) is not None:
                created += 1
        return created

    # --- choosing the firm, the need and the days ----------------------------------------------

    def ages(self, plan: Plan) -> tuple[int, list[int], int | None]:
        """(days since opening, days since each visit, days since closing) for the plan."""
        campaign_age = (self.today - self.campaigns[plan.campaign].starts_on).days
        count = VISIT_COUNT[plan.status] - (1 if plan.status == Status.CLOSED and plan.resolution == U else 0)
        closed = plan.closed_age or (self.rng.randint(5, 40) if plan.status == Status.CLOSED else None)
        if closed is not None:
            last = closed + self.rng.randint(1, 6)
        elif plan.follow_up == "overdue":
            last = self.rng.randint(10, 22)
        elif plan.follow_up == "stale":
            last = self.rng.randint(35, 55)
        else:
            last = self.rng.randint(2, 12)
        if plan.follow_up == "silent":
            opened = self.rng.randint(40, 60)
        else:
            opened = plan.opened_age or self.rng.randint(*OPENED_AGE[plan.status])
        if count:
            opened = max(opened, last + 4 * count + 2)
        opened = min(opened, campaign_age - 1)
        if not count:
            return opened, [], closed
        if count == 1:
            return opened, [last], closed
        first = opened - self.rng.randint(1, 4)
        step = (first - last) / (count - 1)
        return opened, [round(first - step * number) for number in range(count)], closed

    def pick(self, plan: Plan, opened_age: int) -> tuple[Enterprise | None, list[NeedRequest], int]:
        """The firm, the needs the case answers, and its service area."""
        scope = self.scopes[plan.campaign]
        if plan.firm_of:
            firm = self.users[plan.firm_of].enterprises.order_by("uscc").first()
            if firm is None:
                return None, [], 0
            area = plan.area or min(scope)
            title, description = SME_NEEDS.get(area, AREA_TEXT[area][:2])
            with happened(at(self.today, opened_age + 5, 10)):
                need = need_submit(user=self.users[plan.firm_of], enterprise=firm, service_area=self.areas[area],
                                   title=title, description=description)
            NeedRequest.objects.filter(pk=need.pk).update(submitted_at=at(self.today, opened_age + 5, 10))
            return firm, [need], area
        cutoff = at(self.today, opened_age + 1, 0)
        needs = (NeedRequest.objects.select_related("enterprise")
                 .filter(enterprise__region__code__startswith=plan.region, service_area__in=scope,
                         status__in=[NeedRequest.Status.SUBMITTED, NeedRequest.Status.TRIAGED],
                         submitted_at__lt=cutoff, enterprise__users__isnull=True)
                 .exclude(enterprise__in=self.used).order_by("submitted_at", "pk"))
        if plan.area:
            needs = needs.filter(service_area=plan.area)
        candidates = list(needs[:10])
        if candidates:
            need = self.rng.choice(candidates)
            return need.enterprise, [need], need.service_area_id
        # No need old enough: the bureau reached out to the firm first (主动上门).
        firms = list(Enterprise.objects.filter(region__code__startswith=plan.region, users__isnull=True)
                     .exclude(pk__in=self.used).order_by("uscc")[:40])
        area = plan.area or self.rng.choice(sorted(scope))
        return (self.rng.choice(firms) if firms else None), [], area

    # --- the story of one case ----------------------------------------------------------------

    def open_case(self, plan: Plan, lead: User) -> AssistanceCase | None:
        opened_age, visit_ages, closed_age = self.ages(plan)
        firm, needs, area = self.pick(plan, opened_age)
        if firm is None:
            return None
        self.used.add(firm.pk)
        name, diagnosis, plan_text, problems, actions = AREA_TEXT[area]
        title = f"{firm.name.removesuffix('有限公司')}·{plan.title or (needs[0].title if needs else name)}"
        opened = at(self.today, opened_age, 9)
        with happened(opened):
            case = services.case_open(user=lead, campaign=self.campaigns[plan.campaign], enterprise=firm,
                                      needs=needs, title=title[:120])
        AssistanceCase.objects.filter(pk=case.pk).update(opened_at=opened, entered_at=opened)
        experts = self.assign(plan, lead, case, firm, area, opened_age)
        rank = STEPS.index(plan.status) if plan.status != Status.CLOSED else len(STEPS) - (
            1 if plan.resolution == R else 2)
        texts = (diagnosis, plan_text, problems, actions)
        for number, visit_age in enumerate(visit_ages):
            if number < rank and number < len(STEPS) - 1:
                # Each visit moves the case one step on before the next: diagnose, agree the plan, carry it out.
                with happened(at(self.today, visit_age, 9)):
                    case = services.case_transition(user=lead, case=case, to_status=STEPS[number + 1])
            next_age = visit_ages[number + 1] if number + 1 < len(visit_ages) else None
            self.visit(plan, lead, case, experts, visit_age, next_age, texts)
            if number == 0:
                self.write_plan(lead, case, experts, diagnosis, plan_text, at(self.today, visit_age, 18))
        if plan.status == Status.CLOSED:
            self.close(plan, lead, case, needs, closed_age)
        return case

    def assign(self, plan: Plan, lead: User, case: AssistanceCase, firm: Enterprise, area: int,
               opened_age: int) -> list[Expert]:
        chosen: list[Expert] = []
        when = at(self.today, opened_age, 15)
        if plan.expert:
            named = Expert.objects.filter(user__username=plan.expert).first()
            if named is not None:
                chosen.append(named)
        wanted = (0 if chosen else 1) + (1 if plan.second_expert else 0)
        if plan.status == Status.OPEN and not plan.expert and plan.follow_up != "silent":
            wanted = self.rng.choice([0, 1])  # some new cases still wait for their expert
        if wanted:
            suggestions = suggest_experts(user=lead, enterprise=firm, service_area_ids=[area], exclude_case=case,
                                          text=case_words(case))
            # Experts with a demo login get only the cases planned for them, so their load is as told.
            fitting = [s.expert for s in suggestions if s.specialty_fits and not s.at_capacity
                       and s.expert.user_id is None and s.expert not in chosen]
            others = [s.expert for s in suggestions if not s.at_capacity and s.expert.user_id is None
                      and s.expert not in chosen and s.expert not in fitting]
            best = fitting[:3]
            self.rng.shuffle(best)  # spread the cases over the best few, as regulators do
            chosen += (best + others[:2])[:wanted]
        for expert in chosen:
            with happened(when):
                services.case_assign_expert(user=lead, case=case, expert=expert,
                                            override_reason=plan.over_capacity if expert.user_id else "")
        if plan.release and len(chosen) > 1:
            released_on = at(self.today, max(opened_age - 20, 1), 15)
            with happened(released_on):
                assignment = services.case_release_expert(user=lead, case=case, expert=chosen[-1],
                                                          note="专家工作调动，改由其他专家跟进。")
            CaseAssignment.objects.filter(pk=assignment.pk).update(released_at=released_on)
            chosen = chosen[:-1]
        return chosen

    def visit(self, plan: Plan, lead: User, case: AssistanceCase, experts: list[Expert], visit_age: int,
              next_age: int | None, texts: tuple) -> None:
        _diagnosis, _plan, problems, actions = texts
        with_login = [expert for expert in experts if expert.user_id]
        logger = with_login[0].user if with_login and self.rng.random() < 0.7 else lead
        visited_on = self.today - timedelta(days=visit_age)
        if next_age is not None:
            follow_up = self.today - timedelta(days=next_age)  # kept: the next visit came on that day
        elif plan.status == Status.CLOSED:
            follow_up = None
        elif plan.follow_up == "overdue":
            follow_up = visited_on + timedelta(days=self.rng.randint(3, visit_age - 2))
        elif plan.follow_up == "stale":
            follow_up = self.rng.choice([None, visited_on + timedelta(days=14)])
        else:
            follow_up = self.today + timedelta(days=self.rng.randint(5, 25))
        people = [f"{expert.name}（专家）" for expert in experts] + [f"{lead.full_name}（{lead.organisation}）"]
        people.append(f"{case.enterprise.contact_name or '质量负责人'}（企业）")
        if plan.clinic:
            mode = Visit.Mode.MOBILE_CLINIC
        else:
            mode = self.rng.choices([Visit.Mode.ON_SITE, Visit.Mode.REMOTE], weights=[4, 1])[0]
        fields = {
            "visited_on": visited_on, "mode": mode, "hours": Decimal(self.rng.choice(["1.5", "2", "3", "4", "6"])),
            "people_present": "、".join(people), "problems_found": "；".join(self.rng.sample(
                problems, k=self.rng.randint(1, len(problems)))),
            "actions_recommended": "；".join(self.rng.sample(actions, k=self.rng.randint(1, len(actions)))),
            "next_follow_up_on": follow_up,
            "internal_remark": self.rng.choice(INTERNAL_REMARKS) if self.rng.random() < 0.3 else "",
        }
        logged = at(self.today, visit_age, 17)
        with happened(logged):
            visit = services.visit_log(user=logger, case=case, **fields)
        Visit.objects.filter(pk=visit.pk).update(logged_at=logged, updated_at=logged)

    def write_plan(self, lead: User, case: AssistanceCase, experts: list[Expert], diagnosis: str, plan_text: str,
                   when: datetime) -> None:
        """After the first visit the expert (when they sign in) or the lead writes the diagnosis and plan."""
        author = next((expert.user for expert in experts if expert.user_id), lead)
        case.refresh_from_db()
        with happened(when):
            services.case_update(user=author, case=case, version=case.version, diagnosis=diagnosis, plan=plan_text)

    def close(self, plan: Plan, lead: User, case: AssistanceCase, needs: list[NeedRequest], closed_age: int) -> None:
        closed = at(self.today, closed_age, 16)
        case.refresh_from_db()
        with happened(closed):
            case = services.case_close(user=lead, case=case, resolution=plan.resolution,
                                       fulfilled_needs=needs if plan.resolution == R else (), note=plan.note,
                                       **plan.outcomes)
        AssistanceCase.objects.filter(pk=case.pk).update(closed_at=closed)
        if plan.rating is None:
            return  # the firm has not rated it yet
        comment = plan.comment or self.rng.choice(COMMENTS[plan.rating])
        with happened(at(self.today, max(closed_age - self.rng.randint(1, 4), 0), 11)):
            services.case_rate(user=self.contact(case.enterprise), case=case, score=plan.rating, comment=comment)

    def contact(self, firm: Enterprise) -> User:
        """The firm's SME account, or a contact account for its contact person (who rates the case)."""
        user = firm.users.filter(role=User.Role.SME).order_by("pk").first()
        if user is not None:
            return user
        user = User(username=f"contact_{firm.uscc.lower()}", role=User.Role.SME,
                    full_name=firm.contact_name or "企业联系人", organisation=firm.name[:128])
        user.set_unusable_password()
        user.full_clean()
        user.save()
        firm.users.add(user)
        return user
