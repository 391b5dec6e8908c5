"""Measure the daily reminder job over many open cases on PostgreSQL.

    DATABASE_URL=postgres://... python manage.py benchmark_reminders --cases 100000

It adds a synthetic Hebei campaign: one lead regulator per city (with an email address, a tenth
of them reading English), one firm per open case, N open cases (a tenth with a follow-up due
tomorrow, a fifth overdue, a fifth without a visit for 30 days, the rest up to date) and N/10
cases closed 7 to 20 days ago and not rated, whose firms' SME accounts are reminded to rate. Then
it runs the reminder job (campaigns.cases.reminders.reminders_send) twice on the same day and
prints, for each run, its time, the number of SQL statements and what it wrote: the statements do
not depend on N, and the second run writes nothing. Everything it added is removed at the end
unless --keep is given (--clean removes a kept run).
"""

import random
import time
from datetime import timedelta

from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.cases.models import AssistanceCase
from campaigns.cases.reminders import reminders_send
from campaigns.models import Campaign
from enterprises.models import Enterprise
from enterprises.uscc import generate_uscc
from portal.benchmarking import BenchmarkCommand, remove_accounts
from portal.models import OutboxEntry, Region, User
from portal.notifications.models import Delivery, Notification
from portal.notifications.services import TOPIC as NOTIFICATIONS_TOPIC

USER_PREFIX = "benchmark_reminders_"
CAMPAIGN_NAME = "benchmark_reminders 河北省一对一帮扶（合成数据）"
FIRM_MARK = "benchmark_reminders synthetic firm"
PROVINCE = "130000"
CHUNK = 5_000
Status = AssistanceCase.Status


class Command(BenchmarkCommand):
    help = "Benchmark the daily reminder job over many open cases (PostgreSQL only)."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=100_000, help="synthetic open cases (100000)")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--keep", action="store_true", help="leave the synthetic data in the database")
        parser.add_argument("--clean", action="store_true", help="only remove the data a --keep run left")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(f"benchmark_reminders measures PostgreSQL and refuses to run on {connection.vendor}; "
                               "set DATABASE_URL=postgres://...")
        if options["clean"]:
            self.clean_up()
            return
        self.rng = random.Random(options["seed"])
        # No in-process drain of the outbox: in production a worker sends the emails, not the job.
        with override_settings(DEBUG=False, CELERY_TASK_ALWAYS_EAGER=False):
            self.first_outbox_id = (OutboxEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0)
            try:
                if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
                    self.clean_up()
                self.build(max(options["cases"], 1))
                rows = [self.measure("first run of the day"), self.measure("second run, same day")]
                self.print_table(rows)
            finally:
                if options["keep"]:
                    self.say(f"\nKept the synthetic data (users {USER_PREFIX}*, campaign {CAMPAIGN_NAME!r}).")
                else:
                    self.clean_up()

    # --- Building ------------------------------------------------------------------------------------

    def build(self, count: int) -> None:
        self.heading(f"Adding {count:,} open cases and {count // 10:,} closed unrated ones")
        today = timezone.localdate()
        now = timezone.now()
        cities = list(Region.objects.filter(level=Region.Level.CITY, code__startswith=PROVINCE[:2])
                      .values_list("code", flat=True))
        counties = list(Region.objects.filter(level=Region.Level.COUNTY, code__startswith=PROVINCE[:2])
                        .values_list("code", flat=True))
        with self.timed("accounts, campaign and firms"), transaction.atomic():
            leads = {}
            for number, code in enumerate(cities):
                leads[code[:4]] = User.objects.create(
                    username=f"{USER_PREFIX}lead_{code}", role=User.Role.REGULATOR, region_id=code,
                    email=f"lead{code}@example.gov.cn", language="en" if number % 10 == 9 else "zh-hans")
            smes = User.objects.bulk_create([User(username=f"{USER_PREFIX}sme_{n}", role=User.Role.SME,
                                                  email=f"sme{n}@example.cn") for n in range(max(count // 50, 1))])
            self.campaign = Campaign.objects.create(name=CAMPAIGN_NAME, organiser="河北省市场监督管理局",
                                                    region_id=PROVINCE, starts_on=today - timedelta(days=400),
                                                    ends_on=today + timedelta(days=365))
            closed = count // 10
            codes: set[str] = set()
            firms = []
            for _ in range(count + closed):
                county = self.rng.choice(counties)
                while (code := generate_uscc(county, self.rng)) in codes:
                    pass
                codes.add(code)
                firms.append(Enterprise(uscc=code, region_id=county, industry_id="13", size="small",
                                        name=f"合成企业{len(firms)}有限公司", address=FIRM_MARK))
            firms = Enterprise.objects.bulk_create(firms, batch_size=CHUNK)
            contacts = Enterprise.users.through
            contacts.objects.bulk_create([contacts(enterprise_id=firm.pk, user_id=smes[n % len(smes)].pk)
                                          for n, firm in enumerate(firms[count:])], batch_size=CHUNK)
        with self.timed(f"{count + closed:,} cases"), transaction.atomic():
            cases = []
            for number, firm in enumerate(firms):
                lead = leads[firm.region_id[:4]]
                case = AssistanceCase(campaign=self.campaign, enterprise=firm, title=f"帮扶案例{number}", lead=lead,
                                      opened_by=lead, opened_at=now - timedelta(days=self.rng.randint(40, 300)))
                if number >= count:
                    case.status, case.resolution = Status.CLOSED, AssistanceCase.Resolution.RESOLVED
                    case.closed_at = now - timedelta(days=self.rng.randint(7, 20))
                else:
                    case.status = self.rng.choice([Status.OPEN, Status.DIAGNOSING, Status.PLAN_AGREED,
                                                   Status.IN_PROGRESS])
                    share = self.rng.random()
                    if share < 0.1:
                        case.last_visit_on, case.next_follow_up_on = today - timedelta(days=5), today + timedelta(1)
                    elif share < 0.3:
                        case.last_visit_on = today - timedelta(days=self.rng.randint(8, 25))
                        case.next_follow_up_on = today - timedelta(days=self.rng.randint(1, 7))
                    elif share < 0.5:
                        case.last_visit_on = today - timedelta(days=self.rng.randint(31, 90))
                    else:
                        case.last_visit_on = today - timedelta(days=self.rng.randint(0, 20))
                        case.next_follow_up_on = today + timedelta(days=self.rng.randint(2, 30))
                cases.append(case)
            AssistanceCase.objects.bulk_create(cases, batch_size=CHUNK)
        with self.timed("ANALYZE"), connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # --- Measuring -----------------------------------------------------------------------------------

    def measure(self, label: str) -> tuple:
        notes_before = Notification.objects.count()
        deliveries_before = Delivery.objects.count()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            written = reminders_send()
            seconds = time.perf_counter() - started
        return (label, seconds, len(queries), written, Notification.objects.count() - notes_before,
                Delivery.objects.count() - deliveries_before)

    def print_table(self, rows) -> None:
        open_cases = AssistanceCase.objects.filter(campaign=self.campaign).exclude(status=Status.CLOSED).count()
        self.heading(f"The daily reminder job over {open_cases:,} open cases (PostgreSQL {connection.pg_version})")
        self.say("| run | time | SQL statements | follow-up due | overdue | no visit 30 days | rate reminder "
                 "| notifications | email deliveries |")
        self.say("|---|---|---|---|---|---|---|---|---|")
        for label, seconds, statements, written, notes, deliveries in rows:
            self.say(f"| {label} | {seconds:.2f} s | {statements} | {written['follow_up_due']:,} | "
                     f"{written['follow_up_overdue']:,} | {written['case_stale']:,} | {written['rating_reminder']:,} "
                     f"| {notes:,} | {deliveries:,} |")
        by_language = dict(Notification.objects.filter(recipient__username__startswith=USER_PREFIX)
                           .values_list("recipient__language").annotate(n=Count("id")))
        self.say(f"\nNotifications by the recipient's language: {by_language}")

    # --- Removing ------------------------------------------------------------------------------------

    def clean_up(self) -> None:
        self.heading("Removing the synthetic data")
        users = User.objects.filter(username__startswith=USER_PREFIX)
        campaigns = Campaign.objects.filter(name=CAMPAIGN_NAME)
        firms = Enterprise.objects.filter(address=FIRM_MARK)
        doomed = [
            Delivery.objects.filter(notification__recipient__in=users),
            Notification.objects.filter(recipient__in=users),
            AssistanceCase.objects.filter(campaign__in=campaigns),
            campaigns,
            Enterprise.users.through.objects.filter(enterprise__in=firms),
            firms,
        ]
        with self.timed("notifications, cases, firms and accounts"), transaction.atomic():
            with connection.cursor() as cursor:
                # The tables grew since the build's ANALYZE; without fresh statistics the planner
                # joins the notifications it thinks empty row by row.
                cursor.execute(f"ANALYZE {Notification._meta.db_table}, {Delivery._meta.db_table}")
                for queryset in doomed:
                    model = queryset.model
                    sql, params = queryset.values("pk").query.sql_with_params()
                    quote = connection.ops.quote_name
                    cursor.execute(f"DELETE FROM {quote(model._meta.db_table)} WHERE {quote(model._meta.pk.column)} "
                                   f"IN (SELECT * FROM ({sql}) AS doomed)", params)
            remove_accounts(USER_PREFIX)
            # The wake-ups the job left for the workers (there were no deliveries left to send).
            OutboxEntry.objects.filter(topic=NOTIFICATIONS_TOPIC, id__gt=getattr(self, "first_outbox_id", 0)).delete()
