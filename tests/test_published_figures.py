"""The published figures of Dongguan, Shijiazhuang, Anhui and the national survey (DESIGN.md section 1),
each built to the exact number through the portal's own imports and services, from data shaped like
the campaign's records, and read off the KPI engine's snapshots (or, for the expert pool, where the
portal shows the pool).

The registry is filled by the registry import, cases with their visits and outcomes by the case
import, training by sign-in sheets, survey answers by the survey import, the pool by the expert
import; needs go through the need services one by one, as a regulator types in paper needs.
(Figures covered elsewhere: ISO 9001 share, the 87.5% baseline and Anhui's parks and products in
test_kpi_figures.py; the small case and survey imports in test_campaign_imports.py.)
"""

import csv
import datetime
import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import importing as survey_importing
from campaigns.cases import importing as case_importing
from campaigns.kpis import engine as kpis
from campaigns.kpis.dashboards import dashboard_for
from campaigns.kpis.models import KpiSnapshot
from campaigns.models import Campaign
from campaigns.services import campaign_target_set
from campaigns.training import importing as training_importing
from enterprises import importing as registry_importing
from enterprises import services as registry
from enterprises.models import Enterprise, NeedRequest
from enterprises.uscc import generate_uscc
from experts import importing as expert_importing
from experts.models import Expert
from portal import outbox
from portal.kpi_notes import TOPIC
from portal.models import ServiceArea, Specialty
from tests.factories import RegulatorFactory, region

pytestmark = pytest.mark.django_db

CASE_HEADER = [column.header for column in case_importing.COLUMNS]
SURVEY_HEADER = [column.header for column in survey_importing.COLUMNS]
SHEET_HEADER = [column.header for column in training_importing.COLUMNS]
EXPERT_HEADER = ["专家编号", "姓名", "工作单位", "专业领域", "服务地区"]
REGISTRY_HEADER = ["统一社会信用代码", "企业名称", "行政区划代码", "行业代码", "规模", "重点企业"]


def upload(header: list[str], rows: list[list], name: str = "list.csv") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode("utf-8"), content_type="text/csv")


def case_row(firm: Enterprise, opened_on: str, **cells) -> list:
    """A row of the case list: the firm and the day its case opened, and the named cells."""
    by_header = {"统一社会信用代码": firm.uscc, "企业名称": firm.name, "立案日期": opened_on, **cells}
    return [by_header.get(header, "") for header in CASE_HEADER]


def register(user, places: list[tuple[str, bool]], prefix: str) -> list[Enterprise]:
    """Firms registered by the registry import, one per (region code, key enterprise?), in order."""
    rng = random.Random(prefix)
    codes = [generate_uscc(code, rng) for code, _key in places]
    assert len(set(codes)) == len(codes)
    rows = [[uscc, f"{prefix}企业{n}有限公司", code, "13", "小型", "是" if key else "否"]
            for n, (uscc, (code, key)) in enumerate(zip(codes, places, strict=True))]
    job = registry_importing.import_job_create(user=user, upload=upload(REGISTRY_HEADER, rows), enqueue=False)
    registry_importing.import_job_process(job_id=job.pk)
    firms = Enterprise.objects.in_bulk(codes, field_name="uscc")
    assert len(firms) == len(codes), "every row of the registry list was imported"
    return [firms[uscc] for uscc in codes]


def import_cases(user, campaign, rows: list[list], lead=None) -> case_importing.CaseImportReport:
    report = case_importing.case_import(user=user, campaign=campaign, upload=upload(CASE_HEADER, rows), lead=lead)
    assert report.problems == []
    return report


def to_date(campaign, code: str) -> dict:
    return KpiSnapshot.objects.get(campaign=campaign, region_id=code, period="", breakdown="").figures


def months(campaign, code: str, figure: str) -> int:
    rows = KpiSnapshot.objects.filter(campaign=campaign, region_id=code, breakdown="").exclude(period="")
    return sum(row.figures.get(figure) or 0 for row in rows)


def recount_corrects_nothing(campaign) -> bool:
    return kpis.recount(campaign.pk, kpis.Touched(everything=True)).corrections == 0


# --- Dongguan, quality city 2010-2011 ----------------------------------------------------------------


@pytest.fixture
def dongguan(db):
    return Campaign.objects.create(name="东莞质量强市", organiser="东莞市质量技术监督局", region=region("441900"),
                                   starts_on=datetime.date(2010, 3, 1), ends_on=datetime.date(2011, 12, 31))


@pytest.fixture
def dg(db):
    return RegulatorFactory(username="dg", region=region("441900"))


def test_dongguan_trained_2170_firm_times_and_3219_person_times(dongguan, dg):
    """Ten free training tours of 217 firms each, from their sign-in sheets: 434 firms, each at five
    sessions. 1,049 of the attendances brought two people, signed in on two rows or as a head count
    of 2; a firm's two rows are one firm-time."""
    firms = register(dg, [("441900", False)] * 434, "东莞")
    attendance = 0
    for session in range(10):
        rows = []
        for firm in firms[:217] if session % 2 == 0 else firms[217:]:
            if attendance < 1049 and attendance % 2 == 0:
                rows += [[firm.uscc, firm.name, "张伟", ""], [firm.uscc, firm.name, "李娜", ""]]
            elif attendance < 1049:
                rows.append([firm.uscc, firm.name, "", "2"])
            else:
                rows.append([firm.uscc, firm.name, "王芳", ""])
            attendance += 1
        report = training_importing.training_import(
            user=dg, upload=upload(SHEET_HEADER, rows, f"签到表{session}.csv"), campaign=dongguan,
            region=region("441900"), topic=f"质量巡回培训第{session + 1}场", organiser="东莞市质监局",
            held_on=datetime.date(2010, 4, 15) + datetime.timedelta(days=35 * session))
        assert report.problems == [] and report.firm_times == 217
    kpis.compute_campaign(dongguan.pk)

    figures = to_date(dongguan, "441900")
    assert (figures["training_sessions"], figures["firm_times"], figures["person_times"]) == (10, 2170, 3219)
    assert months(dongguan, "441900", "person_times") == 3219  # each session in its own month


def test_dongguan_assisted_about_400_firms_point_to_point(dongguan, dg):
    """400 firms with a case, 50 of them visited twice, 10 helped again in 2011 in a second case after
    the first closed: 410 cases, 400 firms assisted. 34 registered firms were not assisted."""
    firms = register(dg, [("441900", False)] * 434, "东莞")
    rows = []
    for n, firm in enumerate(firms[:400]):
        closing = {"结案日期": "2010-12-20", "结案结果": "已解决"} if n < 10 else {}
        rows.append(case_row(firm, "2010-05-06", 走访日期="2010-05-20", 走访方式="现场", **closing))
        if n >= 350:
            rows.append(case_row(firm, "2010-05-06", 走访日期="2010-08-12", 走访方式="现场"))
    report = import_cases(dg, dongguan, rows)
    assert (report.cases_created, report.visits_created) == (400, 450)
    again = import_cases(dg, dongguan, [case_row(firm, "2011-03-01", 走访日期="2011-03-15", 走访方式="现场")
                                        for firm in firms[:10]])
    assert again.cases_created == 10
    kpis.compute_campaign(dongguan.pk)

    figures = to_date(dongguan, "441900")
    assert (figures["firms_assisted"], figures["cases"], figures["visits"]) == (400, 410, 460)


def test_dongguan_fulfilled_232_firm_needs(dongguan, dg):
    """Needs typed in from paper by the bureau: 232 fulfilled, 6 still being handled, 4 declined; one
    more, received after the campaign ended, was fulfilled too but is not the campaign's."""
    firms = register(dg, [("441900", False)] * 120, "东莞")
    area = ServiceArea.objects.get(code=2)
    needs = []
    for n in range(243):
        received_on = datetime.date(2010, 3, 1) + datetime.timedelta(days=2 * n)
        if n == 242:
            received_on = datetime.date(2012, 2, 1)
        needs.append(registry.need_submit(user=dg, enterprise=firms[n % 120], service_area=area,
                                          title=f"计量器具校准{n}", description="纸质需求登记表",
                                          received_on=received_on))
    for n, need in enumerate(needs):
        if n < 232 or n == 242:
            need = registry.need_accept(user=dg, need=need)
            registry.need_transition(user=dg, need=need, to_status=NeedRequest.Status.FULFILLED)
        elif n < 238:
            registry.need_accept(user=dg, need=need)
        else:
            registry.need_decline(user=dg, need=need, reason="不属于本次活动范围")
    kpis.compute_campaign(dongguan.pk)

    figures = to_date(dongguan, "441900")
    assert (figures["needs_received"], figures["needs_fulfilled"], figures["needs_declined"]) == (242, 232, 4)
    assert figures["fulfilment_rate"] == 95.87  # 232 / 242
    assert NeedRequest.objects.filter(status=NeedRequest.Status.FULFILLED).count() == 233
    assert recount_corrects_nothing(dongguan)


# --- Shijiazhuang, one-to-one assistance 2013 ---------------------------------------------------------


@pytest.fixture
def shijiazhuang(bob):
    """Shijiazhuang's 2013 one-to-one assistance from its records: 252 firms in two districts, each
    visited on site once; 500 consultations (252 remote, 248 mobile quality clinics); 22 cases closed
    having adopted the excellence-performance model and one still open that reports it; one case set
    up a metrology lab saving the firm 450,000 yuan a year, two saved 30,000 yuan once."""
    campaign = Campaign.objects.create(name="石家庄一对一帮扶", organiser="石家庄市质量技术监督局",
                                       region=region("130100"), starts_on=datetime.date(2013, 1, 1),
                                       ends_on=datetime.date(2013, 12, 31))
    firms = register(bob, [("130102" if n % 3 else "130104", False) for n in range(252)], "石家庄")
    rows = []
    for n, firm in enumerate(firms):
        outcome = {}
        if n < 21:
            outcome = {"导入卓越绩效": "是"}
        elif n == 21:
            outcome = {"导入卓越绩效": "是", "结案日期": "", "结案结果": ""}  # still open
        elif n == 22:
            outcome = {"建立实验室": "是", "节约金额": "450000", "节约周期": "每年"}
        elif n in (23, 24):
            outcome = {"节约金额": "30000", "节约周期": "一次性"}
        closing = {"结案日期": "2013-10-31", "结案结果": "已解决"} if n <= 24 and n != 21 else {}
        rows.append(case_row(firm, "2013-03-01", 走访日期="2013-03-11", 走访方式="现场", 走访时长="3",
                             参加人员="王建国", **closing, **outcome))
        rows.append(case_row(firm, "2013-03-01", 走访日期="2013-05-20", 走访方式="远程", 走访时长="1"))
        if n < 248:
            rows.append(case_row(firm, "2013-03-01", 走访日期="2013-07-08", 走访方式="流动诊所", 走访时长="2"))
    kpis.compute_campaign(campaign.pk)  # counted before: the import's note is an update
    report = import_cases(bob, campaign, rows)
    assert (report.cases_created, report.visits_created) == (252, 752)
    while outbox.drain(TOPIC):  # what the KPI worker does
        pass
    return campaign


def test_shijiazhuang_assisted_252_firms_one_to_one(shijiazhuang):
    figures = to_date(shijiazhuang, "130100")
    assert (figures["firms_assisted"], figures["cases"]) == (252, 252)
    # 长安区 holds the firms not divisible by three, 桥西区 the others.
    assert (to_date(shijiazhuang, "130102")["firms_assisted"], to_date(shijiazhuang, "130104")["firms_assisted"]) == (
        168, 84)
    assert recount_corrects_nothing(shijiazhuang)  # the worker's update counted what a full count does


def test_shijiazhuang_held_500_consultations(shijiazhuang):
    figures = to_date(shijiazhuang, "130100")
    assert (figures["consultations"], figures["on_site_visits"], figures["visits"]) == (500, 252, 752)
    assert months(shijiazhuang, "130100", "consultations") == 500  # May's remote, July's clinics
    assert to_date(shijiazhuang, "130104")["consultations"] == 84 * 2 - 1  # firm 249, no clinic, is 桥西区's


def test_shijiazhuang_saw_21_firms_adopt_the_excellence_performance_model(shijiazhuang):
    figures = to_date(shijiazhuang, "130100")
    assert (figures["excellence_models"], figures["cases_closed"]) == (21, 24)


def test_shijiazhuang_set_up_one_measurement_lab_saving_450000_yuan_a_year(shijiazhuang):
    figures = to_date(shijiazhuang, "130100")
    assert figures["labs_set_up"] == 1
    assert (figures["money_saved_per_year"], figures["money_saved_once"], figures["money_saved"]) == (
        450000.0, 60000.0, 510000.0)


def test_shijiazhuang_pool_of_169_experts_in_15_specialties(bob, client_for, api):
    """The pool is no campaign figure: it is read where the portal shows the pool, the page's and the
    API's count, and per specialty through the pool's specialty filter."""
    specialties = list(Specialty.objects.order_by("code"))
    assert len(specialties) == 15
    rows = []
    for n in range(169):
        named = [specialties[n % 15].name] + ([specialties[(n + 7) % 15].name] if n % 4 == 0 else [])
        rows.append([f"SJZ{n:04d}", f"专家{n}", "河北省质量技术监督检验院", "、".join(named), "130100"])
    report = expert_importing.expert_import(user=bob, upload=upload(EXPERT_HEADER, rows))
    assert report.problems == [] and Expert.objects.count() == 169

    listed = api(bob).get(reverse("api:expert-list"), {"page_size": 200}).json()
    assert listed["count"] == 169 == len(listed["results"])
    assert len({pk for expert in listed["results"] for pk in expert["specialties"]}) == 15
    page = client_for(bob).get(reverse("experts:list"))
    assert page.context["paginator"].count == 169
    for specialty in specialties:  # the specialty filter of the page and the API
        expected = Expert.objects.filter(specialties=specialty).count()
        found = api(bob).get(reverse("api:expert-list"), {"specialty": specialty.pk}).json()["count"]
        assert found == expected, specialty.code
    # Every fourth expert (43 of 169) has a second specialty.
    assert sum(Expert.objects.filter(specialties=specialty).count() for specialty in specialties) == 169 + 43


# --- Anhui, quality uplift year 2018: per-city quotas -------------------------------------------------


def test_anhui_cities_meet_and_miss_their_quotas_of_key_enterprises_and_training(admin_user):
    """Per city: at least 50 key enterprises assisted and 2 training sessions. 合肥 meets both (50 key
    firms, some non-key ones too), 芜湖 assists 59 firms of which 49 key and misses, 蚌埠 assists 52 key
    firms but holds one session, 淮南 has done nothing yet."""
    campaign = Campaign.objects.create(name="安徽省质量提升行动年", organiser="安徽省质量技术监督局",
                                       region=region("340000"), starts_on=datetime.date(2018, 1, 1),
                                       ends_on=datetime.date(2018, 12, 31))
    campaign_target_set(user=admin_user, campaign=campaign, metric="key_firms_assisted", scope="each_city",
                        value=50)
    campaign_target_set(user=admin_user, campaign=campaign, metric="training_sessions", scope="each_city", value=2)
    anhui = RegulatorFactory(username="anhui", region=region("340000"))
    places = ([("340102", True)] * 50 + [("340100", False)] * 5 + [("340202", True)] * 49
              + [("340200", False)] * 10 + [("340302", True)] * 52)
    firms = register(anhui, places, "安徽")
    import_cases(anhui, campaign, [case_row(firm, "2018-04-02", 走访日期="2018-04-20", 走访方式="流动诊所")
                                   for firm in firms])
    sessions = {"340100": 2, "340200": 3, "340300": 1}
    for code, count in sessions.items():
        attendees = [firm for firm in firms if firm.region_id[:4] == code[:4]][:20]
        for session in range(count):
            training_importing.training_import(
                user=anhui, upload=upload(SHEET_HEADER, [[firm.uscc, firm.name, "", "1"] for firm in attendees]),
                campaign=campaign, region=region(code), topic="全面质量管理", organiser="安徽省质监局",
                held_on=datetime.date(2018, 5 + session, 10))
    kpis.compute_campaign(campaign.pk)

    expected = {"340100": (55, 50, 2), "340200": (59, 49, 3), "340300": (52, 52, 1), "340400": (0, 0, 0)}
    for code, (assisted, key, held) in expected.items():
        figures = to_date(campaign, code)
        assert (figures["firms_assisted"], figures["key_firms_assisted"], figures["training_sessions"]) == (
            assisted, key, held), code
        assert figures["targets"] == {"key_firms_assisted": 50.0, "training_sessions": 2.0}, code
    province = to_date(campaign, "340000")
    assert (province["key_firms_assisted"], province["training_sessions"]) == (151, 6)
    dashboard = dashboard_for(user=admin_user, campaign=campaign)
    met = {child.region.code: {row.metric: row.met for row in child.targets} for child in dashboard.children}
    assert met["340100"] == {"key_firms_assisted": True, "training_sessions": True}
    assert met["340200"] == {"key_firms_assisted": False, "training_sessions": True}
    assert met["340300"] == {"key_firms_assisted": True, "training_sessions": False}
    assert met["340400"] == {"key_firms_assisted": False, "training_sessions": False}


# --- the national micro/small QMS uplift: its follow-up survey ----------------------------------------


def test_the_follow_up_survey_gives_awareness_and_performance_up_and_the_mean_changes(admin_user):
    """The national survey's 90.46% awareness up and 96.95% performance up, at the smallest sample that
    rounds to both (237 and 254 of 262 firms), and its means: revenue +12%, output +13%, profit margin
    +10%, over the firms that gave a figure (two gave none)."""
    campaign = Campaign.objects.create(name="小微企业质量管理体系认证提升行动", organiser="国家市场监督管理总局",
                                       region=region("000000"), starts_on=datetime.date(2020, 1, 1),
                                       ends_on=datetime.date(2022, 12, 31))
    firms = register(admin_user, [(("130102", "340202", "441900")[n % 3], False) for n in range(262)], "全国")
    rows = []
    for n, firm in enumerate(firms):
        answered = n < 260
        rows.append([firm.uscc, firm.name, "跟踪", "2022-11-15", "",
                     "是" if n < 237 else "否", "是" if n < 254 else "否",
                     (16 if n % 2 else 8) if answered else "", (19.5 if n % 2 else 6.5) if answered else "",
                     (-5 if n % 4 == 0 else 15) if answered else "", ""])
    report = survey_importing.survey_import(user=admin_user, campaign=campaign, upload=upload(SURVEY_HEADER, rows))
    assert report.problems == [] and report.created == 262
    kpis.compute_campaign(campaign.pk)

    figures = to_date(campaign, "000000")
    assert (figures["surveys"], figures["awareness_up_share"], figures["performance_up_share"]) == (262, 90.46, 96.95)
    assert (figures["revenue_change_mean"], figures["output_change_mean"], figures["margin_change_mean"]) == (
        12.0, 13.0, 10.0)
    assert to_date(campaign, "440000")["surveys"] == 87  # the firms n ≡ 2 (mod 3)
