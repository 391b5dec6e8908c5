"""`manage.py benchmark_campaign_import`: a tiny run on the suite's database imports a national
campaign's firms, cases with visits and surveys without a bad row, creates nothing when the case
list comes again, and leaves nothing behind. Timings are never asserted."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from campaigns.cases.models import AssistanceCase
from campaigns.models import Campaign
from enterprises.models import Enterprise

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_tiny_run_imports_every_row_once_and_removes_what_it_added(reference_data):
    before = (Campaign.objects.count(), Enterprise.objects.count(), AssistanceCase.objects.count())
    output = StringIO()
    call_command("benchmark_campaign_import", "--firms", "40", "--writes", "1", stdout=output)
    text = output.getvalue()
    assert "1. registry import: 40 firms created, status done" in text
    cases = re.search(r"2\. case import: ([\d,]+) rows, ([\d,]+) cases, ([\d,]+) visits, 0 problems", text)
    assert cases and cases.group(2) == "40" and cases.group(1) == cases.group(3)
    assert "3. survey import: 40 follow-up surveys, 0 problems" in text
    assert "importing the case list again: 0 cases created, 0 visits" in text
    assert (Campaign.objects.count(), Enterprise.objects.count(), AssistanceCase.objects.count()) == before
