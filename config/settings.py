"""Settings for the video generation service, driven entirely by the environment.

With no configuration at all the service runs embedded: SQLite under var/, local-memory
cache, django-q2's ORM broker, local file storage and the offline `local` provider.
`DATABASE_URL`, `REDIS_URL` and `AWS_STORAGE_BUCKET_NAME` switch each piece to its
at-scale counterpart (see README.md).
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _prometheus_multiproc_dir() -> Path:
    """One metrics directory per host, shared by web and workers (see videogen/observability.py).

    prometheus_client picks multiprocess mode when it is first imported, so this runs before
    anything imports it (config/settings_test.py points the tests at directories of their own).
    """
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(VAR_DIR / "prometheus"))
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


PROMETHEUS_MULTIPROC_DIR = _prometheus_multiproc_dir()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-secret-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files: /api/docs/ works offline
    "clients",
    "campaigns",
    # Before django_q: videogen's `qcluster` command (the cluster plus the provider poller) wins.
    "videogen",
    "django_q",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "config.middleware.RequestIdMiddleware",
    "config.logging.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
# API routes accept an optional trailing slash themselves; a redirect would drop POST bodies.
APPEND_SLASH = False
WSGI_APPLICATION = "config.wsgi.application"

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
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
# Worker processes (qcluster, run_poller) keep their connections this long between tasks (checked
# before reuse); the ASGI web process opens one per request (CONN_MAX_AGE 0, as Django advises).
WORKER_DB_CONN_MAX_AGE = int(os.environ.get("WORKER_DB_CONN_MAX_AGE", "60"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes write concurrently: WAL + a busy timeout + IMMEDIATE
    # transactions avoid "database is locked" (Django 5.1+).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["ENGINE"] = "django_prometheus.db.backends.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, throttles, circuit state --------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    _shared_cache = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "videogen"),
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    }
    CACHES = {"default": _shared_cache, "shared": _shared_cache}
else:
    # "default" stays per-process (CONTRACT: local memory). Throttles and the circuit breaker
    # must be shared between the web and the worker processes, so they use the database cache.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "videogen_shared_cache"},
    }
SHARED_CACHE_ALIAS = "shared"

# --- Task queue (django-q2) -----------------------------------------------------------------
# Tasks are short, resumable steps (see videogen/pipeline): `timeout` must stay below `retry`
# or django-q2 hands a still-running task to a second worker.
Q_CLUSTER = {
    # Not Q_CLUSTER_NAME: django-q2 reads that variable itself, as the name of an alternative cluster.
    "name": os.environ.get("TASK_QUEUE_NAME", "videogen"),
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "recycle": 200,
    "timeout": int(os.environ.get("Q_TIMEOUT", "240")),
    "retry": int(os.environ.get("Q_RETRY", "300")),
    "max_attempts": 3,
    "ack_failures": True,
    "save_limit": 500,
    "queue_limit": 20,
    "catch_up": False,
    "poll": float(os.environ.get("Q_POLL", "0.2")),
    "label": "Task queue",
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Storage ------------------------------------------------------------------------------
VIDEO_STORAGE_PATH = Path(os.environ.get("VIDEO_STORAGE_PATH", VAR_DIR / "media"))
MEDIA_ROOT = VIDEO_STORAGE_PATH
MEDIA_URL = "/media/"
MEDIA_URL_TTL_SECONDS = int(os.environ.get("MEDIA_URL_TTL_SECONDS", "3600"))
# This process's own scratch space: downloads of stored files for FFmpeg, assembly and export
# folders. Never shared: everything another process needs goes through the media storage.
SCRATCH_DIR = Path(os.environ.get("SCRATCH_DIR") or VAR_DIR / "work")
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
# S3-compatible endpoint (MinIO, moto, Ceph ...); unset means AWS itself. Credentials come from
# AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an instance role), read by boto3.
AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
# Where browsers reach the bucket, when that differs from AWS_S3_ENDPOINT_URL (e.g. a container
# network name for the app, localhost for the browser): presigned URLs are signed for this host.
AWS_S3_PUBLIC_ENDPOINT_URL = os.environ.get("AWS_S3_PUBLIC_ENDPOINT_URL") or None
AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
# Path style (`host/bucket/key`) for custom endpoints: no wildcard DNS needed.
AWS_S3_ADDRESSING_STYLE = os.environ.get("AWS_S3_ADDRESSING_STYLE") or ("path" if AWS_S3_ENDPOINT_URL else None)
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_LOCATION = os.environ.get("AWS_LOCATION", "")  # key prefix inside the bucket
AWS_DEFAULT_ACL = None  # objects stay private: they leave only through presigned URLs
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = MEDIA_URL_TTL_SECONDS
AWS_S3_FILE_OVERWRITE = True  # refines replace scene images under the same name
if AWS_STORAGE_BUCKET_NAME:
    STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    }
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Admin assets are served straight from the installed apps: no collectstatic step to forget.
WHITENOISE_USE_FINDERS = True
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "").rstrip("/")
# Hosts that outbound requests to tenant-supplied URLs (callbacks, logo URLs) may reach even though they
# resolve to private/loopback addresses (videogen/netguard.py). Empty: public internet only.
CALLBACK_ALLOWED_HOSTS = env_list("CALLBACK_ALLOWED_HOSTS")

# Uploads stream to disk past 2.5 MB; the 50 MB limit is enforced while streaming.
MAX_UPLOAD_BYTES = int(os.environ.get("MAX_UPLOAD_BYTES", 50 * 1024 * 1024))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = None
FILE_UPLOAD_HANDLERS = [
    "videogen.api.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# --- Auth, API ------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
REST_FRAMEWORK = {
    # simplejwt's JWTAuthentication, logging forged tokens as auth bypass attempts (config/security.py).
    "DEFAULT_AUTHENTICATION_CLASSES": ["config.security.AuditedJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only: nested fields (brandGuidelines, brief) do not survive a form encoding. The upload view
    # declares its own multipart parser.
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],  # size- and depth-limited (config/parsers.py)
    # drf-spectacular, plus the error envelope for the codes each operation can answer (config/schema.py).
    "DEFAULT_SCHEMA_CLASS": "config.schema.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_RATES": {
        "upload": os.environ.get("THROTTLE_UPLOAD", "10/min"),
        "generate": os.environ.get("THROTTLE_GENERATE", "5/min"),
        "poll": os.environ.get("THROTTLE_POLL", "30/min"),
        "approve": os.environ.get("THROTTLE_APPROVE", "5/min"),
        "render": os.environ.get("THROTTLE_RENDER", "2/min"),
        "refine": os.environ.get("THROTTLE_REFINE", "3/min"),
        "list": os.environ.get("THROTTLE_LIST", "30/min"),
        # Login attempts (token endpoint and admin login form), against password guessing.
        "login_user": os.environ.get("THROTTLE_LOGIN_USER", "10/min"),
        "login_ip": os.environ.get("THROTTLE_LOGIN_IP", "30/min"),
        "analytics": os.environ.get("THROTTLE_ANALYTICS", "30/min"),
        # Opening a live-update stream (per user; per job for a signed eventsUrl). EventSource reconnects
        # every EVENTS_MAX_STREAM_SECONDS and after a network blip: a dashboard of 20 jobs stays far below.
        "events": os.environ.get("THROTTLE_EVENTS", "60/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # How many reverse proxies in front of gunicorn append to X-Forwarded-For (0: use REMOTE_ADDR only,
    # so a client cannot pick its own address to dodge the per-IP login limit).
    "NUM_PROXIES": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
    # `?format=` is the /data endpoint's own parameter (mp4|gif|webm), not renderer negotiation.
    "URL_FORMAT_OVERRIDE": None,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=int(os.environ.get("JWT_ACCESS_MINUTES", "30"))),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # Each refresh token works once: refreshing returns a new one and blacklists the old, so a stolen
    # refresh token stops working as soon as either party uses it. /auth/logout blacklists one.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Video generation API",
    "DESCRIPTION": "Turns a marketer's brief into short video ads (v2 contract).",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v2",
    "ENUM_NAME_OVERRIDES": {},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "http://localhost:3000")
CORS_EXPOSE_HEADERS = ["ETag", "Location", "Retry-After", "Content-Range", "X-Request-ID"]
CORS_ALLOW_HEADERS = (
    "accept", "authorization", "content-type", "if-none-match", "idempotency-key", "range", "x-request-id",
    "last-event-id",  # EventSource sends it on reconnect (live updates)
)
# A refused CSRF check answers the JSON envelope, not Django's HTML page.
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS only when the deployment says it is served over HTTPS (SECURE_HSTS_SECONDS=31536000).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Provider ------------------------------------------------------------------------------
REPLICATE_API_TOKEN = os.environ.get("REPLICATE_API_TOKEN") or os.environ.get("REPLICATE_API_KEY", "")
VIDEOGEN_PROVIDER = os.environ.get("VIDEOGEN_PROVIDER") or ("replicate" if REPLICATE_API_TOKEN else "local")
REPLICATE_BASE_URL = os.environ.get("REPLICATE_BASE_URL", "")
REPLICATE_STORYBOARD_MODEL = os.environ.get("REPLICATE_STORYBOARD_MODEL", "black-forest-labs/flux-schnell")
REPLICATE_HD_MODEL = os.environ.get("REPLICATE_HD_MODEL", "black-forest-labs/flux-pro")
REPLICATE_VIDEO_MODEL = os.environ.get("REPLICATE_VIDEO_MODEL", "wavespeedai/wan-2.1-i2v-480p")
REPLICATE_UPSCALE_MODEL = os.environ.get("REPLICATE_UPSCALE_MODEL", "topazlabs/video-upscale")
# Voiceover text-to-speech: a community model, so pinned by version ("owner/name:version").
REPLICATE_TTS_MODEL = os.environ.get(
    "REPLICATE_TTS_MODEL", "jaaari/kokoro-82m:f559560eb822dc509045f3921a1921234918b91739db4bf3daab2169b71c7a13"
)
# Scene planning: "auto" plans with the LLM when the provider is Replicate, else with the offline
# rules; "rules" always uses the rules planner (no LLM spend).
VIDEOGEN_PLANNER = os.environ.get("VIDEOGEN_PLANNER", "auto").strip().lower()
REPLICATE_PLANNER_MODEL = os.environ.get("REPLICATE_PLANNER_MODEL", "meta/meta-llama-3-8b-instruct")
# All LLM planner attempts together (PRD 3.4: prompt parsing 30 s); then the rules planner takes over.
PLANNER_TIMEOUT_SECONDS = env_float("PLANNER_TIMEOUT_SECONDS", 30.0)
REPLICATE_WEBHOOK_SECRET = os.environ.get("REPLICATE_WEBHOOK_SECRET", "")
PROVIDER_CONCURRENCY = int(os.environ.get("PROVIDER_CONCURRENCY", "8"))
# Scales the provider backoff of 5/15/45 s (docs/design.md, Timeouts and retries); tests shrink it.
PROVIDER_BACKOFF_SCALE = env_float("PROVIDER_BACKOFF_SCALE", 1.0)
# The provider poller (videogen/pipeline/poller.py): one loop per deployment, run by every qcluster
# (one holds the lease, the others stand by). A prediction near or past its model's usual run time
# is polled every POLLER_INTERVAL; a younger one every POLLER_SLOW_INTERVAL (pipeline/poller.py).
POLLER_INTERVAL = env_float("POLLER_INTERVAL", 1.0)
POLLER_SLOW_INTERVAL = env_float("POLLER_SLOW_INTERVAL", 5.0)
POLLER_LEASE_SECONDS = int(os.environ.get("POLLER_LEASE_SECONDS", "10"))
POLLER_IN_QCLUSTER = env_bool("POLLER_IN_QCLUSTER", True)
# Scales the prediction timeouts (120 s image, 600 s video); tests shrink it.
PROVIDER_TIMEOUT_SCALE = env_float("PROVIDER_TIMEOUT_SCALE", 1.0)
CIRCUIT_FAILURE_THRESHOLD = int(os.environ.get("CIRCUIT_FAILURE_THRESHOLD", "3"))
CIRCUIT_OPEN_SECONDS = int(os.environ.get("CIRCUIT_OPEN_SECONDS", "300"))

# --- Pipeline -------------------------------------------------------------------------------
VIDEO_FPS = int(os.environ.get("VIDEO_FPS", "24"))
# Steps are short (no step waits on the provider): a worker killed mid-step is noticed once its
# lease expires (heartbeat every LEASE_SECONDS / 4) and its step resumes within about 30 s.
STEP_BUDGET_SECONDS = env_float("STEP_BUDGET_SECONDS", 60.0)
LEASE_SECONDS = int(os.environ.get("LEASE_SECONDS", "20"))
STALL_AFTER_MINUTES = int(os.environ.get("STALL_AFTER_MINUTES", "15"))
STALLED_FAIL_AFTER_MINUTES = int(os.environ.get("STALLED_FAIL_AFTER_MINUTES", "60"))
# Active work with no lease, no prediction in flight and no wake-up this long is re-queued (lost task).
WATCHDOG_AFTER_SECONDS = int(os.environ.get("WATCHDOG_AFTER_SECONDS", "30"))
SCENE_CACHE_HOURS = int(os.environ.get("SCENE_CACHE_HOURS", "24"))

# --- Money: the daily budget (docs/design.md, Cost estimate and budget) -------------------------
DAILY_BUDGET_SOFT = Decimal(os.environ.get("DAILY_BUDGET_SOFT", "100"))
DAILY_BUDGET_HARD = Decimal(os.environ.get("DAILY_BUDGET_HARD", "150"))

# --- Observability ----------------------------------------------------------------------------
# /metrics is open unless one of these is set (config/metrics_access.py): allowed scraper networks
# (comma-separated CIDRs) and/or a bearer token the scraper sends.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS")
METRICS_BEARER_TOKEN = os.environ.get("METRICS_BEARER_TOKEN", "")
PROMETHEUS_EXPORT_MIGRATIONS = False
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
# One structured format for web and workers, stdlib records included (config/logging.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "console" if DEBUG else "json")
LOGGING_CONFIG = "config.logging.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": "config.logging.build_formatter", "fmt": LOG_FORMAT}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structured"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own handlers (plain text console, mail_admins) are dropped: everything goes to root.
        "django": {"handlers": [], "level": LOG_LEVEL},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.request": {"level": "ERROR"},
        "django-q": {"level": os.environ.get("Q_LOG_LEVEL", "WARNING")},
    },
}

# --- Live updates (Server-Sent Events) and status callbacks -------------------------------------
# How changes reach the open streams of a serving process (videogen/live/): "redis" (pub/sub, when
# REDIS_URL is set), "postgres" (LISTEN/NOTIFY, on PostgreSQL without Redis) or "poll" (the embedded
# SQLite default: one query for the versions of all watched jobs per EVENTS_POLL_INTERVAL per process).
EVENTS_BACKEND = os.environ.get("EVENTS_BACKEND") or (
    "redis" if REDIS_URL else "postgres" if "postgresql" in DATABASES["default"]["ENGINE"] else "poll"
)
EVENTS_CHANNEL = os.environ.get("CACHE_KEY_PREFIX", "videogen") + "_job_changed"
EVENTS_POLL_INTERVAL = env_float("EVENTS_POLL_INTERVAL", 1.0)
# With pub/sub, a version check this often (one query per process) catches a lost message.
EVENTS_RESYNC_SECONDS = env_float("EVENTS_RESYNC_SECONDS", 30.0)
EVENTS_HEARTBEAT_SECONDS = env_float("EVENTS_HEARTBEAT_SECONDS", 15.0)
# Streams are closed after this long; EventSource reconnects with Last-Event-ID (and authenticates again).
EVENTS_MAX_STREAM_SECONDS = env_float("EVENTS_MAX_STREAM_SECONDS", 300.0)
EVENTS_URL_TTL_SECONDS = int(os.environ.get("EVENTS_URL_TTL_SECONDS", MEDIA_URL_TTL_SECONDS))
# Status snapshots (replayed to a stream that reconnects with an old Last-Event-ID) are deleted by a
# daily schedule once this old; a later reconnect gets the current document without the replay.
EVENTS_SNAPSHOT_RETENTION_HOURS = env_float("EVENTS_SNAPSHOT_RETENTION_HOURS", 24.0)
# Callbacks (POST on every status change): https only, never to non-public addresses, except hosts in
# CALLBACK_ALLOWED_HOSTS (above); CALLBACK_ALLOW_HTTP also lets those listed hosts use plain http
# (local receivers, tests).
CALLBACK_ALLOW_HTTP = env_bool("CALLBACK_ALLOW_HTTP", False)
CALLBACK_TIMEOUT_SECONDS = env_float("CALLBACK_TIMEOUT_SECONDS", 10.0)
CALLBACK_RETRY_HOURS = env_float("CALLBACK_RETRY_HOURS", 24.0)
