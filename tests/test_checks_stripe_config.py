"""stripe.webhook-endpoint, stripe.webhook-events, stripe.key-mode, stripe.restricted-key:
read-only, through the gate, on copies of the demo (the shop behind the sandbox)."""

from __future__ import annotations

from pathlib import Path

import stripe
from gatekit import demo_copy, edit_yaml, gate, load_yaml, set_env

from golive.sandbox import Sandbox

SECTIONS = ["--section", "webhook-config", "--section", "api-keys"]
ENDPOINT_ITEMS = ("webhook-config.live-endpoint", "webhook-config.endpoint-url")
EVENT_ITEMS = (
    "webhook-config.events-selected",
    "webhook-config.event-payment-intent-succeeded",
    "webhook-config.event-payment-intent-payment-failed",
    "webhook-config.event-charge-refunded",
    "webhook-config.event-payment-intent-canceled",
)


def _register(profile: Path, events: list[str] | None) -> None:
    app = load_yaml(profile)["app"]
    if events is None:
        app.pop("register_webhook")
    else:
        app["register_webhook"] = events
    edit_yaml(profile, app=app)


def test_the_demo_passes_its_stripe_configuration(tmp_path: Path) -> None:
    run = gate(demo_copy(tmp_path), tmp_path / "out", *SECTIONS)
    outcomes = run.outcomes()
    for item in (*ENDPOINT_ITEMS, *EVENT_ITEMS, "api-keys.live-mode"):
        assert outcomes[item] == "pass", (item, run.item(item))
    # Restricted keys are a Dashboard feature the sandbox does not model: untestable here
    # (not-run; the item is minor, so it does not block).
    restricted = run.item("api-keys.restricted-permissions")
    assert restricted["outcome"] == "not-run"
    assert restricted["reason"] == (
        "backend sandbox cannot issue restricted keys (rk_…), a Dashboard feature: "
        "use Stripe test mode"
    )

    webhook_url = run.results["meta"]["target_app"]["webhook_url"]
    found, scheme, version = run.evidence("webhook-config.endpoint-url")
    assert found["expected_url"] == webhook_url == found["endpoint"]["url"]
    assert found["endpoint"]["status"] == "enabled"
    assert scheme["scheme"] == "http" and "not checkable on a loopback" in scheme["note"]
    # golive registers the shop's endpoint as a deploy script would: pinned to the env's
    # STRIPE_API_VERSION.
    assert version["pinned"] is True and version["api_version"] == "2024-11-20.acacia"

    events, version = run.evidence("webhook-config.events-selected")
    assert events["missing"] == [] and "payment_intent.payment_failed" in events["enabled_events"]
    assert version["expected"] == "2024-11-20.acacia"

    [key] = run.evidence("api-keys.live-mode")
    assert key["key"].startswith("sk_test_") and key["key"].endswith("demo")
    assert len(key["key"]) < 20  # redacted
    assert key["key_mode"] == key["profile_mode"] == "test" and key["api_livemode"] is False
    assert "sk_test_51DemoOnly" not in run.report_texts()["results.json"]


def test_no_registered_endpoint_fails(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    _register(profile, None)
    run = gate(profile, tmp_path / "out", *SECTIONS)
    assert run.returncode == 1
    outcomes = run.outcomes()
    webhook_url = run.results["meta"]["target_app"]["webhook_url"]
    for item in (*ENDPOINT_ITEMS, *EVENT_ITEMS):
        assert outcomes[item] == "fail", item
        [check] = run.item(item)["checks"]
        assert check["message"] == (
            f"no webhook endpoint for {webhook_url} among the account's 0 endpoint(s)"
        )
        assert check["evidence"][0]["expected_url"] == webhook_url
    assert outcomes["api-keys.live-mode"] == "pass"
    assert f"fail webhook-config.live-endpoint: no webhook endpoint for {webhook_url}" in (
        run.stdout
    )


def test_a_missing_required_event_fails_naming_it(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    _register(profile, ["payment_intent.succeeded"])
    run = gate(profile, tmp_path / "out", *SECTIONS)
    assert run.returncode == 1
    outcomes = run.outcomes()
    assert outcomes["webhook-config.event-payment-intent-succeeded"] == "pass"
    for item in ENDPOINT_ITEMS:  # the endpoint itself is there
        assert outcomes[item] == "pass", item
    [check] = run.item("webhook-config.events-selected")["checks"]
    assert check["outcome"] == "fail"
    assert check["message"].endswith(": not subscribed to payment_intent.payment_failed")
    events, recommended, _version = check["evidence"]
    assert events["missing"] == ["payment_intent.payment_failed"]
    assert events["enabled_events"] == ["payment_intent.succeeded"]
    # Recommended events missing are a note, not a failure of their own.
    assert recommended["recommended_missing"] == ["charge.refunded", "payment_intent.canceled"]
    assert "not a failure" in recommended["note"]
    for item, event in (
        ("webhook-config.event-payment-intent-payment-failed", "payment_intent.payment_failed"),
        ("webhook-config.event-charge-refunded", "charge.refunded"),
        ("webhook-config.event-payment-intent-canceled", "payment_intent.canceled"),
    ):
        assert outcomes[item] == "fail", item
        assert run.item(item)["checks"][0]["message"].endswith(f": not subscribed to {event}")


def test_a_live_profile_with_a_test_key_fails_key_mode(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, mode="live")
    run = gate(profile, tmp_path / "out", "--item", "api-keys.live-mode")
    assert run.outcomes() == {"api-keys.live-mode": "fail"}
    [check] = run.item("api-keys.live-mode")["checks"]
    assert "is a test-mode key; the profile's mode is live" in check["message"]
    [evidence] = check["evidence"]
    assert evidence["key_mode"] == "test" and evidence["profile_mode"] == "live"
    assert evidence["key"].startswith("sk_test_") and "51DemoOnly" not in evidence["key"]


def _against_stripe_test(profile: Path, api_base: str, base_url: str) -> None:
    """Point a demo copy at `stripe-test` (served here by a sandbox standing in for Stripe)
    and at a deployed app the harness does not start."""
    edit_yaml(
        profile,
        stripe={"backend": "stripe-test", "api_base": api_base},
        app={"base_url": base_url, "webhook_path": "/api/v1/stripe/webhook"},
    )


def test_restricted_key_against_stripe_test(tmp_path: Path) -> None:
    item = "api-keys.restricted-permissions"
    profile = demo_copy(tmp_path)
    # No call is made: the key's kind is read from its prefix.
    _against_stripe_test(profile, "http://127.0.0.1:9", "https://shop.example.com")
    run = gate(profile, tmp_path / "sk", "--item", item)
    assert run.returncode == 0  # a minor item: it does not block
    assert run.outcomes() == {item: "fail"}
    [check] = run.item(item)["checks"]
    assert "standard test secret key" in check["message"]
    assert "a restricted key (rk_…)" in check["message"] and "is better" in check["message"]
    assert check["evidence"][0]["key_kind"] == "secret"

    set_env(profile, STRIPE_SECRET_KEY="rk_test_51DemoOnlyRestricted000000000000000000demo")
    run = gate(profile, tmp_path / "rk", "--item", item)
    assert run.outcomes() == {item: "pass"}, run.stdout
    assert run.evidence(item)[0]["key_kind"] == "restricted"


def test_a_deployed_endpoint_must_be_https_and_pin_the_version(tmp_path: Path) -> None:
    # A deployed target (app.base_url, no start) against stripe-test: the endpoint is read
    # from the account, HTTPS is enforced off loopback, and a pinned version must match.
    with Sandbox() as account:
        client = stripe.StripeClient(
            "sk_test_golive_config", base_addresses={"api": account.url}, max_network_retries=0
        )
        client.v1.webhook_endpoints.create(
            params={
                "url": "http://shop.example.com/api/v1/stripe/webhook",
                "enabled_events": ["*"],
                "api_version": "2023-10-16",
            }
        )
        profile = demo_copy(tmp_path)
        _against_stripe_test(profile, account.url, "http://shop.example.com")
        run = gate(profile, tmp_path / "out", "--section", "webhook-config")
    outcomes = run.outcomes()
    # No `scheme` or `api_version` on this item: an enabled endpoint at the path passes.
    assert outcomes["webhook-config.live-endpoint"] == "pass"
    assert run.results["meta"]["target_app"]["webhook_url"] == (
        "http://shop.example.com/api/v1/stripe/webhook"
    )
    [check] = run.item("webhook-config.endpoint-url")["checks"]
    assert check["message"].endswith(": its URL is not HTTPS")
    [check] = run.item("webhook-config.events-selected")["checks"]
    assert check["message"].endswith(
        ": it is pinned to API version 2023-10-16, not 2024-11-20.acacia"
    )
    for item in EVENT_ITEMS[1:]:  # "*" receives every event
        assert outcomes[item] == "pass", item


def test_an_unpinned_endpoint_on_another_account_default_fails(tmp_path: Path) -> None:
    # Without STRIPE_API_VERSION the endpoint is registered unpinned; its events then come
    # in the account's default version (the sandbox's), not the checklist's.
    profile = demo_copy(tmp_path)
    set_env(profile, STRIPE_API_VERSION="")
    run = gate(profile, tmp_path / "out", "--item", "webhook-config.events-selected")
    [check] = run.item("webhook-config.events-selected")["checks"]
    assert check["outcome"] == "fail"
    assert "it pins no API version and the account's default is" in check["message"]
    assert check["message"].endswith("not 2024-11-20.acacia: pin 2024-11-20.acacia on the endpoint")
    *_, version = check["evidence"]
    assert version["pinned"] is False and version["account_default"] is True


def test_the_endpoint_is_looked_for_at_the_profiles_webhook_path(tmp_path: Path) -> None:
    # A deployed app whose webhook is at /hooks/stripe/: the endpoint checks look there,
    # not at golive's default path; a `path` param (here the profile's params:) still wins.
    items = (
        "webhook-config.live-endpoint",
        "webhook-config.endpoint-url",
        "webhook-config.event-payment-intent-succeeded",
    )
    select = [arg for item in items for arg in ("--item", item)]
    runs = {}
    for registered in ("/hooks/stripe/", "/api/v1/stripe/webhook"):
        with Sandbox() as account:
            client = stripe.StripeClient(
                "sk_test_golive_config", base_addresses={"api": account.url}, max_network_retries=0
            )
            client.v1.webhook_endpoints.create(
                params={"url": "https://shop.example.com" + registered, "enabled_events": ["*"]}
            )
            profile = demo_copy(tmp_path / registered.strip("/").replace("/", "-"))
            edit_yaml(
                profile,
                stripe={"backend": "stripe-test", "api_base": account.url},
                app={"base_url": "https://shop.example.com", "webhook_path": "/hooks/stripe/"},
            )
            runs[registered] = gate(profile, profile.parent / "out", *select)
            if registered != "/hooks/stripe/":
                edit_yaml(
                    profile,
                    params={
                        "stripe.webhook-endpoint": {"path": registered},
                        "stripe.webhook-events": {"path": registered},
                    },
                )
                runs["param"] = gate(profile, profile.parent / "param", *select)

    at_path = runs["/hooks/stripe/"]
    assert at_path.outcomes() == dict.fromkeys(items, "pass"), at_path.stdout
    found = at_path.evidence("webhook-config.endpoint-url")[0]
    assert found["expected_url"] == "https://shop.example.com/hooks/stripe"
    assert found["path_from"] == "app.webhook_path"
    assert found["endpoint"]["url"] == "https://shop.example.com/hooks/stripe/"

    elsewhere = runs["/api/v1/stripe/webhook"]
    assert elsewhere.returncode == 1
    assert elsewhere.outcomes() == dict.fromkeys(items, "fail")
    [check] = elsewhere.item("webhook-config.endpoint-url")["checks"]
    assert check["message"] == (
        "no webhook endpoint at https://shop.example.com/hooks/stripe; the target's "
        "endpoints: https://shop.example.com/api/v1/stripe/webhook"
    )

    by_param = runs["param"]
    assert by_param.outcomes() == dict.fromkeys(items, "pass"), by_param.stdout
    found = by_param.evidence("webhook-config.endpoint-url")[0]
    assert found["expected_url"] == "https://shop.example.com/api/v1/stripe/webhook"
    assert found["path_from"] == "params.path"
    assert by_param.item("webhook-config.endpoint-url")["checks"][0]["profile_params"] == {
        "path": "/api/v1/stripe/webhook"
    }
