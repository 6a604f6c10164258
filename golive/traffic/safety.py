"""What traffic refuses before it plays anything: live keys (whatever the profile says),
a production profile (`mode: live`), and hosts off loopback that `traffic.allow_hosts`
does not name. The rules of a load test (golive/loadtests/safety.py): traffic is a
demo/staging aid that makes real payments, refunds and disputes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from golive.errors import InputError
from golive.loadtests.safety import LIVE_PREFIXES
from golive.loopback import is_loopback_host
from golive.redact import redact_key
from golive.traffic.profile import TrafficModel


class Refused(InputError):
    """Traffic that must not be played (exit code 2)."""


def check(profile: Any, model: TrafficModel, app_url: str | None = None) -> None:
    """Refused unless the profile is a test-mode one with test keys, sending to loopback
    or to hosts `traffic.allow_hosts` names. `app_url`: the running app's (else the
    profile's base_url)."""
    spec = profile.model
    if spec.mode == "live":
        raise Refused(
            "refusing to play traffic against a production profile (mode: live)",
            file=profile.path,
            hint="traffic is a demo/staging aid: keep `traffic:` out of production profiles",
        )
    names = {profile.var("secret_key")}
    if spec.stripe is not None and spec.stripe.secret_key_env:
        names.add(spec.stripe.secret_key_env)
    for name in sorted(names):
        key = profile.env.get(name) or ""
        if key.startswith(LIVE_PREFIXES):
            raise Refused(
                f"refusing to play traffic with a live Stripe key ({name}: {redact_key(key)})",
                file=profile.path,
                hint="traffic runs against test mode or the sandbox only; use sk_test_ keys",
            )
    hosts = [app_url or (spec.app.base_url.replace("{port}", "1") if spec.app else None)]
    if spec.stripe is not None and spec.stripe.backend == "stripe-test":
        hosts.append("https://api.stripe.com")
    elif spec.stripe is not None and spec.stripe.api_base:
        hosts.append(spec.stripe.api_base)
    allowed = {h.strip().lower().strip("[]") for h in model.allow_hosts if h.strip()}
    for url in filter(None, hosts):
        host = (urlsplit(url).hostname or "").lower()
        if host not in allowed and not is_loopback_host(host):
            raise Refused(
                f"refusing to play traffic to {host or url}: not a loopback address and not "
                "in the profile's traffic.allow_hosts",
                file=profile.path,
                hint="name a staging host you own under traffic.allow_hosts",
            )
