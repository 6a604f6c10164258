"""What a load test refuses before it sends anything: hosts off loopback that the
profile's `load.allow_hosts` does not name, live Stripe keys whatever the profile says,
and a production environment (the profile's `mode: live`) whatever its keys."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from golive.errors import InputError
from golive.loopback import is_loopback_host
from golive.redact import redact_key

LIVE_PREFIXES = ("sk_live_", "rk_live_")


class Refused(InputError):
    """A load run that must not start (exit code 2 for `golive load`)."""


def check_hosts(urls: Iterable[str | None], allow_hosts: Iterable[str]) -> None:
    allowed = {h.strip().lower().strip("[]") for h in allow_hosts if h.strip()}
    for url in urls:
        if not url:
            continue
        host = (urlsplit(url).hostname or "").lower()
        if host not in allowed and not is_loopback_host(host):
            raise Refused(
                f"refusing to load-test {host or url}: not a loopback address and not in the "
                "profile's load.allow_hosts",
                hint="load tests stay on 127.0.0.0/8 unless the profile names the host under "
                "load.allow_hosts (a staging host you own)",
            )


def check_keys(keys: dict[str, str | None]) -> None:
    for where, key in keys.items():
        if key and key.startswith(LIVE_PREFIXES):
            raise Refused(
                f"refusing to load-test with a live Stripe key ({where}: {redact_key(key)})",
                hint="load tests run against test mode or a stand-in only; use sk_test_ keys",
            )


def check_mode(mode: str) -> None:
    """A live-mode profile describes production: never loaded, even with test keys in it."""
    if mode == "live":
        raise Refused(
            "refusing to load-test a production environment (the profile's mode is live)",
            hint="load tests run against staging: a profile with mode: test",
        )
