"""The environment checks through the gate: env.vars-present, env.key-prefix, env.equals,
env.key-modes-match, each passing on a correct env and failing with redacted evidence.

Live keys are built at runtime (`"sk_" + "live_" + ...`): no literal live key is ever in
a committed file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from gatekit import (
    SANDBOX_KEY_VAR,
    GateRun,
    demo_copy,
    edit_yaml,
    env_source,
    gate,
    load_yaml,
    sandbox_key_apart,
    set_env,
    without_app,
)

pytestmark = pytest.mark.slow

ENV_ITEMS = [
    "environment.stripe-keys-in-env",  # env.vars-present
    "environment.secret-key",  # env.key-prefix, env.key-modes-match
    "environment.publishable-key",  # env.key-prefix
    "environment.webhook-secret",  # env.key-prefix
    "environment.api-version",  # env.equals
    "api-keys.live-keys-generated",  # env.key-prefix x2
    "webhook-config.signing-secret",  # env.key-prefix
]
SELECT = [arg for item in ENV_ITEMS for arg in ("--item", item)]
DEMO_SECRET = "sk_test_…demo"
DEMO_PUBLISHABLE = "pk_test_…demo"
DEMO_WHSEC = "whsec_…demo"


def live_keys() -> dict[str, str]:
    body = secrets.token_hex(16)
    return {
        "STRIPE_SECRET_KEY": "sk_" + "live_" + "51" + body,
        "STRIPE_PUBLISHABLE_KEY": "pk_" + "live_" + "51" + secrets.token_hex(16),
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_API_VERSION": "2024-11-20.acacia",
    }


def masked(key: str) -> str:
    prefix = "whsec_" if key.startswith("whsec_") else key[:8]
    return f"{prefix}…{key[-4:]}"


def assert_nowhere(run: GateRun, *values: str) -> None:
    texts = {"stdout": run.stdout, "stderr": run.stderr, **run.report_texts()}
    for value in values:
        for name, text in texts.items():
            assert value not in text, f"{value[:10]}… leaked into {name}"


def process_env(**values: str) -> dict[str, str]:
    """This process's environment without any STRIPE_ variable, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    return {**env, **values}


def test_env_checks_pass_on_the_demo(tmp_path: Path) -> None:
    run = gate(demo_copy(tmp_path), tmp_path / "out", *SELECT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == dict.fromkeys(ENV_ITEMS, "pass")

    present = run.evidence("environment.stripe-keys-in-env")
    assert [e["var"] for e in present] == [
        "STRIPE_SECRET_KEY",
        "STRIPE_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "STRIPE_API_VERSION",
    ]
    assert all(e["present"] and e["source"] == "env file .build/shop.env" for e in present)
    assert [e["value"] for e in present[:3]] == [DEMO_SECRET, DEMO_PUBLISHABLE, DEMO_WHSEC]

    [prefix] = run.evidence("environment.secret-key", 0)
    assert prefix == {
        "var": "STRIPE_SECRET_KEY",
        "source": "env file .build/shop.env",
        "mode": "test",
        "accepted_prefixes": ["sk_test_", "rk_test_"],
        "value": DEMO_SECRET,
    }
    [modes] = run.evidence("environment.secret-key", 1)
    assert modes["expected_mode"] == "test"
    assert modes["modes"] == {"STRIPE_SECRET_KEY": "test", "STRIPE_PUBLISHABLE_KEY": "test"}
    assert modes["keys"] == {
        "STRIPE_SECRET_KEY": DEMO_SECRET,
        "STRIPE_PUBLISHABLE_KEY": DEMO_PUBLISHABLE,
    }
    [equals] = run.evidence("environment.api-version")
    assert equals["expected"] == equals["found"] == "2024-11-20.acacia"
    [webhook] = run.evidence("webhook-config.signing-secret")
    assert webhook["value"] == DEMO_WHSEC and webhook["accepted_prefixes"] == ["whsec_"]


def test_env_checks_fail_on_a_broken_env(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    wrong_publishable = "pk_" + "live_" + secrets.token_hex(16)
    set_env(
        profile,
        STRIPE_PUBLISHABLE_KEY=wrong_publishable,  # a live key in a test-mode environment
        STRIPE_WEBHOOK_SECRET="",  # empty counts as missing
        STRIPE_API_VERSION="2023-10-16",
    )
    without_app(profile)  # the shop would refuse to start without its webhook secret
    run = gate(profile, tmp_path / "out", *SELECT)
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes = run.outcomes()
    assert outcomes == {
        "environment.stripe-keys-in-env": "fail",
        "environment.secret-key": "fail",  # the modes no longer match
        "environment.publishable-key": "fail",
        "environment.webhook-secret": "fail",
        "environment.api-version": "fail",
        "api-keys.live-keys-generated": "fail",
        "webhook-config.signing-secret": "fail",
    }

    # env.vars-present names exactly what is missing, and where it looked.
    item = run.item("environment.stripe-keys-in-env")
    assert (
        item["reason"] == "missing or empty in the env file .build/shop.env: STRIPE_WEBHOOK_SECRET"
    )
    missing = [e for e in item["checks"][0]["evidence"] if not e["present"]]
    assert missing == [
        {
            "var": "STRIPE_WEBHOOK_SECRET",
            "source": "env file .build/shop.env",
            "present": False,
            "value": None,
        }
    ]

    # env.key-prefix: the redacted value and the prefixes a test-mode env accepts.
    shown = masked(wrong_publishable)
    item = run.item("environment.publishable-key")
    assert item["reason"] == (
        f"STRIPE_PUBLISHABLE_KEY is {shown}; a test-mode environment needs pk_test_"
    )
    [evidence] = item["checks"][0]["evidence"]
    assert evidence["value"] == shown
    assert evidence["accepted_prefixes"] == ["pk_test_"]
    assert run.item("environment.webhook-secret")["reason"] == (
        "STRIPE_WEBHOOK_SECRET is not set in the env file .build/shop.env"
    )

    # env.key-modes-match: the secret key's own prefix is right, the pair is not.
    item = run.item("environment.secret-key")
    assert [c["outcome"] for c in item["checks"]] == ["pass", "fail"]
    assert item["reason"] == (
        "keys of different modes: STRIPE_SECRET_KEY is test, STRIPE_PUBLISHABLE_KEY is live"
    )
    assert item["checks"][1]["evidence"][0]["keys"]["STRIPE_PUBLISHABLE_KEY"] == shown

    # env.equals: what was expected and what was found.
    assert run.item("environment.api-version")["reason"] == (
        "STRIPE_API_VERSION is '2023-10-16', expected '2024-11-20.acacia'"
    )
    assert run.evidence("environment.api-version")[0]["found"] == "2023-10-16"

    assert f"fail environment.publishable-key: STRIPE_PUBLISHABLE_KEY is {shown}" in run.stdout
    assert_nowhere(run, wrong_publishable, wrong_publishable[8:])


def test_live_mode_profile_with_test_keys_fails(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, mode="live")  # production: the demo's test keys are wrong here
    run = gate(profile, tmp_path / "out", *SELECT)
    assert run.returncode == 1, run.stdout + run.stderr
    outcomes = run.outcomes()
    assert outcomes == {
        "environment.stripe-keys-in-env": "pass",
        "environment.secret-key": "fail",
        "environment.publishable-key": "fail",
        "environment.webhook-secret": "pass",  # whsec_ in both modes
        "environment.api-version": "pass",
        "api-keys.live-keys-generated": "fail",
        "webhook-config.signing-secret": "pass",
    }
    item = run.item("environment.secret-key")
    assert [c["outcome"] for c in item["checks"]] == ["fail", "fail"]
    prefix, modes = item["checks"]
    assert prefix["message"] == (
        f"STRIPE_SECRET_KEY is {DEMO_SECRET}; a live-mode environment needs sk_live_ or rk_live_"
    )
    assert prefix["evidence"][0]["accepted_prefixes"] == ["sk_live_", "rk_live_"]
    assert prefix["evidence"][0]["mode"] == "live"
    assert modes["message"] == "both keys are test-mode keys; this environment is live-mode"
    assert modes["evidence"][0]["expected_mode"] == "live"
    assert run.item("environment.publishable-key")["reason"] == (
        f"STRIPE_PUBLISHABLE_KEY is {DEMO_PUBLISHABLE}; a live-mode environment needs pk_live_"
    )
    assert any(
        r.startswith("blocker environment.secret-key is fail")
        for r in run.results["verdict_reasons"]
    )


def test_live_mode_with_live_keys_from_the_process_environment_passes(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    # The env file is not read with env.source: process. The build still makes it from
    # demo.env (the demo's test keys); a second setup step removes it, so a run that read
    # it would fail (no file) and one that fell back to it would show test keys.
    removal = "{python} -c \"import os; os.remove('.build/shop.env')\""
    setup = [*load_yaml(profile)["setup"], removal]
    edit_yaml(profile, mode="live", env={"source": "process"}, setup=setup)
    sandbox_key_apart(profile)  # the shop runs with the live keys, the sandbox never sees them
    keys = live_keys()
    assert SANDBOX_KEY_VAR not in os.environ
    run = gate(profile, tmp_path / "out", *SELECT, env=process_env(**keys))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outcomes() == dict.fromkeys(ENV_ITEMS, "pass")
    [prefix] = run.evidence("environment.secret-key", 0)
    assert prefix["source"] == "process environment"
    assert prefix["mode"] == "live"
    assert prefix["value"] == masked(keys["STRIPE_SECRET_KEY"])
    [modes] = run.evidence("environment.secret-key", 1)
    assert modes["modes"] == {"STRIPE_SECRET_KEY": "live", "STRIPE_PUBLISHABLE_KEY": "live"}
    present = run.evidence("environment.stripe-keys-in-env")
    assert {e["source"] for e in present} == {"process environment"}
    assert run.results["meta"]["stripe_backend"] is None  # env checks need no backend: none started
    secret_values = [keys["STRIPE_SECRET_KEY"], keys["STRIPE_WEBHOOK_SECRET"]]
    assert_nowhere(run, *secret_values, *(v.split("_")[-1] for v in secret_values))


def test_process_environment_without_the_keys_fails(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    edit_yaml(profile, env={"source": "process"})
    without_app(profile)  # the shop would refuse to start without its keys
    run = gate(
        profile,
        tmp_path / "out",
        "--item",
        "environment.stripe-keys-in-env",
        "--item",
        "environment.secret-key",
        env=process_env(STRIPE_API_VERSION="2024-11-20.acacia"),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.item("environment.stripe-keys-in-env")["reason"] == (
        "missing or empty in the process environment: "
        "STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET"
    )
    prefix, modes = run.item("environment.secret-key")["checks"]
    assert prefix["message"] == "STRIPE_SECRET_KEY is not set in the process environment"
    assert modes["message"] == (
        "cannot tell the mode of STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY "
        "(missing or not a Stripe key)"
    )


def test_the_env_checks_read_the_names_the_profile_gives(tmp_path: Path) -> None:
    # An app that calls its keys SHOP_SK and SHOP_WHSEC: with env.names saying so, every
    # env check reads those names; without, the defaults are missing and the items fail.
    profile = demo_copy(tmp_path)
    env_file = env_source(profile)
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    renamed = {"STRIPE_SECRET_KEY": "SHOP_SK", "STRIPE_WEBHOOK_SECRET": "SHOP_WHSEC"}
    env_file.write_text(
        "".join(f"{renamed.get(k, k)}={v}\n" for k, v in values.items() if not k.startswith("#"))
    )
    without_app(profile)  # the shop itself reads the default names

    run = gate(profile, tmp_path / "defaults", *SELECT)
    assert run.outcomes()["environment.secret-key"] == "fail"
    assert run.item("environment.webhook-secret")["reason"] == (
        "STRIPE_WEBHOOK_SECRET is not set in the env file .build/shop.env"
    )

    data = load_yaml(profile)
    data["env"]["names"] = {"secret_key": "SHOP_SK", "webhook_secret": "SHOP_WHSEC"}
    edit_yaml(profile, env=data["env"])
    run = gate(profile, tmp_path / "named", *SELECT)
    assert run.outcomes() == dict.fromkeys(ENV_ITEMS, "pass"), run.stdout
    present = run.evidence("environment.stripe-keys-in-env")
    assert [e["var"] for e in present] == [
        "SHOP_SK",
        "STRIPE_PUBLISHABLE_KEY",
        "SHOP_WHSEC",
        "STRIPE_API_VERSION",
    ]
    assert run.evidence("environment.secret-key", 0)[0]["var"] == "SHOP_SK"
    [modes] = run.evidence("environment.secret-key", 1)
    assert modes["modes"] == {"SHOP_SK": "test", "STRIPE_PUBLISHABLE_KEY": "test"}
    assert run.evidence("webhook-config.signing-secret")[0]["var"] == "SHOP_WHSEC"
    # A var param (here from the profile's params:) still names the variable outright.
    edit_yaml(profile, params={"environment.webhook-secret": {"var": "STRIPE_WEBHOOK_SECRET"}})
    run = gate(profile, tmp_path / "param", "--item", "environment.webhook-secret")
    assert run.outcomes() == {"environment.webhook-secret": "fail"}
    assert run.evidence("environment.webhook-secret")[0]["var"] == "STRIPE_WEBHOOK_SECRET"
