"""`python -m shop`: read the environment, prepare the database, serve until SIGTERM/SIGINT.
`python -m shop migrate`: prepare the database (schema, indexes, seed) and exit.

Exit status: 0 after a clean shutdown; 2 when the configuration cannot work (the message
says which variable and why, e.g. an unknown flaw with the list of valid ones); 1 when the
database cannot be prepared; 3 when the port cannot be bound (uvicorn's start-up failure).
"""

from __future__ import annotations

import signal
import sys
import threading


class _Stopped(Exception):
    pass


def _stop(signum: int, frame: object) -> None:
    raise _Stopped


def migrate() -> int:
    """`python -m shop migrate`: create the schema and seed data, then exit — what a
    deployment's migration step does before the new version starts."""
    from shop.app import Shop
    from shop.config import ConfigError, load

    try:
        config = load(serving=False)
    except ConfigError as exc:
        print(f"shop: {exc}", file=sys.stderr)
        return 2
    try:
        changes = Shop(config).prepare()
    except Exception as exc:
        print(f"shop: cannot prepare the database: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"shop: database ready ({changes})")
    return 0


def main() -> int:
    from shop.config import ConfigError, load

    if sys.argv[1:] == ["migrate"]:
        return migrate()
    try:
        config = load()
    except ConfigError as exc:
        print(f"shop: {exc}", file=sys.stderr)
        return 2

    import uvicorn

    from shop import logs, telemetry
    from shop.app import Shop, build_app

    # The flaw drops the webhook events' ids from every line (logs.py).
    dropped = frozenset({"event_id"} if config.flawed("no-payment-event-logs") else ())
    log = logs.setup(config.log_file, dropped)
    telemetry.setup(log)
    shop = Shop(config)
    try:
        changes = shop.prepare()
    except Exception as exc:
        print(f"shop: cannot prepare the database: {type(exc).__name__}: {exc}", file=sys.stderr)
        log.error("database_unavailable", error_type=type(exc).__name__)
        return 1
    keys = {
        "stripe_secret_key": config.stripe_secret_key,
        "stripe_webhook_secret": config.stripe_webhook_secret,
    }
    if not config.flawed("logs-secret-key"):
        keys = {name: _redacted(value) for name, value in keys.items()}
    log.info(
        "config",
        host=config.host,
        port=config.port,
        database=config.database_url.split("://")[0],
        stripe_api_base=config.stripe_api_base,
        stripe_api_version=config.stripe_api_version,
        flaws=sorted(config.flaws),
        cors_origins=list(config.cors_origins),
        rate_limit=f"{config.rate_limit[0]}/{config.rate_limit[1]:g}",
        indexes=changes,
        **keys,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            build_app(shop),
            host=config.host,
            port=config.port,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            access_log=False,
            log_config=None,
            log_level="warning",
            proxy_headers=False,  # X-Forwarded-Proto is read by the shop's own HTTPS guard
            server_header=False,
            timeout_graceful_shutdown=5,
        )
    )
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal with the
    # handlers it found; these turn that re-raise into a clean exit 0.
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, _stop)
    try:
        server.run()
    except _Stopped:
        pass
    finally:
        log.close()
    return 0 if server.started else 1


def _redacted(value: str) -> str:
    prefix = value.split("_", 2)
    shown = "_".join(prefix[:2]) + "_" if len(prefix) == 3 else ""
    return f"{shown}…{value[-4:]}"


if __name__ == "__main__":
    sys.exit(main())
