"""The shop's settings, all from the environment (see README.md for the contract).

A setting that cannot work (no PORT, an unknown flaw, a malformed rate limit) is a
`ConfigError`; `python -m shop` prints it and exits 2 before anything starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from shop import flaws as flaw_registry

DEFAULT_DATABASE_URL = "sqlite:///shop.db"
DEFAULT_LOG_FILE = "shop.log"
DEFAULT_CORS_ORIGINS = ("https://shop.example.com",)
DEFAULT_RATE_LIMIT = (20, 60.0)
DEFAULT_API_BASE = "https://api.stripe.com"
MAX_BODY_BYTES = 64 * 1024  # API requests; a larger body is 413
MAX_WEBHOOK_BYTES = 512 * 1024  # Stripe events are far smaller; still bounded

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*$")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    database_url: str
    stripe_secret_key: str
    stripe_publishable_key: str
    stripe_webhook_secret: str
    stripe_api_version: str | None
    stripe_api_base: str
    flaws: frozenset[str]
    log_file: str
    cors_origins: tuple[str, ...]
    rate_limit: tuple[int, float]  # requests per window (seconds), per user

    def flawed(self, name: str) -> bool:
        if name not in flaw_registry.FLAWS:  # a typo in the code must not pass silently
            raise KeyError(name)
        return name in self.flaws


def sqlalchemy_url(url: str) -> str:
    """Driver-less and async PostgreSQL URLs use psycopg 3; `postgres://` is accepted."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"DATABASE_URL is not a database URL: {scheme.split(':')[0]}:…")
    backend, _, driver = scheme.partition("+")
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg", "psycopg2", "asyncpg"):
        return f"postgresql+psycopg://{rest}"
    if backend == "sqlite" and driver in ("", "pysqlite", "aiosqlite"):
        return f"sqlite://{rest}"
    if backend in ("sqlite", "postgresql"):
        return url
    raise ConfigError(f"DATABASE_URL must be sqlite:// or postgresql://, not {backend}://")


def parse_rate_limit(text: str) -> tuple[int, float]:
    match = _RATE.match(text)
    if not match or int(match[1]) < 1 or float(match[2]) <= 0:
        raise ConfigError(
            f"SHOP_RATE_LIMIT must be REQUESTS/SECONDS with both above zero (e.g. 20/60), not {text!r}"
        )
    return int(match[1]), float(match[2])


def load(environ: Mapping[str, str] | None = None, *, serving: bool = True) -> Config:
    """`serving=False` (for `python -m shop migrate`) does without PORT and the Stripe keys."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str = "") -> str:
        return (env.get(name) or default).strip()

    port_text = get("PORT") or ("" if serving else "8000")
    if not port_text:
        raise ConfigError("PORT is required (the port to serve on)")
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or not 0 < int(port_text) < 65536:
        raise ConfigError(f"PORT must be a port number, not {port_text!r}")
    try:
        flaws = flaw_registry.parse(env.get("SHOP_FLAWS"))
    except flaw_registry.UnknownFlaw as exc:
        raise ConfigError(str(exc)) from None
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET") if serving else ():
        if not get(name):
            raise ConfigError(f"{name} is required")
    origins = tuple(o.strip().rstrip("/") for o in get("SHOP_CORS_ORIGINS").split(",") if o.strip())
    if "*" in origins:
        raise ConfigError("SHOP_CORS_ORIGINS is an allowlist of origins; `*` is not one")
    rate = get("SHOP_RATE_LIMIT")
    return Config(
        host=get("HOST", "127.0.0.1"),
        port=int(port_text),
        database_url=sqlalchemy_url(get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        stripe_secret_key=get("STRIPE_SECRET_KEY"),
        stripe_publishable_key=get("STRIPE_PUBLISHABLE_KEY"),
        stripe_webhook_secret=get("STRIPE_WEBHOOK_SECRET"),
        stripe_api_version=get("STRIPE_API_VERSION") or None,
        stripe_api_base=get("STRIPE_API_BASE", DEFAULT_API_BASE).rstrip("/"),
        flaws=flaws,
        log_file=get("SHOP_LOG_FILE", DEFAULT_LOG_FILE),
        cors_origins=origins or DEFAULT_CORS_ORIGINS,
        rate_limit=parse_rate_limit(rate) if rate else DEFAULT_RATE_LIMIT,
    )
