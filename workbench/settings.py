"""Settings for the workbench: one module, configured entirely by environment variables.

Local defaults need no set-up (SQLite file, console e-mail, DEBUG on). Production sets
DEBUG=0, SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; then ``check --deploy`` is clean.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    """The variable's value; unset and empty both mean "use the default"."""
    return os.environ.get(name, "").strip() or default


def envbool(name: str, default: bool) -> bool:
    value = env(name)
    return value.lower() in {"1", "true", "yes", "on"} if value else default


def envint(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value else default


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Only ever used for local development; production refuses to start without its own key.
    SECRET_KEY = "insecure-local-development-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "django_htmx",
    "template_partials.apps.SimpleAppConfig",
    "guardian",
    "axes",
    "workbench",
    "transcripts",
    "coding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "workbench.urls"
WSGI_APPLICATION = "workbench.wsgi.application"

_loaders = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
]
if not DEBUG:
    _loaders = [("django.template.loaders.cached.Loader", _loaders)]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # template_partials' loader makes "page.html#fragment" resolvable (built into Django 6).
            "loaders": [("template_partials.loader.Loader", _loaders)],
            "builtins": ["template_partials.templatetags.partials"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "workbench.context_processors.nav_section",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", 0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# PostgreSQL deployments: the app connects (DATABASE_URL) as a runtime role that owns nothing;
# migrations run as the owner, followed by ``manage.py grant_runtime_role``, which reads the
# runtime role's name and password from here (workbench/db_roles.py, docker-compose.yml).
RUNTIME_DATABASE_URL = env("RUNTIME_DATABASE_URL")

AUTHENTICATION_BACKENDS = [
    # First: refuses every sign-in (even with the right password) while a lockout lasts.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# No anonymous guardian user: anonymous visitors never hold a study permission.
ANONYMOUS_USER_NAME = None

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# An invitation link stays valid for a week; it dies once used (and "resend" makes a new one).
PASSWORD_RESET_TIMEOUT = envint("INVITATION_TIMEOUT_SECONDS", 7 * 24 * 3600)

# Who may create studies: "any" active user, or "staff" (accounts with is_staff) only.
STUDY_CREATORS = env("STUDY_CREATORS", "any").lower()
if STUDY_CREATORS not in {"any", "staff"}:
    raise ImproperlyConfigured("STUDY_CREATORS must be 'any' or 'staff'.")

# Sign-in throttling (django-axes). Failures are counted per typed username (whether or not such
# an account exists, so the lockout tells nothing about accounts) and per client address; either
# reaching the limit within the lockout period refuses every sign-in for it, the right password
# included, until the period has passed since the last failure.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Attempts while locked do not extend the lock: the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the counters: with the address counted too, an attacker's own good
# sign-in would otherwise reset the count of the addresses they guess from.
AXES_RESET_ON_SUCCESS = False
# "Alice" and "alice " are one account to count, not two.
AXES_USERNAME_CALLABLE = "workbench.views.accounts.typed_username"
AXES_LOCKOUT_CALLABLE = "workbench.views.accounts.lockout_response"
# The address counted: behind a proxy (BEHIND_TLS_PROXY) the one it appended to
# X-Forwarded-For, never the proxy's own (that would lock everyone out at once).
AXES_CLIENT_IP_CALLABLE = "workbench.views.accounts.client_address"
# Keep one row per failure (the admin's "Access failures") beside the per-client counters.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_HTTP_RESPONSE_CODE = 429

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "study_list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
FORMAT_MODULE_PATH = ["workbench.formats"]
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Locally files are served straight from static/ (finders); deployments collect them here.
STATIC_ROOT = env("STATIC_ROOT") or (None if DEBUG else BASE_DIR / "staticfiles")
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploads wait here between the import preview and its confirmation (never in the database).
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
IMPORT_STAGING_DIR = Path(env("IMPORT_STAGING_DIR", str(MEDIA_ROOT / "import-staging")))
# Largest transcript file accepted, and largest text made from one, in bytes (default 20 MB).
TRANSCRIPT_MAX_BYTES = envint("TRANSCRIPT_MAX_BYTES", 20 * 1024 * 1024)
# Largest size one part of a ZIP-based upload (a .docx's document, a .qdpx's project.qde) may
# unpack to, checked before anything is unpacked (default 50 MB).
UPLOAD_MAX_UNPACKED_BYTES = envint("UPLOAD_MAX_UNPACKED_BYTES", 50 * 1024 * 1024)
# Largest upload request (all its files together; default 100 MB). The files of a larger one
# are not stored at all (workbench.uploads.RequestSizeLimit) and the page says so.
UPLOAD_MAX_REQUEST_BYTES = envint("UPLOAD_MAX_REQUEST_BYTES", 100 * 1024 * 1024)
FILE_UPLOAD_HANDLERS = [
    "workbench.uploads.RequestSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Larger uploads stream to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Import previews waiting for confirmation, per user (in all studies), and their total size.
IMPORT_STAGING_MAX_PREVIEWS = envint("IMPORT_STAGING_MAX_PREVIEWS", 5)
IMPORT_STAGING_MAX_BYTES = envint("IMPORT_STAGING_MAX_BYTES", 200 * 1024 * 1024)

EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "workbench@localhost")

# Production hardening follows DEBUG so that a deployment is safe without extra knobs.
# Trust X-Forwarded-Proto only behind a proxy that sets it; otherwise any client could claim https.
BEHIND_TLS_PROXY = envbool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4.x format). Everything comes from this origin; no script
# runs unless it is one of our files (no inline <script>, no on…= handlers, no javascript: URLs,
# no eval: htmx runs with allowEval off, see templates/base.html). Styles: stylesheets only
# from this origin and no <style> elements (htmx's injected indicator style is switched off;
# the rule is in workbench.css), but style="" attributes are allowed: they carry the values
# that come from data (a code's validated #rrggbb colour, a progress width, a tree depth).
# An attribute styles only its own element — it has no selectors, so it cannot read a token
# out of the page, and url() in it could only load from this origin (default-src) — so
# allowing attributes keeps style injection harmless while the no-JavaScript pages keep their
# colours. tests/workbench/test_csp.py and tests/browser/test_csp.py hold the policy to this.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"quiet_refusals": {"()": "workbench.log_filters.QuietRefusals"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "WARNING")},
    # Requests are logged once (not again by Django's own "django" console handler under
    # DEBUG), and a refusal without its traceback.
    "loggers": {
        "django.request": {
            "handlers": ["console"],
            "filters": ["quiet_refusals"],
            "propagate": False,
        }
    },
}
