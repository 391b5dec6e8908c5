"""PostgreSQL trigram indexes behind the registry's free-text search.

The region filter (region_id LIKE '1301%') and the credit-code prefix search already have
Django's varchar_pattern_ops "_like" indexes. The name and title searches are case-insensitive
substring matches (UPPER(name) LIKE '%...%'), served by trigram GIN indexes on the same
expression. SQLite (the embedded default) skips them.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS enterprise_name_trgm_idx ON enterprises_enterprise USING gin (UPPER(name) gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS need_title_trgm_idx ON enterprises_needrequest USING gin (UPPER(title) gin_trgm_ops)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS need_title_trgm_idx",
    "DROP INDEX IF EXISTS enterprise_name_trgm_idx",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0001_initial")]

    operations = [migrations.RunPython(run(FORWARD), run(BACKWARD))]
