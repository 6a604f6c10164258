"""api.auth-required / authorization / cors / https-hsts / rate-limit / malformed-input: the
gate on a demo copy, against the real shop, with and without its API flaws. The runs are the
detection matrix's (gatekit.SharedRuns): the correct shop's control run and each flaw's run,
on which these tests assert the outcomes and the evidence."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from gatekit import ROOT, GateRun, SharedRuns, demo_copy, gate

from golive.errors import InputError
from golive.profile import load
from golive.profile.api import ApiProfileError, parse

SECTIONS = ["--section", "api-security", "--section", "code-review", "--section", "data-security"]
CATALOGUE = yaml.safe_load((ROOT / "shop" / "catalogue.yaml").read_text())["flaws"]

AUTH = "api-security.authentication"
AUTHZ = "api-security.authorization"
CORS = "api-security.cors"
HTTPS = "api-security.https-enforced"
HTTPS_EVERYWHERE = "data-security.https-everywhere"
RATE = "api-security.rate-limiting"
RATE_REVIEW = "code-review.rate-limiting"
ERRORS = "code-review.error-handling"
API_ITEMS = (AUTH, AUTHZ, CORS, HTTPS, HTTPS_EVERYWHERE, RATE, RATE_REVIEW, ERRORS)


def run_gate(tmp_path: Path, flaw: str | None = None, profile: Path | None = None) -> GateRun:
    env = {**os.environ, "SHOP_FLAWS": flaw or ""}
    return gate(profile or demo_copy(tmp_path), tmp_path / "out", *SECTIONS, env=env)


def failing(run: GateRun) -> set[str]:
    return {item for item, outcome in run.outcomes().items() if outcome == "fail"}


def message(run: GateRun, item: str) -> str:
    return run.item(item)["checks"][0]["message"]


def test_the_correct_shop_passes_every_api_check(shared_runs: SharedRuns) -> None:
    run = shared_runs.control()
    outcomes = run.outcomes()
    for item in API_ITEMS:
        assert outcomes[item] == "pass", (item, run.item(item), run.stdout)
    every = run.evidence(AUTH)
    auth = [e for e in every if e.get("kind") != "control"]
    assert {e["credentials"] for e in auth} == {"none", "invalid"}
    assert all(e["status"] == 401 for e in auth)
    # alice's own GETs, the control: her credentials get past the auth layer (an order of
    # someone else's is a 404, never a 401).
    controls = [e for e in every if e.get("kind") == "control"]
    assert {e["credentials"] for e in controls} == {"alice"}
    assert {e["request"].split()[0] for e in controls} == {"GET"}
    assert {e["status"] for e in controls} <= {200, 404} and 200 in {e["status"] for e in controls}
    assert {e["request"] for e in auth} >= {"GET /api/v1/me", "POST /api/v1/orders/1/refund"}
    authz = run.evidence(AUTHZ)
    # alice's order, placed through the profile's checkout flow, then probed as bob.
    created = authz[0]
    assert created["user"] == "alice" and created["status"] == 200 and created["resource_id"]
    assert [e["status"] for e in authz if e["user"] == "bob"] == [404, 404]
    # alice did each probe bob was refused on her own order: the read (200), the refund of
    # an unpaid order (409, the app's own refusal: the route and the order were reached).
    controls = [(e["request"].split()[0], e["status"]) for e in authz if e.get("kind")]
    assert controls == [("GET", 200), ("POST", 409)]
    cors = run.evidence(CORS)
    assert [e["kind"] for e in cors] == ["control", "preflight", "simple request"]
    assert cors[0]["user"] == "alice" and cors[0]["status"] == 200  # the path exists
    assert all(e["allow_origin"] is None for e in cors[1:])
    hsts = run.evidence(HTTPS)
    assert any("X-Forwarded-Proto" in e.get("method", "") for e in hsts)  # loopback, said so
    assert any(e.get("threshold") == "hsts_max_age_days value>=180" for e in hsts)
    assert all(e["status"] == 308 for e in hsts if e.get("scheme") == "http")
    assert all("max-age=31536000" in e["hsts"] for e in hsts if e.get("scheme") == "https")
    [rate] = run.evidence(RATE)
    assert rate["first_429_at"] == 21 and rate["user"] == "carol"  # SHOP_RATE_LIMIT 20/60
    assert run.evidence(RATE_REVIEW) == [rate]  # one burst per run, shared
    every = run.evidence(ERRORS)
    malformed = [e for e in every if "variant" in e and "flow_step" not in e]
    variants = {e["variant"] for e in malformed}
    assert {"malformed-json", "unknown-field", "oversized-1MiB"} <= variants
    assert any(v.startswith("wrong-type:") for v in variants)
    assert all(400 <= e["status"] < 500 and not e["leaks"] for e in malformed)
    assert any(e["status"] == 413 for e in malformed)
    # The checkout's and fill_cart's own bodies, field by field (the cart line's too), and
    # signed webhook events with malformed objects: nothing shows the shop's insides.
    fuzzed = [e for e in every if "flow_step" in e]
    assert {e["variant"] for e in fuzzed} >= {
        "wrong-type(string):items.0.food_item_id",
        "wrong-type(string):food_item_id",
    }
    assert all(400 <= e["status"] < 500 and not e["leaks"] for e in fuzzed), fuzzed
    hooks = [e for e in every if "webhook" in e]
    assert hooks and all(not e["leaks"] for e in hooks)
    assert any(200 <= e["status"] < 300 for e in hooks)
    # Tokens never reach the reports.
    for name, text in run.report_texts().items():
        assert "tok_alice_ca" not in text and "tok_bob_ny" not in text, name


@pytest.mark.parametrize(
    ("flaw", "item", "expected"),
    [
        ("no-auth", AUTH, "GET /api/v1/me with no credentials: 200"),
        ("idor", AUTHZ, "as user B (bob): 200"),
        ("cors-wildcard", CORS, "Access-Control-Allow-Origin: * with Access-Control-Allow-Cre"),
        ("no-hsts", HTTPS, "has no HSTS max-age"),
        ("no-rate-limit", RATE, "no 429 within 25 requests"),
        ("verbose-errors", ERRORS, "malformed-json: 500"),
    ],
)
def test_each_api_flaw_fails_exactly_its_items(
    shared_runs: SharedRuns, flaw: str, item: str, expected: str
) -> None:
    run = shared_runs.flaw(flaw)
    # cors, rate limiting and error handling are majors: reported, not blocking.
    assert run.returncode in (0, 1), run.stdout + run.stderr
    selected = set(run.outcomes())
    assert failing(run) == set(CATALOGUE[flaw]["fails"]) & selected
    assert item in failing(run)
    assert expected in message(run, item), message(run, item)
    for other in set(API_ITEMS) & selected:
        if other not in CATALOGUE[flaw]["fails"]:
            assert run.outcomes()[other] == "pass", (flaw, other, run.item(other))


def test_verbose_errors_evidence_names_the_trace(shared_runs: SharedRuns) -> None:
    run = shared_runs.flaw("verbose-errors")
    evidence = run.evidence(ERRORS)
    crashed = [e for e in evidence if e.get("status") == 500]
    assert crashed and all("python stack trace" in e["leaks"] for e in crashed)
    assert "malformed-json: python stack trace in the body" in message(run, ERRORS)


def test_a_profile_without_api_is_not_run(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    data = yaml.safe_load(profile.read_text())
    del data["api"]
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    run = run_gate(tmp_path, profile=profile)
    for item in API_ITEMS:
        result = run.item(item)
        assert result["outcome"] == "not-run", (item, result)
        assert "`api`" in result["checks"][0]["message"], item


def test_an_invalid_api_block_names_the_field() -> None:
    with pytest.raises(ApiProfileError, match=r"api\.users\.b"):
        parse({"users": {"a": "alice"}})
    with pytest.raises(ApiProfileError, match=r"credential goes under `users:` and `auth:`"):
        parse({"users": {"a": {"token": "x"}, "b": {"token": "y"}}})  # the old shape
    with pytest.raises(ApiProfileError, match=r"api\.rate_limit"):
        parse(
            {
                "users": {"a": "alice", "b": "bob"},
                "rate_limit": {"method": "POST", "path": "/p", "burst": 5, "expect_429_within": 9},
            }
        )
    with pytest.raises(ApiProfileError, match=r"api\.owned"):
        parse(
            {
                "users": {"a": "alice", "b": "bob"},
                "owned": {
                    "create": {"job": "checkout", "items": [{"id": 1, "quantity": 1}]},
                    "id": "order_id",
                    "probes": [{"method": "GET", "path": "/o/1"}],  # no {order_id}
                },
            }
        )
    with pytest.raises(ApiProfileError, match=r"checkout job needs `items`"):
        parse(
            {
                "users": {"a": "alice", "b": "bob"},
                "owned": {
                    "create": {},
                    "id": "order_id",
                    "probes": [{"method": "GET", "path": "/o/{order_id}"}],
                },
            }
        )
    with pytest.raises(ApiProfileError, match=r"api\.auth_header"):
        parse({"users": {"a": "alice", "b": "bob"}, "auth_header": "X-Token"})  # auth: says it


def _demo_with(tmp_path: Path, edit: Any) -> Path:
    profile = demo_copy(tmp_path)
    data = yaml.safe_load(profile.read_text())
    edit(data["api"])
    profile.write_text(yaml.safe_dump(data, sort_keys=False))
    return profile


@pytest.mark.parametrize(
    ("edit", "key", "words"),
    [
        (lambda api: api["users"].update(b="bobby"), "b: bobby", "no user named 'bobby'"),
        (
            lambda api: api["rate_limit"].update(user="caro"),
            "user: caro",
            "no user named 'caro'",
        ),
        (
            lambda api: api["owned"]["create"].update(job="make_order"),
            "job: make_order",
            "api.owned.create.job: no flow named 'make_order'",
        ),
        (
            lambda api: api["owned"].update(
                id="order_ref", probes=[{"method": "GET", "path": "/api/v1/orders/{order_ref}"}]
            ),
            "id: order_ref",
            "api.owned.id: flow 'checkout' (the 'checkout' job) captures no 'order_ref'",
        ),
        (
            lambda api: api["owned"]["probes"].append(
                {"method": "GET", "path": "/api/v1/orders/{order_id}/{receipt}"}
            ),
            "{receipt}",
            "{receipt} is not a capture of flow 'checkout'",
        ),
    ],
)
def test_names_the_api_block_uses_are_checked_when_the_profile_loads(
    tmp_path: Path, edit: Any, key: str, words: str
) -> None:
    profile = _demo_with(tmp_path, edit)
    with pytest.raises(InputError) as refused:
        load(profile)
    message = str(refused.value)
    assert words in message, message
    line = next(n for n, text in enumerate(profile.read_text().splitlines(), 1) if key in text)
    assert f"target.yaml:{line}:" in message, (line, message)
