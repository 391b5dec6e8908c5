"""A campaign's case and survey imports as background jobs, through the API and, for a long list,
the page: a job with its id, its status, progress and bad-row report; a worker that died is run
again by the sweeper and importing again adds nothing.

On the embedded default the job runs in this process once its row is committed; the tests commit
through django_capture_on_commit_callbacks. Personas: bob and bianca regulate Shijiazhuang,
charlie Tangshan, diana supervises Hebei read-only.
"""

import datetime

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from campaigns import import_jobs
from campaigns.cases.models import AssistanceCase, Visit
from campaigns.models import RecordsImportJob
from campaigns.tasks import records_imports_sweep
from enterprises.models import NeedsSurvey
from portal.models import Region
from tests.factories import CampaignFactory, EnterpriseFactory
from tests.test_campaign_imports import CASE_HEADER, SURVEY_HEADER, case_rows, csv_file, survey_rows

pytestmark = pytest.mark.django_db
Status = RecordsImportJob.Status


@pytest.fixture
def campaign(db):
    return CampaignFactory(name="石家庄一对一帮扶", region=Region.objects.get(code="130100"),
                           starts_on=datetime.date(2013, 1, 1), ends_on=datetime.date(2013, 12, 31))


@pytest.fixture
def firms(db):
    return [EnterpriseFactory(region=Region.objects.get(code="130102"), name=f"石家庄企业{n}") for n in range(3)]


def imports_url(campaign) -> str:
    return reverse("api:campaign-imports", kwargs={"pk": campaign.pk})


def job_url(campaign, job_id) -> str:
    return reverse("api:campaign-import", kwargs={"pk": campaign.pk, "job_id": job_id})


def post(client, campaign, kind, upload, captured, **headers):
    with captured(execute=True):
        return client.post(imports_url(campaign), {"kind": kind, "file": upload}, format="multipart", **headers)


# --- the API -------------------------------------------------------------------------------------


def test_a_case_list_posted_to_the_api_becomes_a_job_that_records_it(
        api, bob, campaign, firms, django_capture_on_commit_callbacks):
    response = post(api(bob), campaign, "cases", csv_file(CASE_HEADER, case_rows(firms)),
                    django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    body = api(bob).get(job_url(campaign, job_id)).json()
    assert (body["status"], body["total_rows"], body["processed_rows"]) == ("done", 4, 4)
    assert body["counts"] == {"cases_created": 3, "cases_kept": 0, "visits_created": 3}
    assert body["problems"] == [] and body["uploaded_by"] == str(bob)
    assert AssistanceCase.objects.filter(campaign=campaign).count() == 3


def test_a_survey_list_is_imported_the_same_way(api, bob, campaign, firms, django_capture_on_commit_callbacks):
    response = post(api(bob), campaign, "surveys", csv_file(SURVEY_HEADER, survey_rows(firms)),
                    django_capture_on_commit_callbacks)
    body = api(bob).get(job_url(campaign, response.json()["id"])).json()
    assert (body["status"], body["counts"]) == ("done", {"created": 5, "updated": 0})
    assert NeedsSurvey.objects.filter(campaign=campaign).count() == 5


def test_a_bad_row_leaves_nothing_recorded_and_the_job_reports_it_by_line_and_column(
        api, bob, campaign, firms, django_capture_on_commit_callbacks):
    rows = case_rows(firms)
    rows[2] = rows[2].replace("2013/5/20", "2014-05-20")  # after the campaign ended
    response = post(api(bob), campaign, "cases", csv_file(CASE_HEADER, rows), django_capture_on_commit_callbacks)
    body = api(bob).get(job_url(campaign, response.json()["id"])).json()
    assert (body["status"], body["error_count"], body["bad_rows"]) == ("invalid", 1, 1)
    assert [(p["line"], p["column"]) for p in body["problems"]] == [(4, "走访日期")]
    assert "2013" in body["problems"][0]["message"]  # names the campaign's period, in words
    assert not AssistanceCase.objects.filter(campaign=campaign).exists()


@pytest.mark.parametrize(("upload", "field"), [
    (lambda: csv_file("名称\n", ["甲"]), "file"),  # no credit-code column
    (lambda: csv_file(CASE_HEADER, [], name="empty.csv"), "file"),
    (lambda: csv_file(CASE_HEADER, ["x"], name="list.txt"), "file"),
])
def test_a_file_of_the_wrong_shape_is_refused_at_once_on_its_field(api, bob, campaign, upload, field,
                                                                   django_capture_on_commit_callbacks):
    response = post(api(bob), campaign, "cases", upload(), django_capture_on_commit_callbacks)
    assert response.status_code == 400 and field in response.json()
    assert not RecordsImportJob.objects.exists()


def test_bad_input_is_refused_per_field(api, admin_user, bob, campaign, firms, django_capture_on_commit_callbacks):
    client = api(bob)
    response = client.post(imports_url(campaign), {"kind": "experts", "file": csv_file(CASE_HEADER, ["x"])},
                           format="multipart")
    assert response.status_code == 400 and "kind" in response.json()
    response = client.post(imports_url(campaign), {"kind": "cases"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    # An administrator names the lead regulator of imported cases, and it must be one.
    response = post(api(admin_user), campaign, "cases", csv_file(CASE_HEADER, case_rows(firms)),
                    django_capture_on_commit_callbacks)
    assert response.status_code == 400 and "lead" in response.json()
    response = api(admin_user).post(imports_url(campaign), {"kind": "cases", "lead": 2**40,
                                                            "file": csv_file(CASE_HEADER, case_rows(firms))},
                                    format="multipart")
    assert response.status_code == 400 and "lead" in response.json()
    assert not RecordsImportJob.objects.exists()


def test_an_idempotency_key_makes_one_job(api, bob, campaign, firms, django_capture_on_commit_callbacks):
    client = api(bob)
    first = post(client, campaign, "cases", csv_file(CASE_HEADER, case_rows(firms)),
                 django_capture_on_commit_callbacks, HTTP_IDEMPOTENCY_KEY="import-2013-cases")
    again = post(client, campaign, "cases", csv_file(CASE_HEADER, case_rows(firms)),
                 django_capture_on_commit_callbacks, HTTP_IDEMPOTENCY_KEY="import-2013-cases")
    assert first.status_code == again.status_code == 202
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert RecordsImportJob.objects.count() == 1


@pytest.mark.parametrize(("who", "post_code", "get_code"), [
    ("bob", 202, 200), ("bianca", 202, 200), ("charlie", 404, 404), ("diana", 403, 403), ("alice", 403, 403),
    ("anonymous", 403, 403)])
def test_who_may_import_and_follow_a_job(api, persona, bob, campaign, firms, who, post_code, get_code,
                                         django_capture_on_commit_callbacks):
    job = post(api(bob), campaign, "cases", csv_file(CASE_HEADER, case_rows(firms)),
               django_capture_on_commit_callbacks).json()
    client = api(persona(who))
    assert client.get(job_url(campaign, job["id"])).status_code == get_code
    response = post(client, campaign, "surveys", csv_file(SURVEY_HEADER, survey_rows(firms)),
                    django_capture_on_commit_callbacks)
    assert response.status_code == post_code
    assert RecordsImportJob.objects.count() == (2 if post_code == 202 else 1)


def test_a_regulator_of_another_office_does_not_follow_the_job_of_a_campaign_it_sees(
        api, bob, charlie, firms, django_capture_on_commit_callbacks):
    hebei = CampaignFactory(name="河北省质量提升行动")
    job = post(api(bob), hebei, "cases", csv_file(CASE_HEADER, [f"{firms[0].uscc},甲,{timezone.localdate()}"]),
               django_capture_on_commit_callbacks).json()
    assert api(charlie).get(job_url(hebei, job["id"])).status_code == 404
    assert api(charlie).get(imports_url(hebei)).json() == []
    assert [row["id"] for row in api(bob).get(imports_url(hebei)).json()] == [job["id"]]
    assert api(bob).get(job_url(hebei, 2**70)).status_code == 404  # past any id, not a 500


# --- a worker that died -----------------------------------------------------------------------------


def stale(job: RecordsImportJob, status: str) -> None:
    RecordsImportJob.objects.filter(pk=job.pk).update(
        status=status, updated_at=timezone.now() - datetime.timedelta(seconds=600))


def test_a_job_whose_worker_died_before_writing_is_run_again_by_the_sweeper(bob, campaign, firms,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the worker never got the message
        job = import_jobs.records_import_job_create(user=bob, campaign=campaign, kind="cases",
                                                    upload=csv_file(CASE_HEADER, case_rows(firms)))
    stale(job, Status.VALIDATING)
    assert records_imports_sweep() == 1
    job.refresh_from_db()
    assert (job.status, job.counts["cases_created"], job.runs) == (Status.DONE, 3, 1)
    assert records_imports_sweep() == 0  # done: nothing left to sweep


def test_a_job_that_died_after_its_write_is_rerun_and_adds_nothing(bob, campaign, firms,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.records_import_job_create(user=bob, campaign=campaign, kind="cases",
                                                    upload=csv_file(CASE_HEADER, case_rows(firms)))
    cases, visits = AssistanceCase.objects.count(), Visit.objects.count()
    stale(job, Status.IMPORTING)  # as if the worker died between the write and recording it
    assert records_imports_sweep() == 1
    job.refresh_from_db()
    assert job.status == Status.DONE and job.counts == {"cases_created": 0, "cases_kept": 3, "visits_created": 0}
    assert (AssistanceCase.objects.count(), Visit.objects.count()) == (cases, visits) == (3, 3)


def test_a_finished_job_run_twice_changes_nothing(bob, campaign, firms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.records_import_job_create(user=bob, campaign=campaign, kind="cases",
                                                    upload=csv_file(CASE_HEADER, case_rows(firms)))
    import_jobs.records_import_process(job_id=job.pk)
    job.refresh_from_db()
    assert (job.runs, job.counts["cases_created"]) == (1, 3)


# --- the page ------------------------------------------------------------------------------------


def test_a_long_list_on_the_page_runs_as_a_job_whose_page_shows_the_outcome(
        client_for, settings, bob, campaign, firms, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(import_jobs, "BACKGROUND_ROWS", 2)
    client = client_for(bob)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:import-cases", args=[campaign.pk]),
                               {"file": csv_file(CASE_HEADER, case_rows(firms))})
    job = RecordsImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:import-job", args=[campaign.pk, job.pk])
    html = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-status">Imported<' in html and 'data-testid="cases-created">3<' in html


def test_the_job_page_shows_progress_while_it_runs_and_the_bad_rows_after(client_for, settings, bob, bianca,
                                                                        charlie, diana, campaign, firms):
    job = RecordsImportJob.objects.create(campaign=campaign, kind="cases", uploaded_by=bob, region=bob.region,
                                          file="imports/x.csv", original_name="2013年帮扶.csv", total_rows=14267,
                                          status=Status.VALIDATING)
    client = client_for(bianca)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    progress = client.get(reverse("campaigns:import-job-progress", args=[campaign.pk, job.pk]))
    assert "0 of about 14,267 read" in progress.content.decode() and 'hx-trigger="every 2s"' in (
        progress.content.decode())
    RecordsImportJob.objects.filter(pk=job.pk).update(
        status=Status.INVALID, error_count=1,
        errors=[{"line": 7, "column": "立案日期", "code": "date_invalid", "params": {"value": "去年"}}])
    html = client.get(reverse("campaigns:import-job", args=[campaign.pk, job.pk])).content.decode()
    assert "去年 is not a date" in html and "<td>7</td>" in html and "every 2s" not in html
    assert client_for(charlie).get(reverse("campaigns:import-job", args=[campaign.pk, job.pk])).status_code == 404
    assert client_for(diana).get(reverse("campaigns:import-job", args=[campaign.pk, job.pk])).status_code == 403
    anonymous = client_for(None).get(reverse("campaigns:import-job", args=[campaign.pk, job.pk]))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


def test_a_short_list_is_still_checked_and_recorded_while_the_uploader_waits(client_for, bob, campaign, firms):
    response = client_for(bob).post(reverse("campaigns:import-cases", args=[campaign.pk]),
                                    {"file": csv_file(CASE_HEADER, case_rows(firms))})
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert not RecordsImportJob.objects.exists() and AssistanceCase.objects.count() == 3


@override_settings(IMPORT_STALE_SECONDS=90)
def test_a_running_job_with_recent_progress_is_left_alone(bob, campaign, firms, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        import_jobs.records_import_job_create(user=bob, campaign=campaign, kind="cases",
                                              upload=csv_file(CASE_HEADER, case_rows(firms)))
    assert records_imports_sweep() == 0


@pytest.mark.parametrize("count", [2, 8])
def test_the_job_list_costs_the_same_whatever_its_length(api, bob, campaign, count, django_assert_num_queries):
    for n in range(count):
        RecordsImportJob.objects.create(campaign=campaign, kind="cases", uploaded_by=bob, region=bob.region,
                                        file=f"imports/{n}.csv", original_name=f"{n}.csv", status=Status.DONE)
    client = api(bob)
    client.get(imports_url(campaign))  # warms the content-type and permission caches
    # The campaign (with its figures), then the jobs with their uploaders and leads joined.
    with django_assert_num_queries(2):
        response = client.get(imports_url(campaign))
    assert len(response.json()) == count


def test_the_job_says_how_many_rows_it_has_read_while_it_checks(bob, campaign, firms, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    from campaigns.cases import importing as case_importing
    from portal.imports import report

    monkeypatch.setattr(report, "PROGRESS_EVERY", 2)
    seen = []
    check = case_importing.CaseChecker.check

    def watched(self, rows):
        seen.append(RecordsImportJob.objects.values_list("status", "processed_rows", "total_rows").get())
        return check(self, rows)

    monkeypatch.setattr(case_importing.CaseChecker, "check", watched)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.records_import_job_create(user=bob, campaign=campaign, kind="cases",
                                                    upload=csv_file(CASE_HEADER, case_rows(firms)))
    # Read in full (every second row told), checking, nothing recorded yet; then done.
    assert seen == [(Status.VALIDATING, 4, 4)]
    job.refresh_from_db()
    assert (job.status, job.processed_rows) == (Status.DONE, 4)


def test_an_unexpected_error_marks_the_job_failed_with_nothing_recorded(api, bob, campaign, firms, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    from campaigns.cases import importing as case_importing

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(case_importing, "write_cases", broken)
    response = post(api(bob), campaign, "cases", csv_file(CASE_HEADER, case_rows(firms)),
                    django_capture_on_commit_callbacks)
    body = api(bob).get(job_url(campaign, response.json()["id"])).json()
    assert body["status"] == "failed" and "nothing was recorded" in body["failure"]["file"][0]
    assert not AssistanceCase.objects.exists()
    assert records_imports_sweep() == 0  # not run again and again


def test_the_campaign_page_lists_the_offices_latest_imports(client_for, bob, bianca, charlie, diana, firms,
                                                           django_capture_on_commit_callbacks):
    hebei = CampaignFactory(name="河北省质量提升行动")
    with django_capture_on_commit_callbacks(execute=True):
        job = import_jobs.records_import_job_create(user=bob, campaign=hebei, kind="cases",
                                                    upload=csv_file(CASE_HEADER, case_rows(firms)[:1], name="补录.csv"))
    link = reverse("campaigns:import-job", args=[hebei.pk, job.pk])
    for who, sees in ((bob, True), (bianca, True), (charlie, False), (diana, False)):
        html = client_for(who).get(reverse("campaigns:detail", args=[hebei.pk])).content.decode()
        assert (link in html) is sees, who
