"""Settings as production loads them: each test runs Django in a fresh subprocess.

The test process itself has settings already loaded (and the suite may override some of them),
so every check here imports ``workbench.settings`` anew under a controlled environment.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Variables that settings.py (or Django itself) reads: none leaks in from the caller's shell or
# CI (which sets DATABASE_URL to PostgreSQL, for instance).
SETTINGS_VARS = {
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DB_CONN_MAX_AGE",
    "INVITATION_TIMEOUT_SECONDS",
    "TIME_ZONE",
    "EMAIL_BACKEND",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "DEFAULT_FROM_EMAIL",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "LOG_LEVEL",
    "STATIC_ROOT",
    "BEHIND_TLS_PROXY",
    "STUDY_CREATORS",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
}


def production_env(**overrides: str | None) -> dict[str, str]:
    """The environment of a production deployment; ``None`` removes a variable."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARS}
    env.update(
        DJANGO_SETTINGS_MODULE="workbench.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="workbench.example.org",
        PYTHONDONTWRITEBYTECODE="1",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def python_json(code: str, env: dict[str, str]):
    """Run ``code`` in a fresh interpreter; it prints one JSON document, which is returned."""
    result = run(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_settings_pass_check_deploy():
    env = production_env()
    assert len(env["SECRET_KEY"]) >= 60

    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in result.stdout, output
    assert "WARNINGS" not in output
    assert "ERRORS" not in output


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_settings_refuse_to_load_without_secret_key_when_debug_is_off(secret_key):
    result = run(["manage.py", "check"], production_env(SECRET_KEY=secret_key))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_development_defaults_load_without_secret_key():
    """The local set-up (``make demo``) needs no environment at all."""
    env = production_env(DEBUG=None, SECRET_KEY=None, ALLOWED_HOSTS=None)

    loaded = python_json(
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.DEBUG, bool(settings.SECRET_KEY), settings.ALLOWED_HOSTS]))",
        env,
    )

    assert loaded == [True, True, ["127.0.0.1", "localhost"]]


def test_database_url_selects_postgresql():
    env = production_env(DATABASE_URL="postgres://u:p@h:5432/n")

    database = python_json(
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))",
        env,
    )

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["NAME"] == "n"
    assert database["USER"] == "u"
    assert database["PASSWORD"] == "p"
    assert database["HOST"] == "h"
    assert int(database["PORT"]) == 5432


@pytest.mark.parametrize("database_url", [None, ""], ids=["unset", "empty"])
def test_without_database_url_settings_use_the_project_sqlite_file(database_url):
    env = production_env(DATABASE_URL=database_url)

    database = python_json(
        "import json; from django.conf import settings; "
        "print(json.dumps(settings.DATABASES['default'], default=str))",
        env,
    )

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]) == PROJECT_ROOT / "db.sqlite3"


def test_default_password_hasher_is_argon2():
    hashing = python_json(
        "import json, workbench.settings as s; "
        "from django.contrib.auth.hashers import make_password; "
        "print(json.dumps([s.PASSWORD_HASHERS[0], make_password('correct horse')]))",
        production_env(),
    )

    first_hasher, encoded = hashing
    assert first_hasher == "django.contrib.auth.hashers.Argon2PasswordHasher"
    # Hashing really goes through Argon2 (argon2-cffi is installed), not a fallback.
    assert encoded.startswith("argon2$argon2id$")


def test_empty_variables_fall_back_to_the_defaults():
    """A compose file or .env that writes VAR= must not break start-up or sending mail."""
    env = production_env(
        DEBUG=None,
        SECRET_KEY=None,
        ALLOWED_HOSTS="",
        LOG_LEVEL="",
        EMAIL_BACKEND="",
        EMAIL_HOST="",
        DEFAULT_FROM_EMAIL="",
        TIME_ZONE="",
    )
    loaded = python_json(
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.ALLOWED_HOSTS, s.EMAIL_BACKEND, s.EMAIL_HOST, s.DEFAULT_FROM_EMAIL,"
        " s.TIME_ZONE]))",
        env,
    )
    assert loaded == [
        ["127.0.0.1", "localhost"],
        "django.core.mail.backends.console.EmailBackend",
        "localhost",
        "workbench@localhost",
        "UTC",
    ]


@pytest.mark.parametrize("behind_proxy", ["1", None])
def test_forwarded_proto_is_trusted_only_behind_a_proxy(behind_proxy):
    header = python_json(
        "import json; from django.conf import settings; "
        "print(json.dumps(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)))",
        production_env(BEHIND_TLS_PROXY=behind_proxy),
    )
    assert header == (["HTTP_X_FORWARDED_PROTO", "https"] if behind_proxy else None)


@pytest.mark.parametrize("value, expected", [(None, "any"), ("staff", "staff"), ("Any", "any")])
def test_study_creators_setting(value, expected):
    loaded = python_json(
        "import json; from django.conf import settings; print(json.dumps(settings.STUDY_CREATORS))",
        production_env(STUDY_CREATORS=value),
    )
    assert loaded == expected


def test_unknown_study_creators_value_refuses_to_start():
    result = run(["manage.py", "check"], production_env(STUDY_CREATORS="everyone"))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "STUDY_CREATORS" in result.stderr


def test_signin_throttling_comes_from_the_environment():
    loaded = python_json(
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), "
        "s.AXES_LOCKOUT_PARAMETERS, s.AUTHENTICATION_BACKENDS[0], s.MIDDLEWARE[-1]]))",
        production_env(LOGIN_FAILURE_LIMIT="8", LOGIN_LOCKOUT_MINUTES="30"),
    )
    assert loaded == [
        8,
        1800.0,
        ["username", "ip_address"],
        "axes.backends.AxesStandaloneBackend",
        "axes.middleware.AxesMiddleware",
    ]
