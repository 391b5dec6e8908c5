"""Importing a campaign's cases with visits and outcomes, and its survey answers: every row checked,
all or nothing, the same file twice adds nothing, and the figures follow through the outbox."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import importing as survey_importing
from campaigns.cases import importing as case_importing
from campaigns.cases.models import AssistanceCase, Visit
from campaigns.kpis import engine as kpis
from campaigns.kpis.models import KpiSnapshot, KpiState
from campaigns.services import campaign_entry_close
from enterprises.models import NeedsSurvey
from portal import outbox
from portal.kpi_notes import TOPIC
from portal.models import OutboxEntry, Region
from tests.factories import CampaignFactory, EnterpriseFactory, RegulatorFactory

pytestmark = pytest.mark.django_db

CASE_HEADER = ("统一社会信用代码,企业名称,立案日期,案件名称,走访日期,走访方式,走访时长,参加人员,发现问题,"
               "结案日期,结案结果,获得认证,制定标准,导入卓越绩效,建立实验室,节约金额,节约周期")
SURVEY_HEADER = ("统一社会信用代码,企业名称,问卷类型,填报日期,需要的服务,质量意识提高,质量绩效提高,"
                 "营业收入变化(%),产值变化(%),利润率变化(%)")


def csv_file(header: str, rows: list[str], name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join([header, *rows]) + "\n").encode("utf-8"), content_type="text/csv")


@pytest.fixture
def shijiazhuang_2013(db):
    """Shijiazhuang's one-to-one assistance of 2013, entered from its paper records."""
    return CampaignFactory(name="石家庄一对一帮扶", region=Region.objects.get(code="130100"),
                           starts_on=datetime.date(2013, 1, 1), ends_on=datetime.date(2013, 12, 31))


@pytest.fixture
def firms(db):
    return [EnterpriseFactory(region=Region.objects.get(code="130102"), name=f"石家庄企业{n}") for n in range(3)]


def case_rows(firms) -> list[str]:
    a, b, c = (firm.uscc for firm in firms)
    return [
        f"{a},甲,2013-03-01,计量帮扶,2013-03-05,现场,3,王建国,计量器具未检定,2013-09-30,已解决,否,否,否,是,450000,每年",
        f"{a},甲,2013-03-01,计量帮扶,2013-04-12,远程,1,王建国,,2013-09-30,已解决,,,,,,",
        f"{b},乙,2013/5/6,,2013/5/20,流动诊所,2,李娜,,,,,,是,,,",
        f"{c},丙,2013年6月1日,,,,,,,2013-11-11,未解决,,,,,,",
    ]


class TestCaseImport:
    def test_the_rows_become_cases_with_visits_and_outcomes(self, bob, shijiazhuang_2013, firms):
        kpis.compute_campaign(shijiazhuang_2013.pk)  # counted before: the import's note is an update
        report = case_importing.case_import(user=bob, campaign=shijiazhuang_2013,
                                            upload=csv_file(CASE_HEADER, case_rows(firms)))
        assert report.problems == [] and (report.cases_created, report.visits_created) == (3, 3)
        lab = AssistanceCase.objects.get(enterprise=firms[0])
        assert (lab.status, lab.resolution, lab.lab_set_up, lab.money_saved, lab.money_saved_period) == (
            "closed", "resolved", True, Decimal("450000.00"), "per_year")
        assert lab.last_visit_on == datetime.date(2013, 4, 12) and lab.entered_later and lab.lead == bob
        assert AssistanceCase.objects.get(enterprise=firms[1]).status == "in_progress"
        assert AssistanceCase.objects.get(enterprise=firms[2]).resolution == "unresolved"
        # The figures are left to the KPI worker: one note, nothing counted in the request.
        note = OutboxEntry.objects.get(payload__campaign=shijiazhuang_2013.pk)
        assert note.payload["cells"] == [["130102", None]]
        assert KpiSnapshot.objects.get(campaign=shijiazhuang_2013, region_id="130100", period="",
                                       breakdown="").figures["firms_assisted"] == 0
        while outbox.drain(TOPIC):  # what the worker does
            pass
        total = KpiSnapshot.objects.get(campaign=shijiazhuang_2013, region_id="130100", period="",
                                        breakdown="").figures
        assert (total["firms_assisted"], total["visits"], total["consultations"], total["labs_set_up"],
                total["excellence_models"]) == (3, 3, 2, 1, 0)
        assert (total["money_saved_per_year"], total["money_saved_once"]) == (450000.0, 0.0)
        kpis.compute_campaign(shijiazhuang_2013.pk)
        assert KpiState.objects.get(campaign=shijiazhuang_2013).corrections == 0  # the update was right

    def test_importing_the_same_file_again_adds_nothing(self, bob, shijiazhuang_2013, firms):
        for _ in range(2):
            report = case_importing.case_import(user=bob, campaign=shijiazhuang_2013,
                                                upload=csv_file(CASE_HEADER, case_rows(firms)))
        assert (report.cases_created, report.cases_kept, report.visits_created) == (0, 3, 0)
        assert AssistanceCase.objects.count() == 3 and Visit.objects.count() == 3

    def test_every_bad_row_is_reported_and_nothing_is_written(self, bob, shijiazhuang_2013, firms):
        a, b, _c = (firm.uscc for firm in firms)
        stranger = EnterpriseFactory(region=Region.objects.get(code="441900"))
        rows = [
            f"{a},甲,2013-03-01,,2013-02-01,现场,3,王,,,,,,,,,",  # visit before the case opened
            f"{b},乙,2012-12-31,,,,,,,,,,,,,,",  # before the campaign
            f"{a[:-1]}X,丙,2013-03-01,,,,,,,,,,,,,,",  # wrong check character
            f"{stranger.uscc},丁,2013-03-01,,,,,,,,,,,,,,",  # outside Shijiazhuang
            f"{b},乙,2013-03-02,,2013-03-05,骑马,30,,,2013-04-01,,,,,,-5,",  # mode, hours, result, money
        ]
        report = case_importing.case_import(user=bob, campaign=shijiazhuang_2013, upload=csv_file(CASE_HEADER, rows))
        found = {(row["line"], row["column"]) for row in report.problem_rows()}
        assert found == {(2, "走访日期"), (3, "立案日期"), (4, "统一社会信用代码"), (5, "统一社会信用代码"),
                         (6, "走访方式"), (6, "走访时长"), (6, "节约金额")}
        report = case_importing.case_import(user=bob, campaign=shijiazhuang_2013, upload=csv_file(CASE_HEADER, [
            f"{b},乙,2013-03-02,,,,,,,2013-04-01,,,,,,,"]))
        assert [row["column"] for row in report.problem_rows()] == ["结案结果"]
        assert not AssistanceCase.objects.exists() and not OutboxEntry.objects.exists()

    def test_a_missing_required_column_refuses_the_file(self, bob, shijiazhuang_2013):
        with pytest.raises(ValidationError) as raised:
            case_importing.case_import(user=bob, campaign=shijiazhuang_2013,
                                       upload=csv_file("统一社会信用代码,企业名称", ["x,y"]))
        assert "立案日期" in str(raised.value.message_dict["file"])

    def test_a_campaign_closed_for_entry_takes_no_import(self, bob, admin_user, shijiazhuang_2013, firms):
        campaign_entry_close(user=admin_user, campaign=shijiazhuang_2013)
        shijiazhuang_2013.refresh_from_db()
        with pytest.raises(ValidationError):
            case_importing.case_import(user=bob, campaign=shijiazhuang_2013,
                                       upload=csv_file(CASE_HEADER, case_rows(firms)))


def survey_rows(firms) -> list[str]:
    a, b, c = (firm.uscc for firm in firms)
    return [f"{a},甲,基线,2013-01-10,\"2、8\",,,,,", f"{b},乙,基线,2013-01-11,8,,,,,",
            f"{a},甲,跟踪,2013-12-01,,是,是,12,13,10", f"{b},乙,跟踪,2013-12-02,,否,是,-4.5,,",
            f"{c},丙,跟踪,2013-12-03,,是,否,,,"]


class TestSurveyImport:
    def test_baseline_and_follow_up_answers_are_recorded_and_counted(self, bob, shijiazhuang_2013, firms):
        report = survey_importing.survey_import(user=bob, campaign=shijiazhuang_2013,
                                                upload=csv_file(SURVEY_HEADER, survey_rows(firms)))
        assert report.problems == [] and report.created == 5
        baseline = NeedsSurvey.objects.get(enterprise=firms[0], kind="baseline")
        assert sorted(baseline.services_wanted.values_list("code", flat=True)) == [2, 8]
        kpis.compute_campaign(shijiazhuang_2013.pk)
        total = KpiSnapshot.objects.get(campaign=shijiazhuang_2013, region_id="130100", period="",
                                        breakdown="").figures
        assert (total["surveys"], total["awareness_up_share"], total["performance_up_share"]) == (3, 66.67, 66.67)
        assert total["revenue_change_mean"] == 3.75 and total["output_change_mean"] == 13.0

    def test_importing_the_same_answers_again_adds_nothing(self, bob, shijiazhuang_2013, firms):
        for _ in range(2):
            report = survey_importing.survey_import(user=bob, campaign=shijiazhuang_2013,
                                                    upload=csv_file(SURVEY_HEADER, survey_rows(firms)))
        assert (report.created, report.updated) == (0, 5) and NeedsSurvey.objects.count() == 5

    def test_every_bad_row_is_reported_and_nothing_is_written(self, bob, shijiazhuang_2013, firms):
        a, b, _c = (firm.uscc for firm in firms)
        rows = [f"{a},甲,中期,2013-01-10,,,,,,",  # no such survey
                f"{a},甲,基线,2013-01-10,11,是,,,,",  # unknown area, an outcome on a baseline
                f"{b},乙,跟踪,2013-12-01,,,是,abc,,",  # awareness missing, revenue not a number
                f"{b},乙,跟踪,2999-01-01,,是,是,,,"]  # in the future
        report = survey_importing.survey_import(user=bob, campaign=shijiazhuang_2013,
                                                upload=csv_file(SURVEY_HEADER, rows))
        found = {(row["line"], row["column"]) for row in report.problem_rows()}
        assert found == {(2, "问卷类型"), (3, "需要的服务"), (3, "质量意识提高"), (4, "质量意识提高"),
                         (4, "营业收入变化(%)"), (5, "填报日期")}
        assert not NeedsSurvey.objects.exists()


class TestImportPages:
    @pytest.fixture
    def dg(self, db):
        return RegulatorFactory(username="dg", region=Region.objects.get(code="441900"))

    def test_a_regulator_imports_cases_from_the_campaign_page(self, client_for, bob, shijiazhuang_2013, firms):
        url = reverse("campaigns:import-cases", args=[shijiazhuang_2013.pk])
        client = client_for(bob)
        assert client.get(url).status_code == 200
        response = client.post(url, {"file": csv_file(CASE_HEADER, case_rows(firms))})
        assert response.status_code == 302 and AssistanceCase.objects.count() == 3

    def test_the_page_shows_the_bad_rows(self, client_for, bob, shijiazhuang_2013, firms):
        url = reverse("campaigns:import-surveys", args=[shijiazhuang_2013.pk])
        response = client_for(bob).post(url, {"file": csv_file(SURVEY_HEADER, [f"{firms[0].uscc},甲,中期,2013-01-10"])})
        assert response.status_code == 200 and 'data-testid="import-report"' in response.content.decode()
        assert not NeedsSurvey.objects.exists()

    def test_access_matrix(self, client_for, diana, dg, shijiazhuang_2013):
        url = reverse("campaigns:import-cases", args=[shijiazhuang_2013.pk])
        assert client_for(diana).get(url).status_code == 403  # a supervisor reads, never writes
        assert client_for(dg).get(url).status_code == 404  # another province's regulator
        assert client_for(None).get(url).status_code == 302
        assert client_for(dg).get(reverse("campaigns:import-cases-template")).status_code == 200
