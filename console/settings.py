"""Settings for the Docker Console, read from the environment with safe defaults."""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("CONSOLE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: str) -> int:
    value = os.getenv(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def _secret_key() -> str:
    if key := os.getenv("SECRET_KEY"):
        return key
    # Generated once per installation, kept out of the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", "false")
ALLOWED_HOSTS = [h for h in os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# The engine this console manages; the first engine is the one DOCKER_HOST names.
DOCKER_HOST = os.getenv("DOCKER_HOST", "unix:///var/run/docker.sock")
ENGINE_NAME = os.getenv("ENGINE_NAME", "local")
DOCKER_TIMEOUT = envint("DOCKER_TIMEOUT", "30")
# A command run in a container (exec, a job) is ended after this many seconds.
EXEC_TIMEOUT = envint("EXEC_TIMEOUT", "300")

# A terminal (console/terminals) no keystroke has reached for this many seconds is closed.
TERMINAL_IDLE_SECONDS = envint("TERMINAL_IDLE_SECONDS", "900")
# Every terminal session is recorded (asciicast v2) up to this many bytes, and kept this many days
# (`manage.py recordings purge` deletes older ones).
TERMINAL_RECORDING_LIMIT = envint("TERMINAL_RECORDING_LIMIT", str(8 * 1024 * 1024))
TERMINAL_RECORDING_DAYS = envint("TERMINAL_RECORDING_DAYS", "90")

# Lists render at most this many rows (the rest are reached by filtering and sorting): rendering,
# not the engine, is what a 1,000-container list page costs.
LIST_WINDOW = envint("LIST_WINDOW", "200")

REDIS_URL = os.getenv("REDIS_URL", "redis://127.0.0.1:6379/0")

# Registries (host:port, comma-separated) on the engine's own loopback or link-local addresses that may be
# pulled from besides those the engine's configuration names (console/images/registries.py).
ALLOWED_REGISTRIES = [r.strip() for r in os.getenv("ALLOWED_REGISTRIES", "").split(",") if r.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "console.accounts",
    "console.engines",
    "console.audit",
    "console.jobs",
    "console.dashboard",
    "console.images",
    "console.containers",
    "console.system",
    "console.networks",
    "console.volumes",
    "console.terminals",
]

MIDDLEWARE = [
    "console.middleware.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "console.middleware.RequestIdMiddleware",
    "console.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "console.middleware.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "console.middleware.NoStoreMiddleware",
    "console.middleware.LoginRequiredMiddleware",
    "console.middleware.EngineScopeMiddleware",
    "console.middleware.RoleRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
ASGI_APPLICATION = "console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.console",
            ],
            # The console's own tags, for every app's templates.
            "libraries": {"console_tags": "console.templatetags.console_tags"},
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL", f"sqlite:///{VAR_DIR / 'console.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and workers write concurrently: WAL, a busy timeout, and write locks taken up front.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    if test_name := os.getenv("TEST_DATABASE_NAME"):
        DATABASES["default"]["TEST"] = {"NAME": test_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Lists rendered from the snapshot, shared by whoever asks for the same view (console.listing.shared_render).
    "renders": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 100}},
    # The fleet page's rows, each rendered once per what it shows (console.dashboard.fleet.rendered_rows).
    "rows": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}},
}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "fleet"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after this many idle seconds (a request renews its session at most once a minute:
# console.middleware.SessionRenewalMiddleware).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_SECONDS", "3600")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Sign-in throttling (console/accounts/throttle.py): LOGIN_FAILURE_LIMIT failures lock a username from one
# address for LOGIN_COOLOFF_MINUTES, and a sign-in clears only that pair; more failures on a username than
# one address can make slow further tries at it (from addresses it has not signed in from) for a while.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = envint("LOGIN_COOLOFF_MINUTES", "15") / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# A refused try is not a failure: it neither extends a lock nor adds to the username's backoff.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_HANDLER = "console.accounts.throttle.SignInThrottle"
AXES_LOCKOUT_CALLABLE = "console.accounts.throttle.lockout_response"
AXES_VERBOSE = False
# The same address the audit trail records: REMOTE_ADDR, which ClientAddressMiddleware sets from
# X-Forwarded-For only when the request came through one of the TRUSTED_PROXIES (addresses or networks).
AXES_CLIENT_IP_CALLABLE = "console.audit.record.client_ip"


def _networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    try:
        return [ipaddress.ip_network(n.strip(), strict=False) for n in os.getenv(name, "").split(",") if n.strip()]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must list addresses or networks (e.g. 10.0.0.5,10.1.0.0/16): {exc}")


TRUSTED_PROXIES = _networks("TRUSTED_PROXIES")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
WHITENOISE_USE_FINDERS = True

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Behind TLS (as the README says to deploy) these hold; off for plain-HTTP local runs.
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "false")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = envbool("SECURE_COOKIES", "false")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY", "false") else None

# Celery moves job ids only; the Job row is the truth about a job.
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = f"engine.{ENGINE_NAME}"
# Processes of each engine's worker (`manage.py workers` runs one worker per engine).
WORKER_CONCURRENCY = envint("WORKER_CONCURRENCY", "2")
JOB_HARD_TIME_LIMIT = envint("JOB_HARD_TIME_LIMIT", "3600")
CELERY_TASK_SOFT_TIME_LIMIT = JOB_HARD_TIME_LIMIT - 60
CELERY_TASK_TIME_LIMIT = JOB_HARD_TIME_LIMIT
# Longer than the longest job, so an unacknowledged job is not handed out twice while it runs.
# max_retries: with Redis down, asking for a job fails in about 2 s instead of hanging the request.
# The socket time-outs: a Redis that accepts but never answers fails the request too, instead of hanging it.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": JOB_HARD_TIME_LIMIT * 2,
    "max_retries": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A running job's worker writes a heartbeat; one silent this long is marked lost.
JOB_HEARTBEAT_SECONDS = envint("JOB_HEARTBEAT_SECONDS", "5")
JOB_LOST_AFTER_SECONDS = envint("JOB_LOST_AFTER_SECONDS", "45")
# A job's page drawn in its first seconds waits this long for it to end (console/jobs/views.py `_settled`).
JOB_PAGE_WAIT_MS = envint("JOB_PAGE_WAIT_MS", "200")
# The watcher (`manage.py watch`) lists everything afresh this often, and has disk use computed this often.
WATCH_RELIST_SECONDS = envint("WATCH_RELIST_SECONDS", "300")
DISK_USAGE_INTERVAL = envint("DISK_USAGE_INTERVAL", "600")
# Image updates: how often each engine's tags are checked against their registries, and how long a container
# made on a newer image must keep running (when it has no healthcheck) before its old one is removed.
UPDATE_CHECK_INTERVAL = envint("UPDATE_CHECK_INTERVAL", "21600")
UPDATE_SETTLE_SECONDS = envint("UPDATE_SETTLE_SECONDS", "5")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
