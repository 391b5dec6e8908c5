"""`manage.py benchmark_registry`: PostgreSQL only, and it removes what it added (timings are never asserted)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from enterprises.models import Enterprise
from portal.models import AuditEntry, User

pytestmark = pytest.mark.django_db


def test_it_refuses_to_run_on_anything_but_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("benchmark_registry", "--enterprises", "10", stdout=StringIO())


@pytest.mark.needs_postgres
def test_a_tiny_run_removes_its_firms_and_keeps_the_importers_audit_trail(needs_postgres):
    output = StringIO()
    call_command("benchmark_registry", "--enterprises", "60", "--import-rows", "40", "--no-serve", stdout=output)
    assert "Removing the synthetic data" in output.getvalue()
    assert not Enterprise.objects.exists()
    # The import's entries stay (append-only); the account that made them is deactivated, not deleted.
    importers = User.objects.filter(pk__in=AuditEntry.objects.values("actor"))
    assert importers.exists() and not importers.filter(is_active=True).exists()
