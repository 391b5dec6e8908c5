"""Measure the registry at a province's size on PostgreSQL: every filter, sort and search of the
list page and the API served by gunicorn to concurrent clients, the exports, and bulk import.

    DATABASE_URL=postgres://.../portal_registry_bench python manage.py benchmark_registry \\
        --enterprises 1000000 --import-rows 100000 --keep
    ... benchmark_registry --enterprises 1000000 --reuse --keep --skip-import   # measure again

It adds N synthetic firms with COPY (valid credit codes in real Hebei, Guangdong and Anhui
counties, a quarter in Shijiazhuang, certifications on ~10%, open needs on ~5%), or with --reuse
keeps those an earlier --keep run left, then:

1. serves the portal with gunicorn (2 workers, production settings) and requests, from 4
   concurrent clients, the registry page and /api/enterprises/ at page sizes 25 and 100 as the
   Hebei supervisor and the Shijiazhuang regulator, with no filter, each sort, the region at every
   level, industry, size, each flag, certification held, has open needs, each form of search and a
   deep page: p50, p95, requests per second, the query count (in-process, at 25 and 100 rows)
   and the p95 against /api/me/'s on the same server in the same run;
2. EXPLAIN (ANALYZE) of the page's queries for each filter (the indexes the plans use);
3. exports the Hebei registry as CSV and XLSX through the export view, each in a process of its
   own: time, size and peak RSS;
4. writes a CSV of --import-rows rows and an XLSX of at most 150,000 (a larger workbook exceeds
   the workbook bounds) and times the upload check, the validation and the import of each, twice
   (creating, then updating every firm), through the services the Celery task calls, each in a
   process of its own: time, queries and peak RSS.

Everything it created is deleted at the end unless --keep is given.
"""

import argparse
import random
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import translation

from enterprises.benchmark import USER_PREFIX, RegistryMeasures
from enterprises.models import Enterprise
from portal.benchmarking import BenchmarkCommand


class Command(RegistryMeasures, BenchmarkCommand):
    help = "Benchmark the registry list, filters, search, export and bulk import at scale (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--enterprises", type=int, default=1_000_000, help="synthetic firms (1000000)")
        parser.add_argument("--reuse", action="store_true",
                            help="keep the synthetic firms an earlier --keep run left, if there are enough")
        parser.add_argument("--build-only", action="store_true",
                            help="build (or reuse) the synthetic registry, keep it and stop")
        parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the import files (100000)")
        parser.add_argument("--requests", type=int, default=40, help="requests per served measurement (40)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--keep", action="store_true", help="leave the synthetic data in the database")
        parser.add_argument("--no-serve", action="store_true",
                            help="no gunicorn and no separate export process (data not committed, as in a test)")
        parser.add_argument("--skip-registry", action="store_true", help="only measure the import")
        parser.add_argument("--skip-import", action="store_true", help="only measure the registry")
        parser.add_argument("--skip-export", action="store_true", help="leave out the exports")
        # The export measurement runs itself in a process of its own with this (not for people).
        parser.add_argument("--export-only", choices=["csv", "xlsx"], help=argparse.SUPPRESS)
        # And the import measurement each import, with the file and "run|expected|rows".
        parser.add_argument("--import-only", help=argparse.SUPPRESS)
        parser.add_argument("--import-run", help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"benchmark_registry measures PostgreSQL and refuses to run on {connection.vendor}; "
                "set DATABASE_URL=postgres://..."
            )
        self.rng = random.Random(options["seed"])
        self.codes: set[str] = set()
        self.import_codes: set[str] = set()
        self.jobs: list[int] = []
        # DEBUG off: no query log growing through a million rows. "testserver" for the Client.
        with (override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]),
              translation.override("en")):
            if options["export_only"]:
                self.city_user, self.province_user, self.sme_user = self.make_users()
                rows = Enterprise.objects.count()
                self.export_once(options["export_only"], rows)
                return
            if options["import_only"]:
                self.city_user, self.province_user, self.sme_user = self.make_users()
                self.jobs = []
                run, expect, rows = options["import_run"].split("|")
                self.import_once(Path(options["import_only"]), int(rows), run, expect)
                return
            self.workdir = Path(tempfile.mkdtemp(prefix="benchmark_registry_"))
            self.describe_machine()
            try:
                self.city_user, self.province_user, self.sme_user = self.make_users()
                if not options["skip_registry"]:
                    self.make_registry(options["enterprises"], reuse=options["reuse"])
                    if options["build_only"]:
                        options["keep"] = True
                        return
                    if not options["no_serve"]:
                        self.measure_served(requests=max(options["requests"], 4), sizes=(25, 100))
                    self.explain_filters()
                    if not options["skip_export"]:
                        self.measure_export(separate_process=not options["no_serve"])
                if not options["skip_import"]:
                    self.measure_import(options["import_rows"], separate_process=not options["no_serve"])
                self.say()
                self.describe_machine()
            finally:
                if options["keep"]:
                    self.say(f"\nKept the synthetic data (users {USER_PREFIX}*, firms with the benchmark's "
                             "contact e-mail).")
                else:
                    # With --skip-registry the synthetic registry was not this run's to remove.
                    self.clean_up(registry=not options["skip_registry"])

