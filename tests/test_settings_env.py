"""Settings read the environment and fail loudly, naming the variable, on a bad value.

The start-up tests run `manage.py` in a subprocess with a hermetic environment: settings are
evaluated once per process, so only a fresh interpreter shows what an operator would see.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal import env

REPO_ROOT = Path(__file__).resolve().parent.parent
# Everything the settings module reads, so the developer's or CI's own values cannot leak in.
SETTINGS_PREFIXES = ("DJANGO_", "DATABASE_", "CELERY_")


def manage(*args: str, **variables: str) -> subprocess.CompletedProcess:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(SETTINGS_PREFIXES)
    }
    environment.update(DJANGO_SETTINGS_MODULE="portal.settings", PYTHONDONTWRITEBYTECODE="1", **variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )


def production(**overrides: str) -> dict[str, str]:
    return {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(48)[:64],
        "DJANGO_ALLOWED_HOSTS": "portal.example.gov.cn",
        **overrides,
    }


def assert_start_up_fails_naming(result: subprocess.CompletedProcess, variable: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "ImproperlyConfigured" in result.stderr, result.stderr
    # The last line is the exception message an operator reads first.
    assert variable in result.stderr.strip().splitlines()[-1], result.stderr


# --- start-up, as an operator sees it ---------------------------------------------------------


def test_it_refuses_to_start_in_production_without_a_secret_key():
    variables = production()
    del variables["DJANGO_SECRET_KEY"]
    assert_start_up_fails_naming(manage("check", **variables), "DJANGO_SECRET_KEY")


def test_it_refuses_a_short_secret_key_in_production():
    result = manage("check", **production(DJANGO_SECRET_KEY="too-short"))
    assert_start_up_fails_naming(result, "DJANGO_SECRET_KEY")


def test_it_refuses_to_start_in_production_without_allowed_hosts():
    variables = production()
    del variables["DJANGO_ALLOWED_HOSTS"]
    assert_start_up_fails_naming(manage("check", **variables), "DJANGO_ALLOWED_HOSTS")


def test_it_refuses_a_debug_flag_that_is_not_a_yes_or_no():
    assert_start_up_fails_naming(manage("check", DJANGO_DEBUG="maybe"), "DJANGO_DEBUG")


def test_it_refuses_a_database_url_that_is_not_a_url():
    assert_start_up_fails_naming(manage("check", DATABASE_URL="nonsense"), "DATABASE_URL")


def test_it_refuses_a_broker_url_of_an_unsupported_scheme():
    assert_start_up_fails_naming(manage("check", CELERY_BROKER_URL="http://x"), "CELERY_BROKER_URL")


def test_it_passes_the_deploy_checks_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_runs_on_sqlite_with_in_process_tasks_when_nothing_is_set():
    script = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE']); "
        "print(settings.CELERY_BROKER_URL); "
        "print(settings.CELERY_TASK_ALWAYS_EAGER); "
        "print(settings.DEBUG)"
    )
    result = manage("shell", "--no-imports", "-c", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "None", "True", "True"]


def test_it_sends_tasks_to_the_broker_when_one_is_set():
    script = (
        "from django.conf import settings; "
        "print(settings.CELERY_BROKER_URL, settings.CELERY_RESULT_BACKEND, settings.CELERY_TASK_ALWAYS_EAGER)"
    )
    result = manage("shell", "--no-imports", "-c", script, CELERY_BROKER_URL="redis://127.0.0.1:6379/3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/3", "False"]


# --- portal.env, one function at a time -------------------------------------------------------


@pytest.mark.parametrize("word", ["1", "true", "YES", " on "])
def test_env_bool_reads_true_words(monkeypatch, word):
    monkeypatch.setenv("SOME_FLAG", word)
    assert env.env_bool("SOME_FLAG", False) is True


@pytest.mark.parametrize("word", ["0", "false", "No", "off"])
def test_env_bool_reads_false_words(monkeypatch, word):
    monkeypatch.setenv("SOME_FLAG", word)
    assert env.env_bool("SOME_FLAG", True) is False


@pytest.mark.parametrize("value", [None, "", "   "])
def test_env_bool_falls_back_to_the_default_when_unset_or_blank(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("SOME_FLAG", raising=False)
    else:
        monkeypatch.setenv("SOME_FLAG", value)
    assert env.env_bool("SOME_FLAG", True) is True
    assert env.env_bool("SOME_FLAG", False) is False


def test_env_bool_rejects_other_words_naming_the_variable(monkeypatch):
    monkeypatch.setenv("SOME_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG.*'maybe'"):
        env.env_bool("SOME_FLAG", True)


def test_env_int_reads_a_whole_number_and_rejects_anything_else(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", " 42 ")
    assert env.env_int("SOME_NUMBER", 1) == 42
    monkeypatch.setenv("SOME_NUMBER", "4.2")
    with pytest.raises(ImproperlyConfigured, match="SOME_NUMBER"):
        env.env_int("SOME_NUMBER", 1)
    monkeypatch.delenv("SOME_NUMBER")
    assert env.env_int("SOME_NUMBER", 7) == 7


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("SOME_HOSTS", " a.example , ,b.example,")
    assert env.env_list("SOME_HOSTS", ["default"]) == ["a.example", "b.example"]
    monkeypatch.delenv("SOME_HOSTS")
    assert env.env_list("SOME_HOSTS", ["default"]) == ["default"]


def test_env_database_uses_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("SOME_DATABASE_URL", raising=False)
    config = env.env_database("SOME_DATABASE_URL", "sqlite:////tmp/portal.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == "/tmp/portal.sqlite3"


def test_env_database_reads_a_postgres_url(monkeypatch):
    monkeypatch.setenv("SOME_DATABASE_URL", "postgres://portal:secret@db.internal:5433/portal")
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "30")
    config = env.env_database("SOME_DATABASE_URL", "sqlite:///unused")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"], config["USER"]) == (
        "db.internal", 5433, "portal", "portal",
    )
    assert config["CONN_MAX_AGE"] == 30


@pytest.mark.parametrize(
    "url", ["nonsense", "mysql://u@h/db", "postgres://postgres@127.0.0.1:5432", "postgres://h:notaport/db"]
)
def test_env_database_rejects_unusable_urls_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("SOME_DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="SOME_DATABASE_URL"):
        env.env_database("SOME_DATABASE_URL", "sqlite:///unused")


def test_env_broker_url_is_none_when_unset_and_the_url_when_valid(monkeypatch):
    monkeypatch.delenv("SOME_BROKER", raising=False)
    assert env.env_broker_url("SOME_BROKER") is None
    monkeypatch.setenv("SOME_BROKER", "redis://127.0.0.1:6379/15")
    assert env.env_broker_url("SOME_BROKER") == "redis://127.0.0.1:6379/15"


@pytest.mark.parametrize("url", ["http://x", "127.0.0.1:6379", "redis://127.0.0.1:port/0"])
def test_env_broker_url_rejects_unusable_urls_naming_the_variable(monkeypatch, url):
    monkeypatch.setenv("SOME_BROKER", url)
    with pytest.raises(ImproperlyConfigured, match="SOME_BROKER"):
        env.env_broker_url("SOME_BROKER")
