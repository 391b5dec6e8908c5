"""The snapshot and cell tables are rewritten in place by every KPI update: leave room on each page
so an updated row stays on its page (a heap-only update, no new index entries), and have autovacuum
visit these small, busy tables after a few per cent of their rows changed rather than a fifth."""

from django.db import migrations

TABLES = ("campaigns_kpisnapshot", "campaigns_kpicell", "campaigns_kpistate")
SETTINGS = "fillfactor = 70, autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.05"
DEFAULTS = "fillfactor, autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor"


def set_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET ({SETTINGS})")


def reset_storage(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} RESET ({DEFAULTS})")


class Migration(migrations.Migration):

    dependencies = [
        ("campaigns", "0005_kpi_cells_and_measures"),
    ]

    operations = [
        migrations.RunPython(set_storage, reset_storage),
    ]
