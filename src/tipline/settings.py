"""Tipline's settings: the one place that reads the environment (12-factor).

Every deployment difference (development, test, production) is an environment
variable documented in README.md; there are no per-environment settings files.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import dj_database_url
import xstatic.pkg.d3 as xstatic_d3
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from tipline.common.rates import Rate, parse_rate


def _env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    return float(raw) if raw else default


def _env_rate(name: str, default: str) -> Rate | None:
    try:
        return parse_rate(os.environ.get(name, default))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


BASE_DIR = Path(__file__).resolve().parent

# TIPLINE_DATA_DIR holds the SQLite file, generated secrets and the evidence store.
DATA_DIR = Path(os.environ.get("TIPLINE_DATA_DIR") or "var").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
EVIDENCE_DIR = DATA_DIR / "evidence"


ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("TIPLINE_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
# Served over HTTPS (by Tipline's reverse proxy): secure cookies, HSTS, redirect to HTTPS.
TLS = _env_bool("TIPLINE_TLS")
_LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
# An instance nobody else can reach (loopback names only, no TLS) is a try-out on one
# machine: it may keep generated secrets in its data dir. Any other instance is a
# deployment, and takes its secrets from the environment or refuses to start.
LOCAL_ONLY = not TLS and all(h in _LOOPBACK for h in ALLOWED_HOSTS)


def _local_secret(name: str, make: Callable[[], str]) -> str:
    path = DATA_DIR / name
    if not path.exists():
        # O_EXCL: two processes starting at once must not write two different secrets.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(make())
    return path.read_text().strip()


def _secret(env: str, file_name: str, make: Callable[[], str], how: str) -> str:
    """A secret from the environment; for a local try-out only, one kept in the data dir."""
    from_env = os.environ.get(env, "").strip()
    if from_env:
        return from_env
    if not LOCAL_ONLY:
        raise ImproperlyConfigured(
            f"{env} is not set. This instance is served to others (TIPLINE_ALLOWED_HOSTS="
            f"{','.join(ALLOWED_HOSTS)}, TIPLINE_TLS={'on' if TLS else 'off'}), so it takes "
            f"its secrets from the environment and never makes one up. Make one with: {how} "
            "(see docs/deployment.md)."
        )
    return _local_secret(file_name, make)


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def _data_keys() -> list[str]:
    """Keys that encrypt reporters' personal data at rest: the first encrypts, all decrypt."""
    keys = [k.strip() for k in os.environ.get("TIPLINE_DATA_KEYS", "").split(",") if k.strip()]
    if not keys:
        keys = [
            _secret(
                "TIPLINE_DATA_KEYS",
                "data_key",
                _fernet_key,
                "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32))"
                ".decode())'",
            )
        ]
    for n, key in enumerate(keys, start=1):
        try:
            ok = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            ok = False
        if not ok:  # never echo the key itself
            raise ImproperlyConfigured(
                f"TIPLINE_DATA_KEYS: key {n} of {len(keys)} is not a data key (32 bytes in "
                "URL-safe base64, as `tipline datakeys generate` prints)"
            )
    return keys


SECRET_KEY = _secret(
    "TIPLINE_SECRET_KEY",
    "secret_key",
    lambda: secrets.token_urlsafe(50),
    "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
)
DATA_KEYS = _data_keys()
DEBUG = _env_bool("TIPLINE_DEBUG")
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("TIPLINE_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# The hotline's own country (ISO 3166-1 alpha-2): decides "hosted at home" in routing.
COUNTRY = os.environ.get("TIPLINE_COUNTRY", "FR").strip().upper()

INSTALLED_APPS = [
    "tipline.console.apps.StaffAdminConfig",  # Django's admin, behind two-factor
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "js_lib_htmx",  # htmx's files, from PyPI, served locally
    "ninja",  # so that /api/v1/docs serves Swagger UI from its own files, never a CDN
    # Tipline: shared bottom layer, then the pipeline in data-flow order, then people.
    "tipline.common",
    "tipline.intake",
    "tipline.harmonize",
    "tipline.analyze",
    "tipline.crossref",
    "tipline.orient",
    "tipline.console",
    "tipline.stats",
    "tipline.ops",
]

MIDDLEWARE = [
    "tipline.common.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "tipline.common.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tipline.common.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "tipline.urls"
WSGI_APPLICATION = "tipline.wsgi.application"

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

# --- Database -----------------------------------------------------------------------------
# Default: one SQLite file in the data dir. Production: TIPLINE_DATABASE_URL=postgres://…
DATABASE_URL = os.environ.get("TIPLINE_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'tipline.sqlite3'}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, waiting for the write lock in 1 or 2 ms steps (tipline.common.sqlite3).
    _db["ENGINE"] = "tipline.common.sqlite3"
    _db["CONN_MAX_AGE"] = 0 if _db["NAME"] == ":memory:" else 60
    _db["OPTIONS"] = {
        # IMMEDIATE: writers take the lock up front instead of failing on upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        # WAL lets readers run beside the writer; FULL sync: a report we said we
        # received survives a power cut.
        # A larger page cache per connection than SQLite's 2 MiB: the indexes pipeline
        # stages probe for every batch stay in memory as the database grows.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
            # Checkpoint every 40 MB of WAL, not 4: pages rewritten by every batch (the
            # tails of growing indexes) are copied back to the database file less often.
            "PRAGMA wal_autocheckpoint=10000; "
            f"PRAGMA cache_size=-{_env_int('TIPLINE_SQLITE_CACHE_MB', 64) * 1024};"
        ),
    }
    # A file, not memory: worker processes started by tests must see the same database.
    _db["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    _db["TEST"] = {"NAME": os.environ.get("TIPLINE_TEST_DATABASE_NAME") or None}
DATABASES = {"default": _db}
# A read replica of the primary (PostgreSQL streaming replication) for reads that may lag a
# little: the statistics dashboard (tipline.stats.views). Everything else, and everything
# that must read what it just wrote, uses the primary. In tests it is the primary.
_read_url = os.environ.get("TIPLINE_READ_DATABASE_URL", "").strip()
if _read_url:
    DATABASES["replica"] = {
        **dj_database_url.parse(_read_url, conn_max_age=60, conn_health_checks=True),
        "TEST": {"MIRROR": "default"},
    }
LAGGING_READS_DATABASE = "replica" if _read_url else "default"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Tasks (the pipeline runner) ---------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        # default: the pipeline; outside: jobs that wait on the internet (captures, DNS);
        # statistics: refreshing the summary tables.
        "QUEUES": ["default", "outside", "statistics"],
    }
}
# Embedded worker processes started by `tipline serve`.
TASK_WORKERS = _env_int("TIPLINE_TASK_WORKERS", 1)
# A worker writes a heartbeat this often; one silent for WORKER_DEAD_AFTER seconds is
# presumed dead and the task it held goes back to the queue.
WORKER_HEARTBEAT_S = _env_float("TIPLINE_WORKER_HEARTBEAT_S", 2.0)
WORKER_DEAD_AFTER_S = _env_float("TIPLINE_WORKER_DEAD_AFTER_S", 30.0)
WORKER_POLL_S = _env_float("TIPLINE_WORKER_POLL_S", 0.5)
# A failing stage is retried with exponential backoff, then the report is marked failed.
PIPELINE_MAX_ATTEMPTS = _env_int("TIPLINE_PIPELINE_MAX_ATTEMPTS", 5)
PIPELINE_RETRY_BASE_S = _env_float("TIPLINE_PIPELINE_RETRY_BASE_S", 5.0)
PIPELINE_RETRY_MAX_S = _env_float("TIPLINE_PIPELINE_RETRY_MAX_S", 3600.0)
# How many reports one pipeline task carries (bulk intake enqueues one task per chunk).
PIPELINE_CHUNK = _env_int("TIPLINE_PIPELINE_CHUNK", 100)
# A worker runs the pipeline tasks waiting beside the one it takes as one batch, up to
# this many reports: single reports share a stage's fixed costs, while each transaction
# stays short enough not to hold up the web requests waiting for SQLite's write lock.
PIPELINE_GATHER = _env_int("TIPLINE_PIPELINE_GATHER", 20)
# Fault injection for tests only: seconds each stage sleeps inside its transaction.
PIPELINE_STAGE_DELAY_S = _env_float("TIPLINE_PIPELINE_STAGE_DELAY_S", 0.0)

# --- Analyze: the outside world ---------------------------------------------------------
# Evidence capture and hosting lookups reach the internet; off, they record that they
# did not run (tests, closed networks without egress).
ANALYZE_NETWORK = _env_bool("TIPLINE_ANALYZE_NETWORK", True)
CAPTURE_TIMEOUT_S = _env_float("TIPLINE_CAPTURE_TIMEOUT_S", 10.0)
CAPTURE_MAX_BYTES = _env_int("TIPLINE_CAPTURE_MAX_BYTES", 20 * 1024 * 1024)
# For tests only: let capture fetch pages served on loopback.
CAPTURE_ALLOW_LOOPBACK = _env_bool("TIPLINE_CAPTURE_ALLOW_LOOPBACK")
# Unreachable pages are tried again after these delays (sites come and go).
CAPTURE_RETRY_S = (3600, 6 * 3600, 24 * 3600, 72 * 3600)
# DNS servers as host[:port], comma-separated; empty: the system's.
DNS_SERVERS = [d.strip() for d in os.environ.get("TIPLINE_DNS_SERVERS", "").split(",") if d.strip()]
# A MaxMind-format ASN database (.mmdb); empty: no ASN lookups.
ASN_DB = os.environ.get("TIPLINE_ASN_DB", "")
# RDAP for abuse contacts: a base URL, or empty for the public bootstrap.
RDAP_URL = os.environ.get("TIPLINE_RDAP_URL", "")
HOSTING_REFRESH_S = _env_float("TIPLINE_HOSTING_REFRESH_S", 24 * 3600)

# --- Cross-reference -----------------------------------------------------------------------
# A value carried by more items than this stops linking and is listed as common.
CROSSREF_COMMON_AFTER = _env_int("TIPLINE_CROSSREF_COMMON_AFTER", 50)
# Ad texts link when the Jaccard similarity of their word bigrams reaches this.
CROSSREF_TEXT_THRESHOLD = _env_float("TIPLINE_CROSSREF_TEXT_THRESHOLD", 0.6)

# --- Orient: routing, delivery, takedown -------------------------------------------------
# Who this instance is to its partners. COUNTRY (above) is "home" in the routing rules.
INSTANCE_ID = os.environ.get("TIPLINE_INSTANCE_ID", "tipline.local.example")
HOTLINE_NAME = os.environ.get("TIPLINE_HOTLINE_NAME", "Tipline demo hotline")
# Content matching a hash bank counts as assessed, so it may go without waiting.
ORIENT_KNOWN_IS_ASSESSED = _env_bool("TIPLINE_ORIENT_KNOWN_IS_ASSESSED", True)
# The outbox: retries back off from BASE to MAX; a message older than MAX_AGE is undeliverable.
OUTBOX_RETRY_BASE_S = _env_float("TIPLINE_OUTBOX_RETRY_BASE_S", 30.0)
OUTBOX_RETRY_MAX_S = _env_float("TIPLINE_OUTBOX_RETRY_MAX_S", 3600.0)
OUTBOX_MAX_AGE_S = _env_float("TIPLINE_OUTBOX_MAX_AGE_S", 7 * 86400.0)
OUTBOX_TIMEOUT_S = _env_float("TIPLINE_OUTBOX_TIMEOUT_S", 15.0)
# A row being sent is leased for this long (longer than a send may take): a worker killed
# mid-send leaves it to be sent again once the lease runs out.
OUTBOX_LEASE_S = _env_float("TIPLINE_OUTBOX_LEASE_S", 300.0)
# Fault injection for tests only: the inbox waits this long after storing an envelope
# before answering, so a test can kill it between the two.
EXCHANGE_TEST_DELAY_S = _env_float("TIPLINE_EXCHANGE_TEST_DELAY_S", 0.0)
# Takedown: re-check a noticed page this often; re-notice after RENOTICE; escalate after N.
TAKEDOWN_CHECK_S = _env_float("TIPLINE_TAKEDOWN_CHECK_S", 4 * 3600.0)
TAKEDOWN_RENOTICE_S = _env_float("TIPLINE_TAKEDOWN_RENOTICE_S", 24 * 3600.0)
TAKEDOWN_ESCALATE_AFTER = _env_int("TIPLINE_TAKEDOWN_ESCALATE_AFTER", 3)
# Where escalations (P1, hosts that do not act) are e-mailed: the supervisor on duty.
ESCALATION_EMAIL = os.environ.get("TIPLINE_ESCALATION_EMAIL", "duty@hotline.example")
DEFAULT_FROM_EMAIL = os.environ.get("TIPLINE_FROM_EMAIL", "notices@hotline.example")
# E-mail (Django's MAILERS): SMTP in production when TIPLINE_EMAIL_HOST is set; without
# it, notices and referrals are written as files under the data dir (the demo).
_EMAIL_HOST = os.environ.get("TIPLINE_EMAIL_HOST", "")
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _EMAIL_HOST,
            "port": _env_int("TIPLINE_EMAIL_PORT", 25),
            "username": os.environ.get("TIPLINE_EMAIL_USER", ""),
            "password": os.environ.get("TIPLINE_EMAIL_PASSWORD", ""),
            "use_tls": _env_bool("TIPLINE_EMAIL_TLS"),
            "timeout": 30,
        },
    }
    if _EMAIL_HOST
    else {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(DATA_DIR / "outbox-mail")},
    }
}

# --- Console: the analysts' queue ---------------------------------------------------------
# Time to assess, by priority (seconds): P1 1 h, P2 24 h, P3 72 h, P4 7 days.
CONSOLE_SLA_S = {
    "P1": _env_float("TIPLINE_SLA_P1_S", 3600.0),
    "P2": _env_float("TIPLINE_SLA_P2_S", 86400.0),
    "P3": _env_float("TIPLINE_SLA_P3_S", 3 * 86400.0),
    "P4": _env_float("TIPLINE_SLA_P4_S", 7 * 86400.0),
}
# Welfare: time spent with an un-blurred picture on screen counts against a daily cap
# that warns, then hides media for the day (INHOPE advises at most 4 h of viewing a day).
# With JavaScript the page measures it in beats while the picture is on screen and the tab
# visible; without, each un-blur counts CONSOLE_UNBLUR_S and the page blurs it again then.
CONSOLE_UNBLUR_S = _env_float("TIPLINE_UNBLUR_S", 60.0)
CONSOLE_EXPOSURE_BEAT_S = _env_float("TIPLINE_EXPOSURE_BEAT_S", 15.0)
CONSOLE_EXPOSURE_CAP_S = _env_float("TIPLINE_EXPOSURE_CAP_S", 4 * 3600.0)
CONSOLE_EXPOSURE_WARN = 0.8
# A claim on an item lapses after this, so nothing stays stuck with someone gone home.
CONSOLE_CLAIM_S = _env_float("TIPLINE_CLAIM_S", 1800.0)
# A console session left idle this long ends; whatever happens, it ends after
# SESSION_COOKIE_AGE (8 h, a working day).
CONSOLE_IDLE_S = _env_float("TIPLINE_IDLE_S", 1800.0)

# --- Intake limits (documented in README) -------------------------------------------------
INTAKE_MAX_REPORT_BYTES = _env_int("TIPLINE_MAX_REPORT_BYTES", 32 * 1024 * 1024)
INTAKE_MAX_BULK_BYTES = _env_int("TIPLINE_MAX_BULK_BYTES", 64 * 1024 * 1024)
INTAKE_MAX_BULK_REPORTS = 10_000
INTAKE_MAX_MEDIA_BYTES = _env_int("TIPLINE_MAX_MEDIA_BYTES", 16 * 1024 * 1024)
INTAKE_MAX_FORM_BYTES = INTAKE_MAX_MEDIA_BYTES + 1024 * 1024
# Django must not buffer more than we accept; multipart files stream to disk past 2.5 MB.
DATA_UPLOAD_MAX_MEMORY_SIZE = INTAKE_MAX_BULK_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
# The public form and the receipt status page, per client address: N per second, minute,
# hour or day ("off": no limit), counted in the database (tipline.common.ratelimit).
PUBLIC_REPORT_RATE = _env_rate("TIPLINE_PUBLIC_RATE", "20/hour")
PUBLIC_STATUS_RATE = _env_rate("TIPLINE_STATUS_RATE", "60/hour")
# Behind a reverse proxy, the header it sets to the client's address (e.g. X-Forwarded-For,
# whose last address is the one the proxy saw). Set it only if the proxy always sets it.
CLIENT_IP_HEADER = os.environ.get("TIPLINE_CLIENT_IP_HEADER", "").strip()

# --- Auth, i18n, static ------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/console/login/"
# Argon2 for new and changed passwords; older hashes still verify, and are upgraded.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # counts failures, refuses while locked out
    "django.contrib.auth.backends.ModelBackend",
]
# Staff sign in with a password and a TOTP code (an authenticator app).
REQUIRE_2FA = _env_bool("TIPLINE_REQUIRE_2FA", True)
OTP_TOTP_ISSUER = "Tipline"
# After 5 failed logins for one username from one address, 30 minutes of lockout.
AXES_FAILURE_LIMIT = _env_int("TIPLINE_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = _env_float("TIPLINE_LOCKOUT_H", 0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "tipline.console.views.locked_out"
SESSION_COOKIE_AGE = 8 * 3600
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
# Behind TLS: cookies only over HTTPS, plain HTTP redirected, browsers told to stay on
# HTTPS (HSTS). /healthz and /metrics stay reachable over HTTP for probes and scrapers
# inside the network.
SESSION_COOKIE_SECURE = TLS
CSRF_COOKIE_SECURE = TLS
SECURE_SSL_REDIRECT = _env_bool("TIPLINE_SSL_REDIRECT", TLS)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = _env_int("TIPLINE_HSTS_SECONDS", 365 * 86400 if TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("TIPLINE_HSTS_INCLUDE_SUBDOMAINS", True)
# Preloading is a promise to browser vendors that is slow to take back, and it concerns
# the whole registrable domain: the operator opts in, and the deploy check's reminder
# (security.W021) is silenced until then.
SECURE_HSTS_PRELOAD = _env_bool("TIPLINE_HSTS_PRELOAD")
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# The header the TLS-terminating proxy sets on HTTPS requests (e.g. X-Forwarded-Proto);
# set it only if the proxy always overwrites that header, or clients could claim HTTPS.
_PROXY_SSL_HEADER = os.environ.get("TIPLINE_PROXY_SSL_HEADER", "").strip()
if _PROXY_SSL_HEADER:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Every page's script and style come from Tipline's own files: no inline script, no other
# origin. A page that needs more says so (none does today).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Third-party browser libraries come from PyPI (XStatic packages) and are served from
# here, never from a CDN: the console works on a closed network.
STATICFILES_DIRS = [("xstatic/d3", xstatic_d3.BASE_DIR)]
# Serve app static files straight from the package: nothing to collect before `serve`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# --- Operations: logs, metrics, retention -------------------------------------------------
# plain: one readable line per event; json: one JSON object per line, for a log collector.
# Either way, e-mail addresses and phone numbers are masked before anything is written.
LOG_FORMAT = os.environ.get("TIPLINE_LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"TIPLINE_LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"contacts": {"()": "tipline.common.logs.RedactContacts"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "tipline.common.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["contacts"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("TIPLINE_LOG_LEVEL", "INFO")},
    "loggers": {
        # Not Django's own handlers (debug console, mail to admins), which would bypass the
        # masking: its records go up to ours.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# GET /metrics (Prometheus) answers only with `Authorization: Bearer <this token>`; unset,
# it answers no one.
METRICS_TOKEN = os.environ.get("TIPLINE_METRICS_TOKEN", "").strip()
# Stage latency on /metrics: the stages finished in this many seconds before a scrape.
METRICS_WINDOW_S = _env_float("TIPLINE_METRICS_WINDOW_S", 300.0)

# Retention: a reporter's name, e-mail and phone are erased this many days after every item
# of their report is closed (the report itself is kept); evidence files are deleted after
# their theme's number of days ("default" for themes not named; null keeps them).
RETENTION_REPORTER_DAYS = _env_int("TIPLINE_RETENTION_REPORTER_DAYS", 730)


def _evidence_days() -> dict[str, int | None]:
    raw = os.environ.get("TIPLINE_RETENTION_EVIDENCE_DAYS") or "{}"
    example = '{"default": 730, "fraud": 365, "csam": null}'
    try:
        given = json.loads(raw)
    except ValueError as e:
        raise ImproperlyConfigured(
            f"TIPLINE_RETENTION_EVIDENCE_DAYS is not JSON ({e}); expected e.g. {example}"
        ) from None
    if not isinstance(given, dict) or not all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
        for d in given.values()
    ):
        raise ImproperlyConfigured(
            f"TIPLINE_RETENTION_EVIDENCE_DAYS maps themes to days (or null: kept), e.g. {example}"
        )
    return {"default": 730, **given}


RETENTION_EVIDENCE_DAYS = _evidence_days()
# The workers apply retention once a day (the first of them to look after midnight UTC).
RETENTION_DAILY = _env_bool("TIPLINE_RETENTION_DAILY", True)
