"""Settings for THE_BOT, read from the environment (12-factor).

With nothing set the platform runs embedded: SQLite file, in-process cache and channel layer, tasks in the
same database, files on local disk. `DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to Redis.
`DJANGO_ENV=production` refuses to start on unsafe defaults and turns on the HTTPS hardening.

Every setting read from the environment is read here, through the env_* helpers below, and is listed with its
default in `.env.example` (tests/config/test_settings_env.py checks both). A `.env` file at the project root
fills in what the environment does not set (see `load_dotenv_file`).
"""

import copy
import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default or [])
    return [item.strip() for item in value.split(",") if item.strip()]


def load_dotenv_file() -> Path | None:
    """Read `.env` at the project root into the environment, never over a variable already set.

    `THEBOT_DOTENV` (environment only) chooses: unset reads `BASE_DIR/.env` except under pytest; `0` reads
    nothing; `1` reads `BASE_DIR/.env` even under pytest; any other value is the path of the file to read.
    pytest sets PYTEST_VERSION for its session and the processes it starts (servers, commands), so a developer's
    `.env` cannot change what the test suite runs against.
    """
    choice = os.environ.get("THEBOT_DOTENV", "").strip()
    if choice.lower() in {"0", "false", "no", "off"}:
        return None
    if choice and choice.lower() not in {"1", "true", "yes", "on"}:
        path = Path(choice)
    elif choice or "PYTEST_VERSION" not in os.environ:
        path = BASE_DIR / ".env"
    else:
        return None
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


DOTENV_FILE = load_dotenv_file()


DJANGO_ENV = env_str("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"

# bandit B105 (below): the embedded mode's key, refused in production (the check below; `make check-deploy`).
DEFAULT_SECRET_KEY = "insecure-embedded-default-key-change-me-in-production-0123456789"  # nosec B105
SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

if PRODUCTION:
    problems = []
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY must be set to a long random value")
    if DEBUG:
        problems.append("DEBUG must be off")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS must be set")
    if problems:
        raise ImproperlyConfigured("Refusing to start in production: " + "; ".join(problems))

INSTALLED_APPS = [
    "daphne",
    "accounts.admin_site.ThrottledAdminConfig",  # django.contrib.admin, login throttled
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "corsheaders",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    # Ours, in layer order (docs/architecture.md): each may import only the apps listed before it.
    "config",
    "accounts",
    "enrollments",
    "files",
    "jobs",
    "backups",
    "notifications",
    "chat",
    "materials",
    "people",
    "scheduling",
    "assignments",
    "invoices",
    "demo",
]

MIDDLEWARE = [
    "config.metrics.MetricsMiddleware",  # Prometheus: every request Django answers, by route (config/metrics.py)
    "config.middleware.RequestIdMiddleware",
    "config.db_router.ReplicaRoutingMiddleware",  # reads to replicas (DATABASE_REPLICA_URLS), else passes through
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.middleware.BodySizeLimitMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the API's messages in the Accept-Language (ru or en)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.DatabaseUnavailableMiddleware",  # a database outage in a Django view: 503, not 500
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database -------------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
# PostgreSQL only: psycopg's connection pool, its bounds per process, and how long a request waits for a connection.
DATABASE_POOL = env_bool("DATABASE_POOL", True)
DATABASE_POOL_MIN = env_int("DATABASE_POOL_MIN", 2)
DATABASE_POOL_MAX = env_int("DATABASE_POOL_MAX", 20)
# The wait is short (well under nginx's proxy_read_timeout, HTTP_TIMEOUT): with the database down a request answers
# 503 `service_unavailable` after it (config/exceptions.py), and a balancer or client retries; docs/operations.md
# "Connection pool" has the sizes per process against PostgreSQL's max_connections.
DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 3.0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request runs in its own thread, so persistent per-thread connections would pile up:
    # psycopg's pool shares a bounded set of connections instead (CONN_MAX_AGE must stay 0 with a pool).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    if DATABASE_POOL:
        # With CONN_HEALTH_CHECKS (conn_health_checks=True above) Django 5.2 gives the pool
        # check=ConnectionPool.check_connection: a connection is checked (an empty round trip) before it is handed
        # out, so that after a PostgreSQL restart or a terminated backend the pool does not hand dead connections
        # to requests (each one a 500). tests/faults/ proves it under load.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": DATABASE_POOL_MIN,
            "max_size": DATABASE_POOL_MAX,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
    # No JIT: our queries are short OLTP reads, and on `large` data the planner's cost estimates crossed
    # jit_above_cost, so PostgreSQL spent ~18 ms compiling a 3 ms query (a student's materials list, measured
    # with EXPLAIN ANALYZE). PostgreSQL's JIT is meant for long analytical queries.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    # SQLite: wait for the write lock instead of failing at once, and take it at the start of a transaction
    # so that check-then-insert services serialize.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # Tests use a file, not Django's default shared-cache in-memory database: there a read that meets another
    # connection's open write fails at once ("database table is locked"; no busy timeout applies), which made
    # tests with concurrent sockets flaky. A WAL file behaves as production does: readers never wait for writers.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "db.sqlite3-test")}
# Read replicas (docs/operations.md "Read replicas"): DATABASE_REPLICA_URLS (comma-separated, empty: none) adds the
# aliases replica_0, replica_1, … with the primary's options (pool, health checks); config.db_router sends an HTTP
# request's reads there and everything else to the primary. A user who wrote reads the primary for
# DATABASE_STICKY_SECONDS; a replica lagging more than DATABASE_REPLICA_MAX_LAG seconds or not answering within
# DATABASE_REPLICA_CONNECT_TIMEOUT seconds (libpq's minimum is 2) is skipped, rechecked every
# DATABASE_REPLICA_CHECK_SECONDS per process; a request waits at most DATABASE_REPLICA_POOL_TIMEOUT seconds for a
# replica's pooled connection before it reads the primary. Tests mirror the replicas onto the test database.
DATABASE_REPLICA_URLS = env_list("DATABASE_REPLICA_URLS")
DATABASE_STICKY_SECONDS = env_float("DATABASE_STICKY_SECONDS", 5.0)
DATABASE_REPLICA_MAX_LAG = env_float("DATABASE_REPLICA_MAX_LAG", 10.0)
DATABASE_REPLICA_CHECK_SECONDS = env_float("DATABASE_REPLICA_CHECK_SECONDS", 3.0)
DATABASE_REPLICA_CONNECT_TIMEOUT = env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 2)
DATABASE_REPLICA_POOL_TIMEOUT = env_float("DATABASE_REPLICA_POOL_TIMEOUT", 1.0)
DATABASE_REPLICAS = []
for _index, _url in enumerate(DATABASE_REPLICA_URLS):
    _replica = dj_database_url.parse(_url, conn_health_checks=True)
    if _replica["ENGINE"] != DATABASES["default"]["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS: a replica must use the primary's database engine")
    for _key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        _replica[_key] = DATABASES["default"][_key]
    _replica["OPTIONS"] = copy.deepcopy(DATABASES["default"].get("OPTIONS", {})) | _replica.get("OPTIONS", {})
    if _replica["ENGINE"] == "django.db.backends.postgresql":
        _replica["OPTIONS"]["connect_timeout"] = DATABASE_REPLICA_CONNECT_TIMEOUT
        if "pool" in _replica["OPTIONS"]:
            _replica["OPTIONS"]["pool"]["timeout"] = DATABASE_REPLICA_POOL_TIMEOUT
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES[f"replica_{_index}"] = _replica
    DATABASE_REPLICAS.append(f"replica_{_index}")
DATABASE_ROUTERS = ["config.db_router.ReplicaRouter"] if DATABASE_REPLICAS else []
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer ------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Prefix of every Redis key (cache, throttles, channel layer): lets several deployments share one Redis database.
CACHE_KEY_PREFIX = env_str("CACHE_KEY_PREFIX", "thebot")
# The embedded mode's in-process cache holds only short-lived security state (throttle and failed-login counters,
# chat tickets, presence): none of it may be evicted to make room for other entries. Django's LocMemCache held 300
# entries and dropped a third of them, live or not, when full; config.cache.LocalCache drops expired entries first,
# and 500 000 live entries (about 150 MB) are more than one embedded process can create within their lifetimes
# (docs/security.md). Chat tickets are bounded per user (the `chat_ticket` rate below).
EMBEDDED_CACHES = {"default": {"BACKEND": "config.cache.LocalCache", "OPTIONS": {"MAX_ENTRIES": 500_000}}}
# Redis that does not answer (paused, a network partition) must not stall requests: every command waits at most
# REDIS_SOCKET_TIMEOUT seconds, a connection attempt REDIS_CONNECT_TIMEOUT, and a connection idle for more than
# REDIS_HEALTH_CHECK_SECONDS is PINGed before use (the chat's subscriptions too, which then notice a dead Redis
# and resubscribe). The callers already fail open (throttles, presence) or tell sockets to resync (chat events).
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 1.0)
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 1.0)
REDIS_HEALTH_CHECK_SECONDS = env_int("REDIS_HEALTH_CHECK_SECONDS", 10)
# After a Redis command of a process times out or cannot connect, the process's Redis commands fail at once for this
# many seconds, then one tries again (config.cache.RedisBreaker): a request pays one timeout at most, not one per
# command. 0 turns it off.
REDIS_BREAKER_SECONDS = env_float("REDIS_BREAKER_SECONDS", 2.0)
REDIS_OPTIONS = {
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
    "health_check_interval": REDIS_HEALTH_CHECK_SECONDS,
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.SharedRedisCache",  # one Redis pool per process, not per context
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": dict(REDIS_OPTIONS),
        }
    }
    # Chat fan-out (docs/architecture.md "Chat"): Redis pub/sub, one PUBLISH per room event, which each server process
    # receives once and hands to its own sockets in the room. Measured against channels-redis' list-based layer (one
    # inbox entry per process, then a task per receiving consumer): less CPU per delivery and nothing lost to an
    # inbox's capacity. Like that layer it is at most once; clients resynchronize by message id.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.layer.ResyncingPubSubChannelLayer",  # tells sockets to resync after an outage
            "CONFIG": {"hosts": [{"address": REDIS_URL, **REDIS_OPTIONS}], "prefix": CACHE_KEY_PREFIX + ":asgi"},
        }
    }
else:
    CACHES = EMBEDDED_CACHES
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Response cache (core/caching.py, docs/performance.md "Cache"): answers read far more often than they change
# (profile/me, subjects, enrollments) under versioned keys; every write that can change one bumps its scopes'
# generation. Entries expire after API_CACHE_TIMEOUT seconds at most (a bound on staleness should an invalidation
# be lost with Redis); after a cache error the cache is skipped for API_CACHE_BREAKER_SECONDS (straight to the
# database, no per-request socket timeout).
API_CACHE_ENABLED = env_bool("API_CACHE_ENABLED", True)
API_CACHE_TIMEOUT = env_int("API_CACHE_TIMEOUT", 600)
API_CACHE_BREAKER_SECONDS = env_float("API_CACHE_BREAKER_SECONDS", 5.0)
# --- Background jobs -----------------------------------------------------------------------------------
# One mechanism everywhere: django-tasks with its database backend. Jobs are rows in the main database, so
# they survive restarts, any number of `manage.py run_worker` processes on any machine share them, and the
# embedded mode needs no extra server.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Periodic jobs are declared by each app beside its tasks (`PERIODIC_JOBS` in `<app>/tasks.py`) and enqueued by every
# worker's scheduler, once per slot (jobs/scheduler.py).
# Workers survive database outages: a failing poll waits 1, 2, 4 … seconds, at most WORKER_BACKOFF_MAX_SECONDS.
WORKER_BACKOFF_MAX_SECONDS = env_float("WORKER_BACKOFF_MAX_SECONDS", 30.0)
# Each worker touches its `jobs.WorkerHeartbeat` row this often; the row names the job it runs (its lease).
WORKER_HEARTBEAT_SECONDS = env_float("WORKER_HEARTBEAT_SECONDS", 5.0)
# A RUNNING job whose worker has not beaten for this long is put back in the queue by another worker
# (or failed after WORKER_JOB_MAX_ATTEMPTS runs). Longer than any database outage the workers should outlive.
WORKER_LEASE_SECONDS = env_float("WORKER_LEASE_SECONDS", 300.0)
WORKER_JOB_MAX_ATTEMPTS = env_int("WORKER_JOB_MAX_ATTEMPTS", 3)
# Readiness (/api/health/ready/): all checks run at once and answer within this deadline; with a worker
# expected, the freshest worker heartbeat must be younger than READINESS_WORKER_MAX_AGE_SECONDS.
READINESS_TIMEOUT_SECONDS = env_float("READINESS_TIMEOUT_SECONDS", 1.0)
READINESS_EXPECT_WORKER = env_bool("READINESS_EXPECT_WORKER", False)
READINESS_WORKER_MAX_AGE_SECONDS = env_float("READINESS_WORKER_MAX_AGE_SECONDS", 30.0)
# Graceful shutdown (issue 18): on SIGTERM the server (config/server.py) stops accepting, closes its WebSockets with
# 1012 (service restart: clients reconnect and resync) and lets requests in flight finish for at most
# SHUTDOWN_GRACE_SECONDS; a worker (jobs/worker.py) lets its running job finish for at most
# WORKER_SHUTDOWN_GRACE_SECONDS, else gives it back to the queue (not counted as a failed run). Both then exit 0.
# docker-compose.yml's stop_grace_period (30 s) is above both, with room for the process to exit.
SHUTDOWN_GRACE_SECONDS = env_float("SHUTDOWN_GRACE_SECONDS", 20.0)
WORKER_SHUTDOWN_GRACE_SECONDS = env_float("WORKER_SHUTDOWN_GRACE_SECONDS", 20.0)

# --- Auth ----------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2PasswordHasher",  # OWASP parameters (accounts/hashers.py)
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
TOKEN_TTL_HOURS = env_int("TOKEN_TTL_HOURS", 7 * 24)
TOKEN_TTL = timedelta(hours=TOKEN_TTL_HOURS)
REST_KNOX = {
    "TOKEN_TTL": TOKEN_TTL,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
    "TOKEN_LIMIT_PER_USER": None,  # nosec B105  # a setting named "token", not a password
}
# Failed logins allowed per window before 429: per account, and per client address (generous: a whole
# school may sit behind one address).
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 5)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 100)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 60)
# Number of trusted reverse proxies in front of Daphne (0: use the socket address).
NUM_PROXIES = env_int("NUM_PROXIES", 0)

# --- REST framework ------------------------------------------------------------------------------------
# Request rates ("N/second|minute|hour|day") of DRF's throttle scopes: anonymous and signed-in callers, and the
# scopes of password change, multipart uploads, sending invoices and starting payments.
THROTTLE_ANON = env_str("THROTTLE_ANON", "300/min")
THROTTLE_USER = env_str("THROTTLE_USER", "3000/min")
THROTTLE_PASSWORD_CHANGE = env_str("THROTTLE_PASSWORD_CHANGE", "10/hour")
THROTTLE_UPLOADS = env_str("THROTTLE_UPLOADS", "120/hour")
THROTTLE_INVOICE_SEND = env_str("THROTTLE_INVOICE_SEND", "120/hour")
THROTTLE_PAYMENTS = env_str("THROTTLE_PAYMENTS", "30/hour")
THROTTLE_PAYMENT_WEBHOOK = env_str("THROTTLE_PAYMENT_WEBHOOK", "120/min")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "config.filters.SearchFilter",
        "config.filters.OrderingFilter",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": THROTTLE_ANON,
        "user": THROTTLE_USER,
        "password_change": THROTTLE_PASSWORD_CHANGE,
        "uploads": THROTTLE_UPLOADS,
        "invoice_send": THROTTLE_INVOICE_SEND,
        "payments": THROTTLE_PAYMENTS,
        "payment_webhook": THROTTLE_PAYMENT_WEBHOOK,
        # Chat tickets per user: at most twice this many live at once (each lives 60 s), which bounds the
        # embedded cache's entries per user.
        "chat_ticket": "30/min",
    },
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "THE_BOT API",
    "DESCRIPTION": "Private-tutoring platform: accounts, materials, scheduling, assignments, chat, invoices.",
    "VERSION": "1.0.0",
    # Operation ids and tags drop this prefix (left to detection, `/` would make it empty: ids like api_materials_list).
    "SCHEMA_PATH_PREFIX": r"/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several components have a `status` field: each state machine gets its own enum name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "AssignmentStatusEnum": "assignments.models.AssignmentStatus",
        "SubmissionStatusEnum": "assignments.models.SubmissionStatus",
        "InvoiceStatusEnum": "invoices.models.InvoiceStatus",
        "PaymentStatusEnum": "invoices.models.PaymentStatus",
        "MaterialStatusEnum": "materials.models.MaterialStatus",
        "LessonStatusEnum": "scheduling.models.LessonStatus",
        "MaterialKindEnum": "materials.models.MaterialKind",
        "RoomKindEnum": "chat.models.RoomKind",
        "InvoiceLineKindEnum": "invoices.models.LineKind",
        # A user is one variant per role (config/schema.py), each with its own one-value `role`.
        "RoleEnum": "accounts.models.Role",
        **{f"Role{role.capitalize()}Enum": [role] for role in ("student", "teacher", "tutor", "parent", "admin")},
    },
    # `<id:…>` path segments (config.parsing.IdConverter): a bounded id.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}},
}

# --- Bounds on input -----------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
DATA_UPLOAD_MAX_NUMBER_FILES = 10
UPLOAD_MAX_FILE_SIZE = env_int("UPLOAD_MAX_FILE_SIZE", 25 * 1024 * 1024)
# Whole request body (files included); a bit above one maximal file plus its form fields. The largest body of any
# request, allowed only on the upload endpoints (config/body_limits.py); every other route has a smaller limit below.
REQUEST_MAX_BODY_SIZE = env_int("REQUEST_MAX_BODY_SIZE", UPLOAD_MAX_FILE_SIZE + 1024 * 1024)
# Per-route body limits, decided from the method and path before any byte of the body is read (by our Daphne
# request class in config/server.py, by config.body_limits.BodyLimitGuard under any ASGI server, and by
# config.middleware.BodySizeLimitMiddleware): JSON endpoints, the logins, the two anonymous webhooks.
JSON_MAX_BODY_SIZE = env_int("JSON_MAX_BODY_SIZE", 1024 * 1024)
LOGIN_MAX_BODY_SIZE = env_int("LOGIN_MAX_BODY_SIZE", 4 * 1024)
WEBHOOK_MAX_BODY_SIZE = env_int("WEBHOOK_MAX_BODY_SIZE", 64 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Behind nginx, private files are sent by the proxy (X-Accel-Redirect) after the app checked access.
PRIVATE_FILES_X_ACCEL = env_bool("PRIVATE_FILES_X_ACCEL", False)

# --- CORS ----------------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]

# --- Static and media ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
# collectstatic target in production; the embedded mode serves from the apps (WHITENOISE_USE_FINDERS).
STATIC_ROOT = BASE_DIR / "staticfiles" if PRODUCTION else None
# Uploaded files live outside any public path; they are served only by views that check access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media-not-public/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Embedded mode serves static files straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- i18n ----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "RUB"

# --- Security ------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# HTTPS hardening, in production only: redirect plain HTTP to HTTPS, and the HSTS max-age.
SECURE_SSL_REDIRECT = PRODUCTION and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365) if PRODUCTION else 0
if PRODUCTION:
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # TLS ends at the reverse proxy, which sets X-Forwarded-Proto: trusted only behind NUM_PROXIES proxies (a
    # client talking to Daphne directly could claim https with it).
    if NUM_PROXIES:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Health probes arrive over plain HTTP from the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^api/health/"]

# --- Logging -------------------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")  # every logger's threshold (JSON lines on stderr)
REQUEST_LOG_LEVEL = env_str("REQUEST_LOG_LEVEL", "INFO")  # threshold of the one-line-per-request log
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.logging.RequestIdFilter"},
        "client_errors": {"()": "config.logging.ClientErrorLevelFilter"},
        "secret_paths": {"()": "config.logging.SecretPathFilter"},
    },
    "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "client_errors", "secret_paths"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Each request has one line, from config.middleware (INFO; 503 WARNING; other 5xx ERROR). Django's
        # django.request keeps only the tracebacks of unhandled exceptions (ERROR), not its 4xx warnings.
        "django.request": {"level": "ERROR", "filters": ["secret_paths"]},
        "django.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "thebot.requests": {"level": REQUEST_LOG_LEVEL},
    },
}

# chat
CHAT_SEND_PER_SECOND = env_int("CHAT_SEND_PER_SECOND", 20)  # messages per user and second, across processes
CHAT_SESSION_CHECK_SECONDS = env_float("CHAT_SESSION_CHECK_SECONDS", 30.0)  # revoked sessions lose their sockets
CHAT_MAX_SOCKETS_PER_USER = env_int("CHAT_MAX_SOCKETS_PER_USER", 10)  # open sockets per user, across processes
# Presence and the socket cap are per-socket leases (chat/presence.py): each process renews its sockets' leases every
# CHAT_PRESENCE_REFRESH_SECONDS; a dead process's leases expire after CHAT_PRESENCE_LEASE_SECONDS, and the next
# renewal of any live process announces their users offline (within lease + refresh: a minute by default).
CHAT_PRESENCE_LEASE_SECONDS = env_float("CHAT_PRESENCE_LEASE_SECONDS", 45.0)
CHAT_PRESENCE_REFRESH_SECONDS = env_float("CHAT_PRESENCE_REFRESH_SECONDS", 15.0)
if not 0 < CHAT_PRESENCE_REFRESH_SECONDS < CHAT_PRESENCE_LEASE_SECONDS:
    raise ImproperlyConfigured("CHAT_PRESENCE_REFRESH_SECONDS must be above 0 and below CHAT_PRESENCE_LEASE_SECONDS")
CHAT_TYPING_INTERVAL_SECONDS = env_int("CHAT_TYPING_INTERVAL_SECONDS", 2)  # one typing per user and room relayed
# Bytes of chat attachments one user may send in a day (a window opened by their first attachment), across processes.
CHAT_ATTACHMENT_BYTES_PER_DAY = env_int("CHAT_ATTACHMENT_BYTES_PER_DAY", 200 * 1024 * 1024)

# scheduling
LESSON_REMINDER_MINUTES = env_int("LESSON_REMINDER_MINUTES", 60)

# notifications (the Telegram channel)
TELEGRAM_API_BASE_URL = env_str("TELEGRAM_API_BASE_URL", "https://api.telegram.org")
TELEGRAM_BOT_TOKEN = env_str("TELEGRAM_BOT_TOKEN")  # Telegram is off while unset
TELEGRAM_BOT_USERNAME = env_str("TELEGRAM_BOT_USERNAME")
TELEGRAM_WEBHOOK_SECRET = env_str("TELEGRAM_WEBHOOK_SECRET")
TELEGRAM_TIMEOUT_SECONDS = env_float("TELEGRAM_TIMEOUT_SECONDS", 10.0)
TELEGRAM_CLIENT_ATTEMPTS = env_int("TELEGRAM_CLIENT_ATTEMPTS", 3)
TELEGRAM_CLIENT_BACKOFF_SECONDS = env_float("TELEGRAM_CLIENT_BACKOFF_SECONDS", 0.5)
TELEGRAM_MAX_INLINE_WAIT = env_float("TELEGRAM_MAX_INLINE_WAIT", 5.0)
TELEGRAM_JOB_MAX_ATTEMPTS = env_int("TELEGRAM_JOB_MAX_ATTEMPTS", 5)
TELEGRAM_JOB_BACKOFF_SECONDS = env_int("TELEGRAM_JOB_BACKOFF_SECONDS", 30)
TELEGRAM_LINK_TTL_SECONDS = env_int("TELEGRAM_LINK_TTL_SECONDS", 15 * 60)
# The buttons pressed in Telegram ("<action>:<id>" callback data): the service of the app that owns each action,
# called by notifications' webhook with the chat's linked user (notifications sits below these apps: it cannot
# import them). Code, not deployment: no environment variable.
TELEGRAM_CALLBACK_ACTIONS = {"invoice_seen": "invoices.services.telegram_invoice_seen"}

# notifications: email, preferences, unsubscribe links, password reset by email, languages (issue 19)
# Email through Django's email framework. Default: each message is a file under var/mail/ (no mail server needed);
# EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST/PORT/... sends through SMTP.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "THE_BOT <noreply@thebot.example>")
EMAIL_NOTIFICATIONS = env_bool("EMAIL_NOTIFICATIONS", True)  # the email channel of notifications on/off
EMAIL_JOB_MAX_ATTEMPTS = env_int("EMAIL_JOB_MAX_ATTEMPTS", 5)
EMAIL_JOB_BACKOFF_SECONDS = env_int("EMAIL_JOB_BACKOFF_SECONDS", 30)
# Where links in emails point: the unsubscribe page (the API's, {token}) and the password reset form ({uid}, {token}).
EMAIL_UNSUBSCRIBE_URL_TEMPLATE = env_str(
    "EMAIL_UNSUBSCRIBE_URL_TEMPLATE", "https://thebot.example/api/notifications/unsubscribe/?token={token}"
)
EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS = env_int("EMAIL_UNSUBSCRIBE_MAX_AGE_DAYS", 365)
PASSWORD_RESET_URL_TEMPLATE = env_str(
    "PASSWORD_RESET_URL_TEMPLATE", "https://thebot.example/reset-password?uid={uid}&token={token}"
)
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60)  # seconds a reset link works (single use)
# Reset requests: per client address (429 over it) and per email address asked for (the same 429, whether or not
# an account has it), per window of PASSWORD_RESET_WINDOW_SECONDS.
THROTTLE_PASSWORD_RESET = env_str("THROTTLE_PASSWORD_RESET", "20/hour")
PASSWORD_RESET_PER_EMAIL = env_int("PASSWORD_RESET_PER_EMAIL", 3)
PASSWORD_RESET_WINDOW_SECONDS = env_int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["password_reset"] = THROTTLE_PASSWORD_RESET
# Languages of messages to people (API `detail`s, emails, Telegram): the user's `language`, else Accept-Language.
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]

# invoices
INVOICE_PAY_URL_TEMPLATE = env_str("INVOICE_PAY_URL_TEMPLATE", "https://thebot.example/invoices/{id}/pay")
PAYMENT_API_BASE_URL = env_str("PAYMENT_API_BASE_URL", "https://api.yookassa.ru/v3")
PAYMENT_SHOP_ID = env_str("PAYMENT_SHOP_ID")  # payments are off while unset
PAYMENT_SECRET_KEY = env_str("PAYMENT_SECRET_KEY")
PAYMENT_TIMEOUT_SECONDS = env_float("PAYMENT_TIMEOUT_SECONDS", 10.0)
# The anonymous payment webhook drives at most one provider read per payment of ours that can still change, per
# interval (claimed atomically in the database), each with a short timeout.
PAYMENT_WEBHOOK_TIMEOUT_SECONDS = env_float("PAYMENT_WEBHOOK_TIMEOUT_SECONDS", 3.0)
PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS = env_float("PAYMENT_WEBHOOK_CHECK_INTERVAL_SECONDS", 10.0)
PAYMENT_RETURN_URL = env_str("PAYMENT_RETURN_URL", "https://thebot.example/invoices/{id}")

# --- Metrics and backups (issue 18: Prometheus config/metrics.py; make backup/restore backups/archive.py) -----
# `GET /metrics` answers a bearer token equal to METRICS_TOKEN (empty: no token opens it), or a direct peer (no
# X-Forwarded-For) whose address is in METRICS_ALLOWED_NETS (CIDRs; empty: none). nginx refuses /metrics.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_NETS = env_list("METRICS_ALLOWED_NETS", ["127.0.0.0/8", "::1/128"])
try:
    METRICS_ALLOWED_NETS = [str(ipaddress.ip_network(net, strict=False)) for net in METRICS_ALLOWED_NETS]
except ValueError as error:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETS: {error}") from error
if PRODUCTION:
    SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]  # scraped over plain HTTP, inside
# `manage.py backup` (make backup) makes its folders here; `manage.py restore` takes the newest.
BACKUP_DIR = Path(env_str("BACKUP_DIR", str(BASE_DIR / "var" / "backups")))
# billing (issue 19: rates, invoice lines, billing runs; docs/api.md "Billing")
# A cancellation by the student's side (student or parent) less than this many hours before the start is billed.
BILLING_CANCELLATION_NOTICE_HOURS = env_int("BILLING_CANCELLATION_NOTICE_HOURS", 24)
# The monthly periodic job bills the previous calendar month for every tutor (drafts only; sending stays explicit).
BILLING_MONTHLY_RUN = env_bool("BILLING_MONTHLY_RUN", False)
# Days from a billing run to the due date of the drafts it creates.
BILLING_DUE_DAYS = env_int("BILLING_DUE_DAYS", 14)
# Negative manual lines (discounts) of an invoice may take off at most this percentage of its other lines.
BILLING_MAX_DISCOUNT_PERCENT = env_int("BILLING_MAX_DISCOUNT_PERCENT", 50)

# --- Demo data ----------------------------------------------------------------------------------------
# Password of every demo user made by `manage.py seed_demo` (empty: its built-in "demo-pass-2026").
DEMO_PASSWORD = env_str("DEMO_PASSWORD")
