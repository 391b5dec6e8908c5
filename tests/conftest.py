"""Personas used across the suite, one per role and jurisdiction.

- alice: SME user, contact of an enterprise in Shijiazhuang (石家庄, 130100)
- bob: regulator of Shijiazhuang; bianca: his same-city colleague
- charlie: regulator of Tangshan (唐山, 130200), another city of the same province
- diana: supervisor of Hebei province (130000), read-only
- erin: expert
- admin: administrator
"""

import os
import shutil
import socket
import sqlite3
from pathlib import Path
from urllib.parse import urlparse

import pytest

from portal.models import User
from tests import factories
from tests.factories import EnterpriseFactory, RegulatorFactory, SupervisorFactory, UserFactory

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(reason: str, available: bool) -> None:
    """Skip for want of a service on a developer's machine; fail on CI, where it must be there."""
    if available:
        return
    if ON_CI:
        pytest.fail(f"{reason} (CI=true: nothing may be skipped for want of a service)")
    pytest.skip(reason)


def redis_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0"


# The append-only tables' TRUNCATE triggers (migration security/0001) and the tables they guard.
APPEND_ONLY_TRUNCATE_TRIGGERS = {
    "portal_auditentry": "portal_auditentry_no_truncate",
    "security_securityevent": "security_securityevent_no_truncate",
}


@pytest.fixture(scope="session", autouse=True)
def test_flushes_may_empty_append_only_tables():
    """A transactional test ends with Django emptying every table in one TRUNCATE, which the
    append-only triggers refuse on PostgreSQL: around that flush (and only there) the suite switches
    them off, as the tables' owner may. Production code never flushes."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        statements = original(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
        guarded = {table: trigger for table, trigger in APPEND_ONLY_TRUNCATE_TRIGGERS.items() if table in tables}
        if not statements or not guarded:
            return statements
        return [*(f"ALTER TABLE {table} DISABLE TRIGGER {trigger};" for table, trigger in guarded.items()),
                *statements,
                *(f"ALTER TABLE {table} ENABLE TRIGGER {trigger};" for table, trigger in guarded.items())]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


def mutation_sqlite_database() -> dict | None:
    """The SQLite database settings when mutmut runs this session (tests/mutation.py), else None."""
    if not os.environ.get("MUTANT_UNDER_TEST"):
        return None
    from django.conf import settings

    database = settings.DATABASES["default"]
    return database if database["ENGINE"].endswith("sqlite3") else None


def mutation_template_database() -> Path:
    from django.conf import settings

    return Path(settings.BASE_DIR) / ".test-db-mutation-template.sqlite3"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Under mutation testing mutmut runs one pytest session per mutant, in processes forked from one
    that already read the settings: each gets an SQLite test database of its own, or they would
    create and destroy one another's. Migrating a fresh database takes seconds, longer than most
    mutants' tests: each session starts from a copy of the database the first one migrated."""
    database = mutation_sqlite_database()
    if database is None:
        return
    name = mutation_template_database().with_name(f".test-db-{os.getpid()}.sqlite3")
    database.setdefault("TEST", {})["NAME"] = str(name)
    if "__mutmut_" in os.environ["MUTANT_UNDER_TEST"] and mutation_template_database().exists():
        shutil.copyfile(mutation_template_database(), name)
        # The copy is migrated already: point the connection at it instead of letting Django check
        # every migration again (this process is forked for one mutant's session, and ends with it).
        import django.test.utils
        from django.db import connections

        def use_the_copy(*args, **kwargs):
            connections["default"].close()
            database["NAME"] = connections["default"].settings_dict["NAME"] = str(name)
            return []

        django.test.utils.setup_databases = use_the_copy


@pytest.fixture(scope="session")
def django_db_keepdb(request):
    """Under mutation testing the copied database is kept (only migrations it lacks are applied)."""
    return bool(request.config.getvalue("reuse_db") or mutation_sqlite_database())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    """Under mutation testing: the first session leaves its freshly migrated database as the
    template of the others; each removes its own copy at the end."""
    database = mutation_sqlite_database()
    if database is None:
        yield
        return
    name, template = Path(database["TEST"]["NAME"]), mutation_template_database()
    if not template.exists():
        partial = template.with_name(f"{template.name}.{os.getpid()}")
        with sqlite3.connect(name) as source, sqlite3.connect(partial) as copy:
            source.backup(copy)
        os.replace(partial, template)
    yield
    for path in (name, name.with_name(f"{name.name}-wal"), name.with_name(f"{name.name}-shm")):
        path.unlink(missing_ok=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under mutation testing, the tests of the mutated module's own test file run first (mutmut
    stops a mutant's session at its first failure): a mutant of portal/outbox.py reached by a
    figure's write in hundreds of tests is usually killed by tests/test_outbox.py. Before
    pytest-django's own sort, which then still runs the transactional tests last."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    if "__mutmut_" not in mutant:
        return
    module = mutant.split(".x")[0].rsplit(".", 1)[-1]
    items.sort(key=lambda item: module not in item.path.name)


@pytest.fixture
def needs_redis():
    require_service(f"Redis is not reachable at {redis_url()}", service_reachable(redis_url(), 6379))
    return redis_url()


@pytest.fixture
def needs_postgres(settings):
    from django.db import connection

    require_service(
        "the database is not PostgreSQL (set DATABASE_URL=postgres://...)", connection.vendor == "postgresql"
    )


@pytest.fixture
def held_elsewhere():
    """held_elsewhere(take) -> a context manager: `take()` runs in a transaction of another thread's
    own database connection, which stays open, holding the locks it took, until the block ends."""
    import threading
    from contextlib import contextmanager

    from django.db import connections, transaction

    @contextmanager
    def holding(take):
        held, release = threading.Event(), threading.Event()

        def hold():
            try:
                with transaction.atomic():
                    take()
                    held.set()
                    release.wait(timeout=10)
            finally:
                connections.close_all()

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(timeout=10), "the other connection took nothing"
            yield
        finally:
            release.set()
            holder.join(timeout=10)

    return holding


@pytest.fixture
def alice(db):
    user = UserFactory(username="alice", full_name="杨春华", role=User.Role.SME)
    EnterpriseFactory(name="石家庄恒泰食品有限公司").users.add(user)
    return user


@pytest.fixture
def bob(db):
    return RegulatorFactory(username="bob", full_name="王建国")


@pytest.fixture
def bianca(db):
    return RegulatorFactory(username="bianca", full_name="李娜")


@pytest.fixture
def charlie(db):
    from portal.models import Region

    return RegulatorFactory(username="charlie", full_name="张伟", region=Region.objects.get(code="130200"))


@pytest.fixture
def diana(db):
    return SupervisorFactory(username="diana", full_name="赵立新")


@pytest.fixture
def erin(db):
    return UserFactory(username="erin", full_name="王海燕", role=User.Role.EXPERT)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role=User.Role.ADMINISTRATOR, is_staff=True, is_superuser=True)


@pytest.fixture
def client_for(client):
    """client_for(user) -> a test client signed in as `user` (or anonymous for None)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def api_for():
    from rest_framework.test import APIClient

    def sign_in(user):
        api = APIClient()
        if user is not None:
            api.force_authenticate(user)
        return api

    return sign_in


@pytest.fixture
def api(api_for, settings):
    """api(user) -> an APIClient signed in as `user` (None: anonymous), with English picked in the
    language switcher.

    The portal answers in Chinese unless the language cookie says otherwise; assertions on messages
    read the English source messages, which stay valid once the Chinese catalogue fills in.
    """

    def sign_in(user):
        client = api_for(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client

    return sign_in


@pytest.fixture
def persona(request):
    """persona("bob") -> that fixture's user; persona("anonymous") -> None. For the access matrix,
    parametrized by name."""

    def get(name):
        return None if name == "anonymous" else request.getfixturevalue(name)

    return get


@pytest.fixture
def region(db):
    """region("130100") -> that Region (tests.factories.region, for tests that take it as a fixture)."""
    return factories.region


@pytest.fixture
def reference_data(transactional_db):
    """For transactional tests: one that ran before emptied every table when it ended, reference
    data included; load it again. List it before the personas, which need regions."""
    from portal import refdata
    from portal.models import Industry, Region, ServiceArea, Specialty

    if not Region.objects.exists():
        refdata.load_all(Region, Industry, ServiceArea, Specialty)
