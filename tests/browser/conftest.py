"""Browser tests: Debian's chromium driven by Playwright against pytest-django's live server."""

import os
from pathlib import Path

import pytest
from pytest_django.fixtures import validate_django_db

from portal import refdata
from portal.models import Industry, Region, ServiceArea, Specialty
from tests.conftest import require_service

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by fixtures
# (personas) would otherwise be refused as "async-unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent.parent / "test-artifacts" / "screenshots"


def pytest_itemcollected(item):
    # As each item is collected, so the marker is there before `-m` selects.
    if HERE in Path(item.path).resolve().parents:
        item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Put transactional tests back after the ordinary database tests, where pytest-django put them.

    pytest-playwright parametrizes `browser_name` at session scope, and pytest regroups the items
    around that parameter after pytest-django has ordered them, which can pull the browser tests
    into the middle of the run. A transactional test ends by emptying every table, reference data
    included, so the ordinary tests after it would find no regions.
    """
    items.sort(key=is_transactional)  # stable: keeps the order within each group


def is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        if transaction or reset_sequences:
            return True
    fixtures = getattr(item, "fixturenames", ())
    return "transactional_db" in fixtures or "live_server" in fixtures


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    require_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)", CHROMIUM.exists())
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    """The regions, industries, service areas and specialties that migration portal/0002 loads.

    A transactional test ends by emptying every table, reference data included. serialized_rollback
    cannot be relied on to put it back here: once Playwright's sync API has started, this thread
    gets a different connection object from django.db.connections (asgiref's Local is bound to the
    context, and Playwright switches it), one without the serialized copy that pytest-django made
    when the database was set up. Loading the reference files again is also quicker.
    """
    if not Region.objects.exists():
        refdata.load_all(Region, Industry, ServiceArea, Specialty)


@pytest.fixture
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
