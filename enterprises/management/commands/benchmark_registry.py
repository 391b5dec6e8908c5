"""Measure the registry at scale on PostgreSQL: list pages, filters, search, and bulk import.

    DATABASE_URL=postgres://... python manage.py benchmark_registry --enterprises 100000 --import-rows 100000

It adds N synthetic firms (valid credit codes in real Hebei, Guangdong and Anhui counties,
certifications on ~10%, open needs on ~5%) to the configured database, then:

1. requests the registry page (enterprises:list, per_page 25/100) and the API
   (api:enterprise-list, page_size 25/100) as a city regulator and as a province supervisor,
   with no filter, each filter, and a search by name fragment and by code prefix: median wall
   time of --runs requests and the query count at both page sizes;
2. runs EXPLAIN (ANALYZE) on the registry page's own queries for each filter and prints the
   indexes the plans use;
3. writes a CSV and an XLSX of --import-rows rows and times the upload check, the validation
   and the import of each through the services the Celery task calls (a first import that
   creates, a second that updates), watching from a second connection that progress is saved
   as it goes.

Everything it created is deleted at the end unless --keep is given.
"""

import random
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import translation

from enterprises.benchmark import USER_PREFIX, RegistryMeasures
from portal.benchmarking import BenchmarkCommand


class Command(RegistryMeasures, BenchmarkCommand):
    help = "Benchmark the registry list, filters, search and bulk import at scale (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--enterprises", type=int, default=100_000, help="synthetic firms to add (100000)")
        parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the import files (100000)")
        parser.add_argument("--runs", type=int, default=5, help="timed requests per measurement (5)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--keep", action="store_true", help="leave the synthetic data in the database")
        parser.add_argument("--skip-registry", action="store_true", help="only measure the import")
        parser.add_argument("--skip-import", action="store_true", help="only measure the registry")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"benchmark_registry measures PostgreSQL and refuses to run on {connection.vendor}; "
                "set DATABASE_URL=postgres://..."
            )
        self.rng = random.Random(options["seed"])
        self.runs = max(options["runs"], 1)
        self.codes: set[str] = set()
        self.jobs: list[int] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="benchmark_registry_"))
        # DEBUG off: no query log growing through 100,000-row inserts. "testserver" for the Client.
        with (override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]),
              translation.override("en")):
            try:
                self.city_user, self.province_user, self.sme_user = self.make_users()
                if not options["skip_registry"]:
                    self.make_registry(options["enterprises"])
                    self.measure_pages()
                    self.explain_filters()
                    self.measure_export()
                if not options["skip_import"]:
                    self.measure_import(options["import_rows"])
            finally:
                if options["keep"]:
                    self.say(f"\nKept the synthetic data (users {USER_PREFIX}*, {len(self.codes):,} firms).")
                else:
                    self.clean_up()
