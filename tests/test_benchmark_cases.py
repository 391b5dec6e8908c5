"""`manage.py benchmark_cases`: it measures PostgreSQL only, and leaves nothing behind.

Timings are never asserted: they depend on the machine. The tiny run checks that the command
builds its data, prints its table and removes what it added.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from campaigns.cases.models import AssistanceCase
from campaigns.models import Campaign
from enterprises.models import Enterprise
from experts.models import Expert
from portal.models import User

pytestmark = pytest.mark.django_db


def test_it_refuses_to_run_on_anything_but_postgresql(monkeypatch):
    # Whatever database the suite runs on, the command must refuse any other vendor.
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark_cases", "--experts", "10", "--cases", "10", stdout=StringIO())
    assert not Campaign.objects.exists()


@pytest.mark.needs_postgres
def test_a_tiny_run_prints_its_table_and_removes_everything_it_added(needs_postgres):
    before = (User.objects.count(), Enterprise.objects.count(), Expert.objects.count(), AssistanceCase.objects.count())
    output = StringIO()
    call_command("benchmark_cases", "--experts", "60", "--cases", "120", "--runs", "1", "--explain", stdout=output)
    text = output.getvalue()
    assert "| measurement | as | rows | page size 25 | page size 100 |" in text
    assert "`suggest_experts` (one need" in text
    assert "EXPLAIN (ANALYZE, BUFFERS) of the matching query" in text
    after = (User.objects.count(), Enterprise.objects.count(), Expert.objects.count(), AssistanceCase.objects.count())
    # The accounts that signed in to measure pages stay, deactivated: their security events keep them.
    kept = User.objects.filter(username__startswith="benchmark_cases_")
    assert not kept.filter(is_active=True).exists()
    assert after == (before[0] + kept.count(), *before[1:])
