"""Measure cases, visits and expert matching at scale on PostgreSQL.

    DATABASE_URL=postgres://... python manage.py benchmark_cases --experts 10000 --cases 100000

It adds a synthetic Hebei campaign to the configured database: N experts in the pools of Hebei's
cities and province (specialties, regions served at county, city or province level, capacities
2-5), firms for the cases, and M cases over them (about 20% still open, so experts carry a
realistic load), each with --visits-per-case visits, one or two experts (active while the case is
open) and a rating on most closed cases. Then, as a city regulator (石家庄) and as the province
supervisor (河北):

1. the case and visit lists, page and API (cases:list, visits:list, api:case-list,
   api:visit-list) at page sizes 25 and 100: median wall time of --runs requests and the query
   count. The URLs are resolved when it runs; a list that does not exist yet is skipped with a note;
2. matching for one need as the city regulator: campaigns.cases.matching.suggest_experts (ms, queries,
   the candidates it scores), the cases:need-experts page and the api:need-suggestions endpoint;
3. with --explain, EXPLAIN (ANALYZE, BUFFERS) of the matching query.

The results are printed as a Markdown table. Everything it created is deleted at the end unless
--keep is given; --reuse measures the data a previous --keep run left instead of building anew,
and --clean removes it.
"""

import random

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import translation

from campaigns.cases.benchmark import CAMPAIGN_NAME, EXPERT_CODE_PREFIX, USER_PREFIX, CaseMeasures
from campaigns.models import Campaign
from portal.benchmarking import BenchmarkCommand


class Command(CaseMeasures, BenchmarkCommand):
    help = "Benchmark case and visit lists and expert matching at scale (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--experts", type=int, default=10_000, help="synthetic experts to add (10000)")
        parser.add_argument("--cases", type=int, default=100_000, help="synthetic cases to add (100000)")
        parser.add_argument("--visits-per-case", type=int, default=3, help="visits on each case (3)")
        parser.add_argument("--runs", type=int, default=5, help="timed requests per measurement (5)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the matching query")
        parser.add_argument("--keep", action="store_true", help="leave the synthetic data in the database")
        parser.add_argument("--reuse", action="store_true", help="measure the data a --keep run left")
        parser.add_argument("--clean", action="store_true", help="only remove the data a --keep run left")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                f"benchmark_cases measures PostgreSQL and refuses to run on {connection.vendor}; "
                "set DATABASE_URL=postgres://..."
            )
        if options["clean"]:
            self.clean_up()
            return
        self.rng = random.Random(options["seed"])
        self.runs = max(options["runs"], 1)
        self.results: list[tuple[str, str, str, str, str]] = []
        # DEBUG off: no query log growing through the inserts. "testserver" for the Client.
        with (override_settings(DEBUG=False, ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]),
              translation.override("en")):
            keep = options["keep"]
            try:
                self.city_user, self.province_user, self.sme_user, self.leads = self.make_users()
                existing = Campaign.objects.filter(name=CAMPAIGN_NAME).first()
                if existing is not None and options["reuse"]:
                    self.campaign = existing
                    self.say(f"Reusing the synthetic data of an earlier --keep run (campaign #{existing.pk}).")
                else:
                    if existing is not None:
                        self.clean_up()
                        self.city_user, self.province_user, self.sme_user, self.leads = self.make_users()
                    self.build(options["experts"], options["cases"], max(options["visits_per_case"], 0))
                self.need = self.make_need()
                self.measure_lists()
                self.measure_matching()
                self.print_table()
                if options["explain"]:
                    self.explain_matching()
            finally:
                if keep or options["reuse"]:
                    self.say(f"\nKept the synthetic data (users {USER_PREFIX}*, campaign {CAMPAIGN_NAME!r}, "
                             f"experts {EXPERT_CODE_PREFIX}*); --reuse measures it again.")
                else:
                    self.clean_up()
