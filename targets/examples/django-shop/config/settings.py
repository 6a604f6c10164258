"""Settings of the example shop, all from the environment (README.md lists the variables).

Production first: DEBUG is off unless DJANGO_DEBUG=1, a secret key is required unless
DEBUG is on, cookies are Secure unless SHOP_SECURE_COOKIES=0 (a plain-HTTP local run), and
nothing secret is ever logged (store.logsafe scrubs key-like strings from every record).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}")
    return value


def _list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """DATABASE_URL (postgresql://user:password@host:port/name?sslmode=…) as a Django entry."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ImproperlyConfigured(
            f"DATABASE_URL must be a postgresql:// URL, not a {parts.scheme or 'schemeless'} one"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL names no database (postgresql://…/NAME)")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        # runserver and the ASGI handler give each request a thread of its own: a kept
        # connection would outlive its thread, so connections close after each request.
        "CONN_MAX_AGE": _int("SHOP_DB_CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": dict(parse_qsl(parts.query)),
        "TEST": {"NAME": "test_" + name},
    }


DEBUG = _flag("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required (DEBUG is off)")
    SECRET_KEY = "debug-only-not-secret"  # DJANGO_DEBUG=1 on a developer's machine only

ALLOWED_HOSTS = _list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = _list("SHOP_CSRF_TRUSTED_ORIGINS", "")

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/golive_django_shop")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "store.apps.StoreConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "store.cors.PartnerCors",
    "store.https.ForwardedHttpRedirect",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ],
        },
    },
]

# --- authentication -----------------------------------------------------------------------

PASSWORD_HASHERS = [
    # First: the example's fast PBKDF2 (store/hashers.py says why; NOT for production).
    "store.hashers.DemoPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/store/api/me/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- cookies and transport ----------------------------------------------------------------

SECURE_COOKIES = _flag("SHOP_SECURE_COOKIES", True)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = _int("SHOP_SESSION_SECONDS", 8 * 3600, minimum=60)
CSRF_COOKIE_HTTPONLY = False  # API clients copy the csrftoken cookie into X-CSRFToken
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "store.views.csrf_failure"

SECURE_SSL_REDIRECT = _flag("SHOP_SSL_REDIRECT", False)  # usually the proxy's job
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SHOP_BEHIND_PROXY = _flag("SHOP_BEHIND_PROXY", False)
if SHOP_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = _int("SHOP_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = _flag("SHOP_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Request bodies: the API's JSON is tiny; refuse big ones before parsing (a 400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 100

# --- Stripe -------------------------------------------------------------------------------

STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "").rstrip("/")  # e.g. golive's sandbox
STRIPE_API_VERSION = os.environ.get("STRIPE_API_VERSION", "")
STRIPE_TIMEOUT_S = _int("SHOP_STRIPE_TIMEOUT_S", 10, minimum=1)
WEBHOOK_TOLERANCE_S = _int("SHOP_WEBHOOK_TOLERANCE_S", 300, minimum=1)

# --- the shop -----------------------------------------------------------------------------

# Deliberate, switchable defects for blind testing (README.md, "Blind flaws"; flaws.yaml
# describes each). Empty unless TEA_SHOP_FLAWS names some: then the shop behaves as it did.
KNOWN_FLAWS = frozenset(
    {
        "relay-attested",
        "v0-testmode",
        "retry-horizon",
        "reformat-fallback",
        "intent-fulfilment",
        "price-hold",
        "shared-basket",
        "refund-by-ref",
        "partner-widgets",
        "api-diagnostics",
        "webhook-postmortem",
        "doorstep-notes",
        "checkout-audit-trail",
        "settle-pause",
        "lean-indexes",
        "bulk-load-leftover",
    }
)
FLAWS = frozenset(_list("TEA_SHOP_FLAWS", ""))
if FLAWS - KNOWN_FLAWS:
    raise ImproperlyConfigured(
        f"TEA_SHOP_FLAWS names unknown flaws: {', '.join(sorted(FLAWS - KNOWN_FLAWS))}"
    )


SHOP_CURRENCY = "usd"
SHOP_TAX_RATE_BASIS_POINTS = 825  # 8.25 %, on the subtotal, rounded half-up once
# Where the browser comes back to after Stripe's hosted page.
SHOP_PUBLIC_URL = os.environ.get("SHOP_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
SHOP_CHECKOUT_RATE_PER_MIN = _int("SHOP_CHECKOUT_RATE_PER_MIN", 20, minimum=1)
SHOP_LOGIN_FAILURES_PER_15_MIN = _int("SHOP_LOGIN_FAILURES_PER_15_MIN", 10, minimum=1)

# --- time and language --------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

# --- logging: a file named by SHOP_LOG_FILE (stderr without it), secrets scrubbed ----------

LOG_FILE = os.environ.get("SHOP_LOG_FILE", "")
LOG_LEVEL = os.environ.get("SHOP_LOG_LEVEL", "INFO").upper()
_handler = (
    {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "encoding": "utf-8",
        "formatter": "plain",
        "filters": ["scrub"],
    }
    if LOG_FILE
    else {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["scrub"]}
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"scrub": {"()": "store.logsafe.ScrubSecrets"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"main": _handler},
    "root": {"handlers": ["main"], "level": "WARNING"},
    "loggers": {
        "store": {"handlers": ["main"], "level": LOG_LEVEL, "propagate": False},
        "django": {"handlers": ["main"], "level": "WARNING", "propagate": False},
        # stripe-python logs requests at INFO/DEBUG with its own STRIPE_LOG; keep it quiet.
        "stripe": {"handlers": ["main"], "level": "WARNING", "propagate": False},
    },
}
if "checkout-audit-trail" in FLAWS:
    # The audit trail keeps requests exactly as received (no scrubbing: it is evidence).
    LOGGING["handlers"]["audit"] = {k: v for k, v in _handler.items() if k != "filters"}
    LOGGING["loggers"]["store.audit"] = {
        "handlers": ["audit"],
        "level": "INFO",
        "propagate": False,
    }
