"""Settings for the test suite: the same as production code paths, made fast and hermetic."""


import os

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
OUTBOX_DRAIN_INLINE = True
MEDIA_ROOT = BASE_DIR / "test-artifacts" / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file rather than memory, so a Celery worker process started by a test sees the same data.
    # One file per run, so two runs side by side do not share (and destroy) one test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}

# Rate limits are switched off for the suite, which makes hundreds of API calls from one client;
# tests/test_security_*.py turn them on where they are the subject. Lockout (django-axes) stays on.
API_THROTTLE_RATES = {"user": None, "anon": None}
# Administrators in the suite sign in with force_login and no authenticator: the requirement is
# tested explicitly in tests/test_security_two_factor.py, with this setting on.
TWO_FACTOR_REQUIRED_FOR_ADMINISTRATORS = False
# The suite's personas have the password "pw"; the policy is tested in tests/test_security_passwords.py.
API_BASIC_AUTH = True
