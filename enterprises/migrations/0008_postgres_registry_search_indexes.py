"""PostgreSQL indexes behind the registry search on search_text (enterprises/search.py).

A trigram GIN index serves words of three characters or more (LIKE '%word%'); pg_trgm cannot
index shorter ones, and most Chinese words are two characters, so a second GIN index on the
text's distinct character pairs, stored in search_pairs, serves those.
The old trigram index on UPPER(name) is no longer read. Extended statistics tell the planner that
the region level columns depend on each other. SQLite (the embedded default) skips this.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FORWARD = [
    "CREATE INDEX IF NOT EXISTS enterprise_search_trgm_idx ON enterprises_enterprise "
    "USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS enterprise_search_pairs_idx ON enterprises_enterprise "
    "USING gin (string_to_array(search_pairs, ' '))",
    "DROP INDEX IF EXISTS enterprise_name_trgm_idx",
    # A city code implies its province, a county its city: without this the planner multiplies
    # their selectivities and expects a city's firms to be a fraction of what they are (the
    # list's "约 N" is that estimate).
    "CREATE STATISTICS IF NOT EXISTS enterprise_region_levels (dependencies) "
    "ON province_code, city_code, region_id FROM enterprises_enterprise",
]
BACKWARD = [
    "DROP STATISTICS IF EXISTS enterprise_region_levels",
    "CREATE INDEX IF NOT EXISTS enterprise_name_trgm_idx ON enterprises_enterprise USING gin (UPPER(name) gin_trgm_ops)",
    "DROP INDEX IF EXISTS enterprise_search_pairs_idx",
    "DROP INDEX IF EXISTS enterprise_search_trgm_idx",
]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class KeptTrigramExtension(TrigramExtension):
    """pg_trgm (PostgreSQL only), left in place when this migration is reversed: 0002 uses it too."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0007_registry_search_and_sort_columns")]

    operations = [KeptTrigramExtension(), migrations.RunPython(run(FORWARD), run(BACKWARD))]
