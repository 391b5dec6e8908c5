"""Writing one checked batch of a registry import, and its audit entries (enterprises/importing.py
checks the rows; portal/imports/jobs.py runs the batches).

On PostgreSQL a batch is a few statements whatever its size: the batch's firms already registered,
read and locked; a COPY of the batch into a temporary table and one INSERT ... SELECT from it
ORDER BY name ... ON CONFLICT (uscc) DO UPDATE; a COPY of the audit entries. Values go as COPY's
text, not as placeholders: building and compiling a statement of 50,000 parameters, or quoting
arrays of 10,000 values each, cost more than the database's own work. Elsewhere (SQLite) Django's
bulk_create does both writes.
"""

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enterprises import search
from enterprises.models import DERIVED_FIELDS, Enterprise, region_path_names
from enterprises.services import AUDITED_ENTERPRISE_FIELDS
from portal import audit
from portal.copying import copy_rows
from portal.models import AuditEntry

TEXT_KEYS = ("address", "contact_name", "contact_phone")
# Every column an import writes, with the value a firm gets when its file has no such column.
WRITTEN = [field for field in Enterprise._meta.concrete_fields if not field.primary_key]
DEFAULTS = {field.attname: field.get_default() for field in WRITTEN}
# The columns stamped with the batch's time instead.
STAMPED = {field.attname for field in WRITTEN
           if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)}


def attname(name: str) -> str:
    return Enterprise._meta.get_field(name).attname


def derived(values: dict[str, Any], region_names: dict[str, str]) -> dict[str, Any]:
    """The derived columns of a firm with these values, as Enterprise.derive computes them."""
    code = values["region_id"] or ""
    text = search.search_text(
        uscc=values["uscc"], name=values["name"], address=values.get("address", ""),
        contact_name=values.get("contact_name", ""), contact_phone=values.get("contact_phone", ""),
        region_names=region_path_names(code, region_names),
    )
    return {"province_code": code[:2], "city_code": code[:4], "search_text": text, "search_pairs": search.pairs(text)}


def upsert(rows: list, update_fields: list[str], region_names: dict[str, str],
           before: dict[str, dict[str, Any]]) -> int:
    """Write one batch; returns how many firms it created. `before` holds the batch's firms already
    registered: a text column the file lacks keeps its value in the derived search text too."""
    if not rows:
        return 0
    for row in rows:
        old = before.get(row.values["uscc"])
        if old is not None:
            for key in TEXT_KEYS:
                if key not in row.values:
                    row.values[key] = old[key]
        row.values.update(derived(row.values, region_names))
    columns = [*update_fields, *DERIVED_FIELDS]
    if connection.vendor == "postgresql":
        ids = upsert_copied(rows, [attname(name) for name in columns])
    else:
        firms = Enterprise.objects.bulk_create(
            [Enterprise(**row.values) for row in rows],
            update_conflicts=True, unique_fields=["uscc"], update_fields=columns,
        )
        # SQLite (3.35+) returns the ids of inserted and updated rows alike (RETURNING).
        ids = {firm.uscc: firm.pk for firm in firms}
    for row in rows:
        row.pk = ids[row.values["uscc"]]
    return sum(1 for row in rows if not row.exists)


# A batch's firms on their way in: a temporary table of the connection, like the registry's columns.
BATCH_TABLE = "registry_import_batch"


def upsert_copied(rows: list, updated: list[str]) -> dict[str, int]:
    """COPY the batch into a temporary table, then INSERT ... SELECT from it ORDER BY name ON
    CONFLICT (uscc) DO UPDATE the columns `updated`. Returns the firms' ids by credit code.

    COPY's text format is the cheapest way in: values as tab-separated text, not SQL literals the
    driver quotes and the server parses (those took half of a batch's time). The rows go in in name
    order: the indexes sorted by name (one per jurisdiction level and sort) then take their new
    entries page after page instead of at random, and far fewer pages are read, dirtied and logged
    once a province's indexes outgrow the database's buffers."""
    now = timezone.now().isoformat()
    quote = connection.ops.quote_name
    columns = [field.attname for field in WRITTEN]
    values = [[now if name in STAMPED else row.values.get(name, DEFAULTS[name]) for name in columns] for row in rows]
    table = quote(Enterprise._meta.db_table)
    quoted = ", ".join(quote(field.column) for field in WRITTEN)
    with connection.cursor() as cursor:
        # Kept for the connection's life, emptied for each batch (a test's batches share one transaction).
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {BATCH_TABLE} AS SELECT {quoted} FROM {table} "
                       f"WITH NO DATA; TRUNCATE {BATCH_TABLE}")
        copy_rows(BATCH_TABLE, [field.column for field in WRITTEN], values)
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {quoted} FROM {BATCH_TABLE} ORDER BY {quote('name')} "
            f"ON CONFLICT ({quote('uscc')}) DO UPDATE SET "
            + ", ".join(f"{quote(name)} = EXCLUDED.{quote(name)}" for name in updated)
            + f" RETURNING {quote('uscc')}, {quote('id')}"
        )
        return dict(cursor.fetchall())


# --- The audit trail of an import ---------------------------------------------------------


def locked_registry_rows(rows: list, update_fields: list[str]) -> dict[str, dict[str, Any]]:
    """The batch's firms already in the registry, by credit code, with the values the import may
    overwrite: one query, locking those rows until the batch commits so no edit slips in between."""
    if not rows:
        return {}
    columns = ["pk", "uscc", "region_id", *TEXT_KEYS,
               *(attname(name) for name in update_fields if name != "updated_at")]
    firms = (Enterprise.objects.select_for_update().filter(uscc__in=[row.values["uscc"] for row in rows])
             .order_by().values(*dict.fromkeys(columns)))
    return {firm["uscc"]: firm for firm in firms}


def audit_entries(rows: list, before: dict[str, dict[str, Any]], update_fields: list[str], *, job,
                  checker) -> list[dict[str, Any]]:
    """One IMPORT entry per firm created (its values) or changed (old and new values of the fields
    that changed; an unchanged firm gets none), stored like the services' entries: a region or an
    industry as its text, a choice as its value, a decimal as a string.

    A firm the import moved to another region gets a second entry under its old region, as
    `enterprise_update` does, so the old jurisdiction still reads what happened to it.
    """

    def shown(name: str, value: Any) -> Any:
        if value is not None and name == "region":
            return checker.region_names.get(value, value)
        if value is not None and name == "industry":
            return checker.industry_names.get(value, value)
        return audit.json_value(value)

    source = {"job": job.pk, "file": job.original_name}
    created_note = str(_("Created by import #%(job)d (%(file)s)") % source)
    updated_note = str(_("Updated by import #%(job)d (%(file)s)") % source)
    audited = [(name, attname(name)) for name in AUDITED_ENTERPRISE_FIELDS]
    compared = [(name, attname(name)) for name in update_fields if name != "updated_at"]
    entries = []
    for row in rows:
        values = row.values
        old = before.get(values["uscc"])
        changes = {}
        if old is None:
            note = created_note
            for name, column in audited:
                value = values.get(column, DEFAULTS[column])
                if value is not False and value not in (None, ""):  # as audit.record_create leaves them out
                    changes[name] = [None, shown(name, value)]
            regions = [values["region_id"]]
        else:
            note = updated_note
            for name, column in compared:
                old_value, new_value = old[column], values.get(column, DEFAULTS[column])
                if old_value != new_value:
                    changes[name] = [shown(name, old_value), shown(name, new_value)]
            if not changes:
                continue
            regions = list(dict.fromkeys([values["region_id"], old["region_id"]]))
        for region_code in regions:
            entries.append({"object_id": str(row.pk), "object_repr": values["name"][:200],
                            "region_code": region_code, "changes": changes, "note": note})
    return entries


def write_audit_entries(entries: list[dict[str, Any]], *, actor_id: int | None) -> None:
    """The batch's IMPORT entries: one COPY on PostgreSQL, bulk_create elsewhere."""
    if not entries:
        return
    content_type = ContentType.objects.get_for_model(Enterprise)
    at = timezone.now()
    if connection.vendor != "postgresql":
        AuditEntry.objects.bulk_create(AuditEntry(
            content_type=content_type, action=AuditEntry.Action.IMPORT, actor_id=actor_id, at=at, **entry)
            for entry in entries)
        return
    columns = ["content_type_id", "action", "actor_id", "at", "object_id", "object_repr", "region_code", "changes",
               "note"]
    copy_rows(AuditEntry._meta.db_table, columns, [
        [content_type.pk, AuditEntry.Action.IMPORT, actor_id, at, entry["object_id"], entry["object_repr"],
         entry["region_code"], json.dumps(entry["changes"], ensure_ascii=False), entry["note"]]
        for entry in entries
    ])


def merge_search_pending_lists() -> None:
    """Merge the entries the registry's GIN search indexes hold in their pending lists (left by an
    import's batches, portal.imports.jobs.relaxed_commit), so searches stop reading them: one
    statement, PostgreSQL only."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_am a ON a.oid = c.relam WHERE i.indrelid = %s::regclass AND a.amname = 'gin'",
            [Enterprise._meta.db_table])
