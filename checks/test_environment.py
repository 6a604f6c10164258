"""Environment checks: the Stripe keys and settings in the target's env source."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from golive.context import CheckContext
from golive.redact import redact_key
from golive.registry import check


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VarsPresent(_Params):
    vars: list[str] = Field(min_length=1)


class KeyPrefix(_Params):
    var: str
    live: list[str] = Field(
        min_length=1, description="Accepted prefixes in a live-mode environment"
    )
    test: list[str] = Field(
        min_length=1, description="Accepted prefixes in a test-mode environment"
    )


class Equals(_Params):
    var: str
    expected: str


class ModesMatch(_Params):
    secret_var: str
    publishable_var: str


def _source(ctx: CheckContext) -> str:
    env = ctx.profile.model.env
    return "process environment" if env.source == "process" else f"env file {env.file}"


def _value(ctx: CheckContext, var: str) -> str | None:
    value = ctx.profile.env.get(var)
    return value if value else None


def _mode(value: str) -> str | None:
    for mode in ("live", "test"):
        if f"_{mode}_" in value[:9]:
            return mode
    return None


@check("env.vars-present", params=VarsPresent)
def test_vars_present(ctx: CheckContext) -> None:
    """Each named variable is set and not empty."""
    missing = []
    for var in ctx.params.vars:
        value = _value(ctx, var)
        ctx.record(
            var=var,
            source=_source(ctx),
            present=value is not None,
            value=redact_key(value) if value else None,
        )
        if value is None:
            missing.append(var)
    if missing:
        ctx.fail(f"missing or empty in the {_source(ctx)}: {', '.join(missing)}")


@check("env.key-prefix", params=KeyPrefix)
def test_key_prefix(ctx: CheckContext) -> None:
    """A key starts with a prefix of the environment's mode (sk_live_ in production)."""
    mode = ctx.profile.model.mode
    accepted = ctx.params.live if mode == "live" else ctx.params.test
    value = _value(ctx, ctx.params.var)
    ctx.record(
        var=ctx.params.var,
        source=_source(ctx),
        mode=mode,
        accepted_prefixes=accepted,
        value=redact_key(value) if value else None,
    )
    if value is None:
        ctx.fail(f"{ctx.params.var} is not set in the {_source(ctx)}")
    if not value.startswith(tuple(accepted)):
        ctx.fail(
            f"{ctx.params.var} is {redact_key(value)}; a {mode}-mode environment needs "
            f"{' or '.join(accepted)}"
        )


@check("env.equals", params=Equals)
def test_equals(ctx: CheckContext) -> None:
    """A setting has exactly the pinned value (e.g. STRIPE_API_VERSION)."""
    value = _value(ctx, ctx.params.var)
    ctx.record(var=ctx.params.var, source=_source(ctx), expected=ctx.params.expected, found=value)
    if value != ctx.params.expected:
        ctx.fail(f"{ctx.params.var} is {value!r}, expected {ctx.params.expected!r}")


@check("env.key-modes-match", params=ModesMatch)
def test_key_modes_match(ctx: CheckContext) -> None:
    """Secret and publishable keys belong to the same mode, the environment's."""
    secret = _value(ctx, ctx.params.secret_var)
    publishable = _value(ctx, ctx.params.publishable_var)
    modes = {
        ctx.params.secret_var: _mode(secret or ""),
        ctx.params.publishable_var: _mode(publishable or ""),
    }
    ctx.record(
        source=_source(ctx),
        expected_mode=ctx.profile.model.mode,
        keys={
            ctx.params.secret_var: redact_key(secret) if secret else None,
            ctx.params.publishable_var: redact_key(publishable) if publishable else None,
        },
        modes=modes,
    )
    unknown = [var for var, mode in modes.items() if mode is None]
    if unknown:
        ctx.fail(f"cannot tell the mode of {', '.join(unknown)} (missing or not a Stripe key)")
    if len(set(modes.values())) != 1:
        ctx.fail("keys of different modes: " + ", ".join(f"{v} is {m}" for v, m in modes.items()))
    if ctx.profile.model.mode not in modes.values():
        ctx.fail(
            f"both keys are {secret and _mode(secret)}-mode keys; this environment is "
            f"{ctx.profile.model.mode}-mode"
        )
