"""The README's first command on a new machine: the embedded default (an SQLite file, no broker,
the outbox drained by a thread of the web process), run as its own process with the production
settings module, not the suite's. A write and the drain thread share one SQLite file: neither may
fail with "database is locked", and the figures must catch up without a worker."""

import os
import sqlite3
import subprocess
import sys
import textwrap

from tests.test_worker import REPO_ROOT, SETTINGS_PREFIXES

# Runs in the portal's own process: visits logged one after another, each commit waking the drain
# thread while the next write goes on; then it waits for the thread to empty the outbox.
WRITES = textwrap.dedent("""
    import time
    from datetime import date
    from campaigns.cases import services
    from campaigns.cases.models import AssistanceCase
    from portal.models import OutboxEntry, User

    lead = User.objects.get(username="sjz_regulator")
    cases = [case for case in AssistanceCase.objects.filter(closed_at__isnull=True, lead=lead)][:3]
    assert cases, "the demo has open cases led by sjz_regulator"
    for number in range(12):
        case = cases[number % len(cases)]
        services.visit_log(user=lead, case=case, visited_on=max(date.today(), case.campaign.starts_on),
                           mode="on_site", hours=1, people_present="王建国")
    deadline = time.monotonic() + 120
    while OutboxEntry.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    print("left in the outbox:", OutboxEntry.objects.count())
""")


def run(*arguments: str, environment: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=REPO_ROOT, env=environment,
                          capture_output=True, text=True, timeout=900)


def visits_counted(database) -> tuple[int, int]:
    """(visits in the table, visits on the snapshots of every campaign's top rows)."""
    with sqlite3.connect(database) as db:
        (visits,) = db.execute("SELECT COUNT(*) FROM campaigns_visit").fetchone()
        (counted,) = db.execute(
            "SELECT COALESCE(SUM(json_extract(s.figures, '$.visits')), 0) FROM campaigns_kpisnapshot s "
            "JOIN portal_region r ON r.code = s.region_id JOIN campaigns_campaign c ON c.id = s.campaign_id "
            "WHERE s.period = '' AND s.breakdown = '' AND s.region_id = c.region_id").fetchone()
    return visits, counted


def test_the_demo_and_later_writes_on_the_embedded_default_count_every_visit(tmp_path):
    database = tmp_path / "db.sqlite3"
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith((*SETTINGS_PREFIXES, "PORTAL_"))}
    environment.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
                       PYTHONUNBUFFERED="1")

    seeded = run("demo", "--no-serve", environment=environment)
    assert seeded.returncode == 0, seeded.stderr[-3000:]
    assert "Demo data ready" in seeded.stdout
    visits, counted = visits_counted(database)
    assert visits > 0 and counted == visits

    wrote = run("shell", "-c", WRITES, environment=environment)
    assert wrote.returncode == 0, wrote.stderr[-3000:]
    assert "database is locked" not in wrote.stderr
    assert "left in the outbox: 0" in wrote.stdout
    after, counted = visits_counted(database)
    assert after == visits + 12
    assert counted == after
