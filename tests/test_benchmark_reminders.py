"""`manage.py benchmark_reminders`: it measures PostgreSQL only, and leaves nothing behind.

Timings are never asserted: they depend on the machine. The tiny run checks the table it prints,
that the second run of the day writes nothing, and that it removes what it added."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from campaigns.cases.models import AssistanceCase
from enterprises.models import Enterprise
from portal.models import User
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_it_refuses_to_run_on_anything_but_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark_reminders", "--cases", "10", stdout=StringIO())
    assert not AssistanceCase.objects.exists()


def test_a_tiny_run_prints_its_table_and_removes_everything_it_added(needs_postgres):
    before = (User.objects.count(), Enterprise.objects.count(), AssistanceCase.objects.count(),
              Notification.objects.count())
    output = StringIO()
    call_command("benchmark_reminders", "--cases", "200", stdout=output)
    text = output.getvalue()
    assert "| run | time | SQL statements |" in text
    second = next(line for line in text.splitlines() if line.startswith("| second run, same day |"))
    assert second.endswith("| 0 | 0 | 0 | 0 | 0 | 0 |")
    assert (User.objects.count(), Enterprise.objects.count(), AssistanceCase.objects.count(),
            Notification.objects.count()) == before
