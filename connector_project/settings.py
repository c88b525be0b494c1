"""Settings for ml-connector. Every value comes from the environment with a dev-safe default
(see ../shared/spec/operations.md and README.md)."""

from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from connector_project.env import env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = BASE_DIR / ".local"  # git-ignored: generated dev secrets and the demo database

# DJANGO_ENV=production is the one switch a server needs: debug off for good, the secrets below required,
# HTTPS hardening on. Development is the default so that a fresh clone, scripts/demo and scripts/test run
# with nothing set.
ENVIRONMENT = env_str("DJANGO_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise RuntimeError(f"DJANGO_ENV must be 'development' or 'production', not {ENVIRONMENT!r}")
PRODUCTION = ENVIRONMENT == "production"
# Refused rather than overridden: DJANGO_DEBUG=true left over from a development set-up must not go unnoticed.
if PRODUCTION and env_bool("DJANGO_DEBUG", False):
    raise RuntimeError("DJANGO_DEBUG cannot be on when DJANGO_ENV=production (unset it or set it to false)")
DEBUG = not PRODUCTION and env_bool("DJANGO_DEBUG", True)

# With debug off the process serves real users: the published development key would let anyone forge
# sessions, a generated encryption key would make every stored secret unreadable on the next machine, and
# localhost-only hosts would answer 400 to everyone.
_REQUIRED_WITHOUT_DEBUG = ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_ALLOWED_HOSTS")
if not DEBUG:
    _unset = [name for name in _REQUIRED_WITHOUT_DEBUG if not env_str(name).strip()]
    if _unset:
        _mode = "DJANGO_ENV=production" if PRODUCTION else "DJANGO_DEBUG is off"
        raise RuntimeError(f"{', '.join(_unset)} must be set when {_mode} (README.md, Configuration)")
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-secret-key-change-me")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

# HTTPS: on by default in production (the connector holds NetSuite and JAGGAER credentials and takes signed
# webhooks), off in development, where runserver speaks plain HTTP. Each can be turned off for a deployment
# that really needs it. The NetSuite webhook is csrf_exempt, so it needs no trusted origin; the push script
# calls an https:// URL (docs/netsuite-push.md), which is never redirected, while a plain-HTTP push would be
# (losing its body), so the webhook is deliberately not exempt: its payloads are business data.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# Load balancers often probe the web host over plain HTTP behind the TLS proxy; a redirect would read as
# "unhealthy". The health answer carries no secret and takes no input.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
# Behind a proxy that terminates TLS, the name of the header by which it says "https" (X-Forwarded-Proto).
# Only safe when the proxy overwrites that header on every request: otherwise a client could forge it.
_proxy_ssl_header = env_str("SECURE_PROXY_SSL_HEADER", "").strip().upper().replace("-", "_")
if _proxy_ssl_header:
    _proxy_ssl_header = _proxy_ssl_header if _proxy_ssl_header.startswith("HTTP_") else f"HTTP_{_proxy_ssl_header}"
    SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https")
# Origins (https://host) allowed to POST admin forms when the proxy's public host differs from the Host header.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def _field_encryption_keys() -> list[str]:
    """Fernet keys, newest first. In development a key is generated once into .local/ so that a
    fresh clone runs without configuration; with debug off the key is required above."""
    keys = env_list("FIELD_ENCRYPTION_KEY", [])
    if keys:
        return keys
    key_file = LOCAL_DIR / "field_encryption_key"
    if not key_file.exists():
        LOCAL_DIR.mkdir(exist_ok=True)
        key_file.write_text(Fernet.generate_key().decode())
        key_file.chmod(0o600)
    return [key_file.read_text().strip()]


FIELD_ENCRYPTION_KEY = _field_encryption_keys()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "simple_history",
    "encrypted_model_fields",
    "credentials",
    "mappings",
    "sync",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files without runserver (scripts/serve): answered before sessions or anything else is touched.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "connector_project.urls"
WSGI_APPLICATION = "connector_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The demo runs the admin, the worker and the sync in separate processes on one file.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` gathers the files that WhiteNoise serves in production (git-ignored by default).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "static")))
# Development (scripts/demo, scripts/test, DJANGO_DEBUG=false included) serves static files straight from the
# apps as they are edited, so nothing needs collectstatic. Production serves only what collectstatic
# gathered, compressed and under content-hashed names that browsers may cache for good.
WHITENOISE_AUTOREFRESH = not PRODUCTION
WHITENOISE_USE_FINDERS = not PRODUCTION
if PRODUCTION:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LOGIN_URL = "admin:login"
# Admin login throttle (credentials/logins.py): after this many failed logins for one username, or from one
# address, within the window, every further attempt is refused (even with the right password) until the window
# has passed. The database holds the failures, so every web process shares the count.
ADMIN_LOGIN_ATTEMPTS = int(env_str("ADMIN_LOGIN_ATTEMPTS", "5"))
ADMIN_LOGIN_WINDOW_SECONDS = int(env_str("ADMIN_LOGIN_WINDOW_SECONDS", "900"))
if ADMIN_LOGIN_ATTEMPTS < 1 or ADMIN_LOGIN_WINDOW_SECONDS < 1:
    raise RuntimeError("ADMIN_LOGIN_ATTEMPTS and ADMIN_LOGIN_WINDOW_SECONDS must be at least 1")
# Behind a reverse proxy, the header it writes the client's address into (X-Forwarded-For): the login throttle
# and the webhook's refusal limit count callers by address, and without it the proxy would be everybody.
# Leave it empty when nothing in front of the connector overwrites that header: a caller could forge it.
CLIENT_ADDRESS_HEADER = env_str("CLIENT_ADDRESS_HEADER", "").strip()

# django-q2: the ORM broker by default so the demo needs nothing but the database; Redis when
# Q_BROKER is a redis:// URL. Retry state lives on our rows, so the broker's `retry` is only
# redelivery of a task whose worker died; it must exceed `timeout` or tasks run twice.
_q_broker = env_str("Q_BROKER", "orm")
Q_CLUSTER = {
    "name": "ml-connector",
    "workers": int(env_str("Q_WORKERS", "2")),
    "timeout": 600,
    "retry": 900,
    "max_attempts": 3,
    "catch_up": False,  # schedules carry their own catch-up policy
    "save_limit": 250,
    "label": "Task queue",
}
if _q_broker == "orm":
    Q_CLUSTER["orm"] = "default"
elif _q_broker.startswith(("redis://", "rediss://")):
    Q_CLUSTER["redis"] = _q_broker
else:
    raise RuntimeError(f"Q_BROKER must be 'orm' or a redis:// URL, not {_q_broker!r}")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "credentials": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "mappings": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "sync": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
        "sandbox": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
    },
}

# Sync engine. Every pull re-reads this far behind its cursor: saves that became visible late, and the hour that repeats
# when the account's time zone leaves daylight saving time (SuiteQL compares local times), are not lost.
SYNC_OVERLAP_SECONDS = int(env_str("SYNC_OVERLAP_SECONDS", "4500"))
SYNC_PAGE_SIZE = int(env_str("SYNC_PAGE_SIZE", "1000"))  # SuiteQL rows per request, 1..1000
# JAGGAER batch requests one delivery keeps in flight at once (the sandbox, like JAGGAER's rate limit, allows 4 per
# client id; a 429 past it is waited out).
SYNC_JAGGAER_IN_FLIGHT = int(env_str("SYNC_JAGGAER_IN_FLIGHT", "4"))
if SYNC_JAGGAER_IN_FLIGHT < 1:
    raise RuntimeError("SYNC_JAGGAER_IN_FLIGHT must be at least 1")
# Back-off of records that failed or wait for a mapping: exponential with jitter from BASE to CAP seconds;
# after MAX_ATTEMPTS retryable failures a record is failed and needs a person.
SYNC_RETRY_BASE_SECONDS = float(env_str("SYNC_RETRY_BASE_SECONDS", "30"))
SYNC_RETRY_CAP_SECONDS = float(env_str("SYNC_RETRY_CAP_SECONDS", "3600"))
SYNC_MAX_ATTEMPTS = int(env_str("SYNC_MAX_ATTEMPTS", "8"))
# What an accepted push event is handed to (a dotted path to a function taking `event_id`).
SYNC_WEBHOOK_ACCEPTED_HOOK = env_str("SYNC_WEBHOOK_ACCEPTED_HOOK", "sync.triggers.push.event_accepted")
# Refused pushes are stored for the admin, so anyone can write to the inbox: once a source (client address, or
# connection slug) has this many refusals stored in the window, its further refusals are answered 429 and only
# counted. Accepted events are never limited. The database holds the count, so every process shares it.
SYNC_WEBHOOK_REFUSAL_LIMIT = int(env_str("SYNC_WEBHOOK_REFUSAL_LIMIT", "10"))
SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS = int(env_str("SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS", "3600"))
if SYNC_WEBHOOK_REFUSAL_LIMIT < 1 or SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS < 1:
    raise RuntimeError("SYNC_WEBHOOK_REFUSAL_LIMIT and SYNC_WEBHOOK_REFUSAL_WINDOW_SECONDS must be at least 1")
# Where the per-account NetSuite request slots (lock files) live; shared by every worker on the host.
SYNC_LOCK_DIR = Path(env_str("SYNC_LOCK_DIR", str(LOCAL_DIR / "locks")))
# Where those slots are kept (sync/remote/request_gate.py): "database" (PostgreSQL advisory locks, shared by every worker
# host), "files" (SYNC_LOCK_DIR: one host only), or "auto", the database on PostgreSQL and files otherwise.
# "database" on another engine is refused at start, not quietly turned into files: hosts would exceed the limit.
SYNC_REQUEST_GATE = env_str("SYNC_REQUEST_GATE", "auto")
if SYNC_REQUEST_GATE not in {"auto", "database", "files"}:
    raise RuntimeError(f"SYNC_REQUEST_GATE must be 'auto', 'database' or 'files', not {SYNC_REQUEST_GATE!r}")
if SYNC_REQUEST_GATE == "database" and DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise RuntimeError("SYNC_REQUEST_GATE=database needs PostgreSQL (its advisory locks), but DATABASE_URL is "
                       f"{DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; use 'files' on a single host")

# --- credentials: oauthlib logs consumer keys, token ids and signature base strings at DEBUG; those
# are secrets, so its loggers never pass below WARNING whatever LOG_LEVEL or the root logger says.
for _secretive_logger in ("oauthlib", "requests_oauthlib"):
    LOGGING["loggers"][_secretive_logger] = {"level": "WARNING"}

# --- Operator's console: alerts and retention (sync/operations/alerts.py, sync/operations/retention.py).
# Who is mailed when an incident opens (one mail per incident, none while it stays open); comma-separated.
# Empty: incidents are still recorded and shown in the admin, and mailed once addresses are set.
# Outgoing mail: Django's EMAIL_* settings, from the environment (EMAIL_HOST_PASSWORD_FILE for the secret).
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = int(env_str("EMAIL_PORT", "25"))
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ml-connector@localhost")
ALERT_EMAILS = env_list("ALERT_EMAILS", [])
# A flow with at least this many failed records (they need a person) opens an incident.
ALERT_FAILED_RECORDS = int(env_str("ALERT_FAILED_RECORDS", "10"))
# A scheduled flow that has not succeeded for this many of its intervals opens an incident.
ALERT_MISSED_INTERVALS = int(env_str("ALERT_MISSED_INTERVALS", "3"))
# An authorization-code refresh token expiring within this many hours opens an incident (re-consent needed).
ALERT_REFRESH_TOKEN_HOURS = int(env_str("ALERT_REFRESH_TOKEN_HOURS", "24"))
# Attempts, state changes and webhook inbox rows older than this many days are pruned; 0 keeps them forever.
# Finite by default: the inbox also stores refused requests from anyone, which must not pile up unnoticed.
SYNC_RETENTION_DAYS = int(env_str("SYNC_RETENTION_DAYS", "90"))
