"""The profile's `params:` block: check params overridden per target.

Keys are a check id, an item id or `item-id/check-id`; the more specific key wins over
the checklist's params and over the less specific keys. Bad keys, unknown params and
wrong types exit 2 naming the profile's file and line, before anything runs.
"""

from __future__ import annotations

from pathlib import Path

from gatekit import ROOT, demo_copy, edit_yaml, gate
from test_validation import assert_invalid, line_of, validate

from golive import checklist

ITEM = "environment.api-version"  # env.equals {role: api_version, expected: …}


def _checklist() -> checklist.Checklist:
    return checklist.load(ROOT / "checklist.yaml")


def test_the_more_specific_key_wins() -> None:
    the_checklist = _checklist()
    item = the_checklist.items[ITEM]
    [ref] = item.automated.checks
    assert checklist.check_params(item, ref)["expected"] == "2024-11-20.acacia"
    by_check = {"env.equals": {"expected": "by-check"}}
    assert checklist.check_params(item, ref, by_check)["expected"] == "by-check"
    by_item = {**by_check, ITEM: {"expected": "by-item"}}
    assert checklist.check_params(item, ref, by_item)["expected"] == "by-item"
    by_pair = {**by_item, f"{ITEM}/env.equals": {"expected": "by-pair"}}
    params = checklist.check_params(item, ref, by_pair)
    assert params == {"role": "api_version", "expected": "by-pair"}
    assert checklist.profile_supplied(item, ref, by_pair) == {"expected"}


def test_an_item_key_reaches_only_the_checks_that_take_the_param() -> None:
    # environment.secret-key runs env.key-prefix {var, live, test} and env.key-modes-match
    # {secret_var, publishable_var}: `var` is for the first only.
    item = _checklist().items["environment.secret-key"]
    prefix, modes = item.automated.checks
    overrides = {"environment.secret-key": {"var": "MY_SK", "secret_var": "MY_SK"}}
    assert checklist.check_params(item, prefix, overrides)["var"] == "MY_SK"
    assert "var" not in checklist.check_params(item, modes, overrides)
    assert checklist.check_params(item, modes, overrides)["secret_var"] == "MY_SK"


def test_an_override_changes_what_a_check_judges_on_the_demo(tmp_path: Path) -> None:
    profile = demo_copy(tmp_path)
    run = gate(profile, tmp_path / "before", "--item", ITEM)
    assert run.outcomes() == {ITEM: "pass"}, run.stdout
    [check] = run.item(ITEM)["checks"]
    assert check["params"] == {"role": "api_version", "var": None, "expected": "2024-11-20.acacia"}
    assert check["profile_params"] == {}

    edit_yaml(profile, params={ITEM: {"expected": "2023-10-16"}})
    run = gate(profile, tmp_path / "after", "--item", ITEM)
    assert run.outcomes() == {ITEM: "fail"}
    [check] = run.item(ITEM)["checks"]
    assert check["message"] == "STRIPE_API_VERSION is '2024-11-20.acacia', expected '2023-10-16'"
    assert check["params"]["expected"] == "2023-10-16"
    assert check["profile_params"] == {"expected": "2023-10-16"}
    html = (tmp_path / "after" / "report.html").read_text(encoding="utf-8")
    assert "Params set by the profile" in html and "2023-10-16" in html


def _with_params(profile: Path, text: str) -> Path:
    """The profile with `text` as its whole `params:` block (the demo's own one dropped)."""
    kept, inside = [], False
    for line in profile.read_text(encoding="utf-8").splitlines(keepends=True):
        if line.startswith("params:"):
            inside = True
        elif inside and line.strip() and not line.startswith((" ", "#")):
            inside = False
        if not inside:
            kept.append(line)
    profile.write_text("".join(kept) + "params:\n" + text, encoding="utf-8")
    return profile


def test_an_unknown_key_exits_2_naming_the_line(tmp_path: Path) -> None:
    profile = _with_params(demo_copy(tmp_path), "  stripe.webhook-endpoints: {path: /x}\n")
    line = line_of(profile, "  stripe.webhook-endpoints: {path: /x}")
    assert_invalid(
        validate("--target", profile),
        profile,
        line,
        None,
        "params.stripe.webhook-endpoints: unknown item or check",
        "did you mean 'stripe.webhook-endpoint'?",
        "keys are a check id",
    )


def test_a_pair_whose_item_lacks_the_check_exits_2(tmp_path: Path) -> None:
    text = "  webhook-config.endpoint-url/env.equals: {expected: x}\n"
    profile = _with_params(demo_copy(tmp_path), text)
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, text.rstrip("\n")),
        None,
        "item 'webhook-config.endpoint-url' has no check 'env.equals'",
        "its checks: stripe.webhook-endpoint",
    )


def test_an_attested_item_takes_no_params(tmp_path: Path) -> None:
    item = next(i for i in _checklist().items.values() if i.attested)
    profile = _with_params(demo_copy(tmp_path), f"  {item.id}: {{x: 1}}\n")
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, f"  {item.id}: {{x: 1}}"),
        None,
        "the item is attested",
    )


def test_an_unknown_param_exits_2_naming_its_line(tmp_path: Path) -> None:
    profile = _with_params(demo_copy(tmp_path), f"  {ITEM}:\n    expected: x\n    expect: y\n")
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, "    expect: y"),
        None,
        f"params.{ITEM}.expect: unknown param",
        "env.equals take(s): expected, role, var",
    )


def test_a_wrong_type_exits_2_naming_its_line(tmp_path: Path) -> None:
    profile = _with_params(demo_copy(tmp_path), "  env.key-prefix:\n    live: sk_live_\n")
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, "    live: sk_live_"),
        None,
        "params.env.key-prefix.live: Input should be a valid list",
        "check env.key-prefix's param live: Accepted prefixes in a live-mode environment",
    )
    # Once for the line, not once per item that runs the check.
    assert validate("--target", profile).stderr.count("valid list") == 1


def test_a_pair_key_wrong_type_names_the_item(tmp_path: Path) -> None:
    text = f"  {ITEM}/env.equals: {{expected: 5}}\n"
    profile = _with_params(demo_copy(tmp_path), text)
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, text.rstrip("\n")),
        ITEM,
        "Input should be a valid string",
    )


def test_params_must_be_a_mapping_of_mappings(tmp_path: Path) -> None:
    profile = _with_params(demo_copy(tmp_path), f"  {ITEM}: 2023-10-16\n")
    assert_invalid(
        validate("--target", profile),
        profile,
        line_of(profile, f"  {ITEM}: 2023-10-16"),
        None,
        f"params.{ITEM}: Input should be a valid dictionary",
    )


def test_valid_overrides_validate(tmp_path: Path) -> None:
    profile = _with_params(
        demo_copy(tmp_path),
        "  env.key-prefix: {live: [sk_live_]}\n"
        "  environment.secret-key: {var: STRIPE_SECRET_KEY}\n"
        f"  {ITEM}/env.equals: {{expected: '2024-11-20.acacia'}}\n",
    )
    done = validate("--target", profile)
    assert done.returncode == 0, done.stderr


def test_env_names_are_one_place_for_stripe_variable_names(tmp_path: Path) -> None:
    from golive import profile as profiles

    path = demo_copy(tmp_path)
    loaded = profiles.load(path)
    assert loaded.var("secret_key") == "STRIPE_SECRET_KEY"  # the documented defaults
    assert loaded.model.stripe is not None
    assert loaded.model.stripe.secret_key_env == "STRIPE_SECRET_KEY"

    edit_yaml(path, env={"file": "demo.env", "names": {"secret_key": "SHOP_SK"}})
    loaded = profiles.load(path)
    assert loaded.var("secret_key") == "SHOP_SK"
    assert loaded.var("webhook_secret") == "STRIPE_WEBHOOK_SECRET"
    # The harness's key follows the app's name unless the profile names its own.
    assert loaded.model.stripe is not None and loaded.model.stripe.secret_key_env == "SHOP_SK"
    loaded.env["SHOP_SK"] = "opaque-value-123"  # a name and value nothing else marks secret
    assert "opaque-value-123" in loaded.secrets()

    stripe = {**loaded.model.stripe.model_dump(exclude_none=True), "secret_key_env": "HARNESS"}
    edit_yaml(path, stripe=stripe)
    assert profiles.load(path).model.stripe.secret_key_env == "HARNESS"
