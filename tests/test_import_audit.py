"""The enterprise import leaves an audit entry for every firm it creates or changes, batch by batch."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from enterprises import importing
from enterprises.models import Enterprise, ImportJob
from portal.audit import audit_entries_for
from portal.models import AuditEntry, Industry, Region
from tests.factories import EnterpriseFactory
from tests.test_enterprise_import_export import csv_bytes, firm_row

pytestmark = pytest.mark.django_db


def run_import(user, rows: list[dict], *, batch_size: int = importing.BATCH_SIZE, **options) -> ImportJob:
    job = importing.import_job_create(user=user, upload=SimpleUploadedFile("名录.csv", csv_bytes(rows, **options)),
                                      enqueue=False)
    importing.import_job_process(job_id=job.pk, batch_size=batch_size)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, (job.failure, job.errors)
    return job


def import_entries(firm: Enterprise) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Enterprise),
                                          object_id=str(firm.pk), action=AuditEntry.Action.IMPORT).order_by("id"))


def test_a_created_firm_leaves_an_import_entry_with_its_new_values_by_the_uploader(bob):
    row = firm_row()
    job = run_import(bob, [row])
    firm = Enterprise.objects.get(uscc=row["uscc"])
    [entry] = import_entries(firm)
    assert (entry.actor, entry.region_code, entry.object_repr) == (bob, "130102", "石家庄恒泰食品有限公司")
    assert str(job.pk) in entry.note and "名录.csv" in entry.note
    assert entry.changes == {
        "uscc": [None, row["uscc"]], "name": [None, "石家庄恒泰食品有限公司"],
        "region": [None, Region.objects.get(code="130102").name],
        "industry": [None, str(Industry.objects.get(code="13"))],
        "size": [None, "small"], "employees": [None, 35], "annual_revenue": [None, "1200.50"],
        "is_key": [None, True], "in_industrial_park": [None, True],  # unticked boxes are left out
        "contact_name": [None, "王芳"], "contact_phone": [None, "13900000000"],
        "contact_email": [None, "wangfang@example.cn"], "address": [None, "石家庄市长安区建设路12号"],
    }


def test_an_updated_firm_leaves_the_old_and_new_values_of_the_changed_fields_only(bob, bianca):
    row = firm_row()
    run_import(bob, [row])
    run_import(bianca, [{**row, "name": "石家庄恒泰食品股份有限公司", "employees": "40", "is_key": "否"}])
    created, updated = import_entries(Enterprise.objects.get(uscc=row["uscc"]))
    assert updated.actor == bianca and updated.region_code == "130102"
    assert updated.changes == {"name": ["石家庄恒泰食品有限公司", "石家庄恒泰食品股份有限公司"],
                               "employees": [35, 40], "is_key": [True, False]}
    assert updated.object_repr == "石家庄恒泰食品股份有限公司"


def test_reimporting_unchanged_rows_leaves_no_entry(bob):
    rows = [firm_row(), firm_row(name="石家庄华兴机械有限公司", industry="34")]
    run_import(bob, rows)
    before = AuditEntry.objects.count()
    job = run_import(bob, rows)
    assert job.updated_count == 2
    assert AuditEntry.objects.count() == before


def test_columns_missing_from_the_file_are_neither_changed_nor_recorded(bob):
    row = firm_row()
    run_import(bob, [row])
    run_import(bob, [{**row, "name": "新名称有限公司"}], keys=["uscc", "name", "industry", "size"])
    updated = import_entries(Enterprise.objects.get(uscc=row["uscc"]))[-1]
    assert updated.changes == {"name": ["石家庄恒泰食品有限公司", "新名称有限公司"]}


def test_a_firm_moved_to_another_county_is_recorded_under_both_regions(bob):
    row = firm_row()
    run_import(bob, [row])
    run_import(bob, [{**row, "region": "130104"}])
    firm = Enterprise.objects.get(uscc=row["uscc"])
    moves = import_entries(firm)[1:]
    names = dict(Region.objects.filter(code__in=["130102", "130104"]).values_list("code", "name"))
    assert sorted(entry.region_code for entry in moves) == ["130102", "130104"]
    assert all(entry.changes == {"region": [names["130102"], names["130104"]]} for entry in moves)


def test_a_firm_registered_by_hand_after_the_check_is_recorded_as_updated(bob):
    row = firm_row()
    job = importing.import_job_create(user=bob, upload=SimpleUploadedFile("a.csv", csv_bytes([row])), enqueue=False)
    importing.import_job_validate(job_id=job.pk)
    firm = EnterpriseFactory(uscc=row["uscc"], name="手工登记的企业")
    importing.import_job_import(job_id=job.pk)
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (0, 1)
    [entry] = import_entries(firm)
    assert entry.changes["name"] == ["手工登记的企业", "石家庄恒泰食品有限公司"]
    assert "uscc" not in entry.changes


def test_the_entries_are_read_within_the_jurisdiction_only(bob, charlie, diana):
    row = firm_row()
    run_import(bob, [row])
    firm = Enterprise.objects.get(uscc=row["uscc"])
    assert audit_entries_for(diana, firm).filter(action="import").count() == 1
    assert not audit_entries_for(charlie, firm).exists()


def test_a_resumed_import_records_each_firm_once(bob, monkeypatch):
    rows = [firm_row() for _ in range(5)]
    job = importing.import_job_create(user=bob, upload=SimpleUploadedFile("a.csv", csv_bytes(rows)), enqueue=False)
    real_upsert = importing.upsert
    calls = []

    def flaky_upsert(batch, *args):
        calls.append(len(batch))
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_upsert(batch, *args)

    monkeypatch.setattr(importing, "upsert", flaky_upsert)
    with pytest.raises(OperationalError):
        importing.import_job_process(job_id=job.pk, batch_size=2)
    assert AuditEntry.objects.filter(action="import").count() == 2  # the committed first batch only

    monkeypatch.setattr(importing, "upsert", real_upsert)
    importing.import_job_process(job_id=job.pk, batch_size=2)
    importing.import_job_process(job_id=job.pk, batch_size=2)  # and a duplicate run of the task
    for row in rows:
        assert len(import_entries(Enterprise.objects.get(uscc=row["uscc"]))) == 1, row["uscc"]


@pytest.mark.parametrize("rows", [5, 42])
def test_the_audit_costs_the_same_queries_per_batch_whatever_its_size(bob, django_assert_num_queries, rows):
    # Half the rows already registered (with another name, so they change), half new: one batch.
    known = [firm_row() for _ in range(rows // 2)]
    run_import(bob, known)
    batch = [{**row, "name": "改名后的企业有限公司"} for row in known] + [firm_row() for _ in range(rows - rows // 2)]
    job = importing.import_job_create(user=bob, upload=SimpleUploadedFile("a.csv", csv_bytes(batch)), enqueue=False)
    importing.import_job_validate(job_id=job.pk)
    ContentType.objects.get_for_model(Enterprise)  # cached once per process, as in the worker
    # The job, region codes, industry codes, existing codes of the batch, savepoint, job locked,
    # the batch's registered firms read and locked, INSERT ... ON CONFLICT, audit entries INSERT,
    # counters saved, savepoint released, job done with the uploader's notification in its own transaction
    # (savepoint, job done, the job with its uploader, savepoint, the notification, their preferences,
    # release twice): 19 for 5 rows as for 42 (SQLite splits an INSERT only past 999 // 23 = 43 firms
    # or 111 entries; PostgreSQL never does: it COPYs the entries, and adds the batch's SET LOCAL, the
    # temporary table emptied and filled by COPY before the INSERT, and the search indexes' merge of
    # their pending lists at the end).
    with django_assert_num_queries(19 + (4 if connection.vendor == "postgresql" else 0)):
        importing.import_job_import(job_id=job.pk)
    assert AuditEntry.objects.filter(action="import").count() == len(known) + rows


def test_each_extra_batch_adds_two_queries_for_the_audit(bob):
    counts = []
    for batches in (1, 3):
        job = importing.import_job_create(
            user=bob, upload=SimpleUploadedFile("a.csv", csv_bytes([firm_row() for _ in range(batches * 5)])),
            enqueue=False)
        importing.import_job_validate(job_id=job.pk, batch_size=5)
        with CaptureQueriesContext(connection) as queries:
            importing.import_job_import(job_id=job.pk, batch_size=5)
        counts.append(len(queries))
    # Per extra batch: existing codes, savepoint, lock, registered firms read, INSERT, audit INSERT,
    # counters, release (and on PostgreSQL the SET LOCAL relaxing the batch's commit and the
    # temporary table emptied and filled by COPY; the audit entries go in by COPY instead of INSERT).
    assert counts[1] - counts[0] == 2 * (8 + (3 if connection.vendor == "postgresql" else 0))


def test_text_with_backslashes_tabs_and_line_breaks_arrives_as_written_with_its_audit_entry(bob):
    # On PostgreSQL the batch and its audit entries travel as COPY text, where a backslash, a tab or
    # a line break would otherwise be read as an escape, a column break or a row break.
    row = firm_row(name="恒泰\\食品\t有限公司", address="建设路12号\n二楼\\B座", contact_name="王\\芳")
    run_import(bob, [row])

    firm = Enterprise.objects.get(uscc=row["uscc"])
    entry, = import_entries(firm)
    assert (firm.name, firm.contact_name) == ("恒泰\\食品\t有限公司", "王\\芳")
    assert firm.address == "建设路12号\n二楼\\B座"
    assert entry.object_repr == firm.name
    assert entry.changes["name"] == [None, "恒泰\\食品\t有限公司"]
    assert entry.changes["address"] == [None, "建设路12号\n二楼\\B座"]
