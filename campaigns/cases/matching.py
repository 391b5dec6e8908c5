"""Matching experts to a need or a case: the active experts who serve the firm's region (or a
region above it), scored in the database with the reasons a regulator is shown.

What the need is about counts twice: its service area against the areas the experts' specialties
serve, and the words of its title and description against the specialties they name (a
"压力表校准" need names metrology, not food safety) and against the expert's past cases."""

from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from campaigns.cases.models import AssistanceCase, CaseAssignment
from enterprises.models import Enterprise
from experts.models import Expert
from experts.selectors import experts_visible_to, open_load, rating_mean
from portal.forms import halfwidth
from portal.models import Region, Specialty, User, code_prefix, enclosing_codes

# The weights of a suggestion's score (0-100): what the regulator is told, in this order.
SPECIALTY_POINTS = 25  # a specialty serving the need's service area
WORDS_POINTS = 20  # a specialty the need's words name
HISTORY_POINTS = 10  # past cases in the service area or on those words (two or more for all of it)
REGION_POINTS = {6: 15, 4: 11, 2: 8, 0: 4}  # serving the county itself, its city, its province, the country
LOAD_POINTS = 18
SATISFACTION_POINTS = 12
HISTORY_FULL = 2

# The words in a need that name a specialty (lower case; full-width input is read as ASCII).
SPECIALTY_WORDS = {
    "metrology": ["计量", "校准", "检定", "压力表", "温度计", "量具", "仪表", "衡器", "砝码", "测量", "calibrat",
                  "metrolog", "gauge"],
    "food-safety": ["食品", "餐饮", "添加剂", "haccp", "保质期", "微生物", "食用", "food"],
    "special-equipment": ["特种设备", "锅炉", "压力容器", "电梯", "起重", "气瓶", "压力管道", "boiler", "lift"],
    "inspection-testing": ["检验", "检测", "送检", "化验", "抽检", "样品", "testing", "inspection"],
    "standardization": ["标准化", "企业标准", "团体标准", "标准制定", "standard"],
    "certification": ["认证", "iso", "9001", "14001", "45001", "22000", "体系证书", "ccc", "certif"],
    "quality-management": ["质量管理", "管理体系", "全面质量", "qc小组", "不合格品", "quality management"],
    "excellence-model": ["卓越绩效", "质量奖", "excellence"],
    "product-safety": ["产品质量安全", "召回", "监督抽查", "product safety", "recall"],
    "brand": ["品牌", "商标", "brand"],
    "intellectual-property": ["专利", "知识产权", "patent"],
    "production-licence": ["生产许可", "许可证", "licence", "license"],
    "service-quality": ["服务质量", "顾客满意", "服务规范", "service quality"],
    "technology-innovation": ["技术创新", "新工艺", "研发", "innovation"],
    "export-tbt": ["出口", "外贸", "贸易壁垒", "tbt", "export"],
}


def specialties_named(text: str) -> dict[str, list[str]]:
    """The specialties the words of a need name, each with the words found."""
    lowered = halfwidth(text).lower()
    named = {code: [word for word in words if word in lowered] for code, words in SPECIALTY_WORDS.items()}
    return {code: found for code, found in named.items() if found}


@dataclass
class Suggestion:
    """One ranked expert for a need or case, with the reasons behind its score."""

    expert: Expert
    score: int
    specialty_fits: bool
    named_specialty: Specialty | None
    named_words: list[str]
    past_cases: int
    served_region: Region | None
    load: int
    capacity: int
    rating_mean: float | None
    rating_count: int
    reasons: list[str] = field(default_factory=list)

    @property
    def at_capacity(self) -> bool:
        return self.load >= self.capacity


def case_words(case: AssistanceCase) -> str:
    """What the case is about in words: its title and its needs' titles and descriptions."""
    needs = case.needs.values_list("title", "description")
    return " ".join([case.title, *(f"{title} {description}" for title, description in needs)])


def suggest_experts(
    *, user: User, enterprise: Enterprise, service_area_ids: list[int], exclude_case: AssistanceCase | None = None,
    limit: int = 20, text: str = "",
) -> list[Suggestion]:
    """Rank the active experts who serve the firm's region (or a region above it).

    Scored in the database and cut to `limit`, so matching over a pool of thousands reads only
    the experts shown: specialty fitting one of the service areas, a specialty named by the words
    of `text` (the need's title and description), past cases in the service areas or on those
    words, the closest region served, free capacity, and the mean rating on past cases (an unrated
    expert counts as average).
    """
    named = specialties_named(text)
    words = sorted({word for found in named.values() for word in found}, key=len, reverse=True)
    codes = enclosing_codes(enterprise.region_id)
    served_through = Expert.regions_served.through.objects.filter(expert=OuterRef("pk"))
    specialty_fit = Expert.specialties.through.objects.filter(
        expert=OuterRef("pk"), specialty__service_areas__code__in=service_area_ids
    )
    # The closest region served, as points: a county's own code scores most. One subquery per
    # expert (a CASE over the closest code's subquery would run it once for every WHEN).
    points = Case(*[When(region_id=code, then=Value(REGION_POINTS[len(code_prefix(code))])) for code in codes],
                  default=Value(0), output_field=IntegerField())
    closest_points = Subquery(served_through.filter(region_id__in=codes).annotate(points=points)
                              .order_by("-points").values("points")[:1], output_field=IntegerField())
    code_by_points = {REGION_POINTS[len(code_prefix(code))]: code for code in codes}
    # The specialty the need's words name most often scores all WORDS_POINTS, others in proportion.
    specialties = {specialty.code: specialty for specialty in Specialty.objects.filter(code__in=list(named))}
    most = max((len(found) for found in named.values()), default=1)
    word_points = {specialties[code].pk: WORDS_POINTS * len(found) / most
                   for code, found in named.items() if code in specialties}
    by_words = Case(*[When(specialty_id=pk, then=Value(points)) for pk, points in word_points.items()],
                    default=Value(0.0), output_field=FloatField())
    named_specialty = Subquery(Expert.specialties.through.objects.filter(
        expert=OuterRef("pk"), specialty_id__in=list(word_points)).annotate(points=by_words)
        .order_by("-points", "specialty_id").values("specialty_id")[:1])
    on_topic = Q(case__needs__service_area__in=service_area_ids) if service_area_ids else Q(pk__in=[])
    for word in words:
        on_topic |= Q(case__title__icontains=word) | Q(case__needs__description__icontains=word)
    past = CaseAssignment.objects.filter(on_topic, expert=OuterRef("pk"))
    if exclude_case is not None:
        past = past.exclude(case=exclude_case)
    past_cases = Coalesce(Subquery(past.values("expert").annotate(n=Count("case", distinct=True)).values("n"),
                                   output_field=IntegerField()), 0)
    experts = (
        experts_visible_to(user)
        .filter(is_active=True)
        .filter(Exists(served_through.filter(region_id__in=codes)))
        .annotate(
            region_points=closest_points,
            fits=Exists(specialty_fit) if service_area_ids else Value(False),
            named_specialty_id=named_specialty if word_points else Value(None, output_field=IntegerField()),
            past_cases=past_cases if service_area_ids or words else Value(0),
            load=open_load(),
            rating_mean=rating_mean(),
        )
    )
    if exclude_case is not None:
        experts = experts.exclude(
            Exists(CaseAssignment.objects.filter(expert=OuterRef("pk"), case=exclude_case, active=True))
        )
    free_share = Cast(Greatest(F("capacity") - F("load"), 0), FloatField()) / Cast(F("capacity"), FloatField())
    satisfaction = Coalesce((F("rating_mean") - 1.0) / 4.0, Value(0.5), output_field=FloatField())
    score = (
        Case(When(fits=True, then=Value(SPECIALTY_POINTS)), default=Value(0), output_field=IntegerField())
        + Case(*[When(named_specialty_id=pk, then=Value(points)) for pk, points in word_points.items()],
               default=Value(0.0), output_field=FloatField())
        + Cast(Least(F("past_cases"), HISTORY_FULL), FloatField()) * HISTORY_POINTS / HISTORY_FULL
        + F("region_points")
        + free_share * LOAD_POINTS
        + satisfaction * SATISFACTION_POINTS
    )
    experts = experts.annotate(score=score).order_by("-score", "load", "name", "pk")[:limit]
    regions = {region.code: region for region in Region.objects.filter(code__in=codes)}
    specialty_by_pk = {specialty.pk: specialty for specialty in specialties.values()}
    suggestions = []
    for expert in experts:
        specialty = specialty_by_pk.get(expert.named_specialty_id)
        suggestion = Suggestion(
            expert=expert, score=round(expert.score), specialty_fits=bool(expert.fits),
            named_specialty=specialty, named_words=named[specialty.code] if specialty else [],
            past_cases=expert.past_cases,
            served_region=regions.get(code_by_points.get(expert.region_points)), load=expert.load,
            capacity=expert.capacity,
            rating_mean=expert.rating_mean, rating_count=expert.rating_count,
        )
        suggestion.reasons = reasons_for(suggestion)
        suggestions.append(suggestion)
    return suggestions


def reasons_for(suggestion: Suggestion) -> list[str]:
    reasons = []
    if suggestion.specialty_fits:
        reasons.append(_("Specialty fits the service area"))
    else:
        reasons.append(_("No specialty in this service area"))
    if suggestion.named_specialty is not None:
        reasons.append(_("Specialty %(specialty)s matches the need's words: %(words)s") % {
            "specialty": suggestion.named_specialty, "words": "、".join(suggestion.named_words)})
    if suggestion.past_cases:
        reasons.append(ngettext("%(count)d past case on this subject", "%(count)d past cases on this subject",
                                suggestion.past_cases) % {"count": suggestion.past_cases})
    if suggestion.served_region is not None:
        reasons.append(_("Serves %(region)s") % {"region": suggestion.served_region.name})
    if suggestion.at_capacity:
        reasons.append(_("At capacity: %(load)d of %(capacity)d open cases") % {
            "load": suggestion.load, "capacity": suggestion.capacity})
    else:
        reasons.append(_("Has room: %(load)d of %(capacity)d open cases") % {
            "load": suggestion.load, "capacity": suggestion.capacity})
    if suggestion.rating_count:
        reasons.append(_("Satisfaction %(mean).1f of 5 on %(count)d cases") % {
            "mean": suggestion.rating_mean, "count": suggestion.rating_count})
    else:
        reasons.append(_("No ratings yet"))
    return reasons
