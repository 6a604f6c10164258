"""Environment checks: the Stripe keys and settings in the target's env source.

A check names the variable it reads by `role` (one of Stripe's settings: the name is the
profile's env.names, so an app that calls its key STRIPE_SK is judged under that name)
or by `var` (a name, which wins). Each params model says which variables it reads
(`variables(names)`), which `golive init` uses to compare with the app's own names.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from golive.context import CheckContext
from golive.profile import EnvNames, EnvRole
from golive.redact import redact_key
from golive.registry import check


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


ROLE_HELP = (
    "Which of Stripe's settings, by the name the profile's env.names gives it (default "
    "STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_VERSION)"
)


class VarsPresent(_Params):
    roles: list[EnvRole] = Field(default_factory=list, description=ROLE_HELP + "; each must be set")
    vars: list[str] = Field(
        default_factory=list, description="Other env variables, by name, that must be set"
    )

    @model_validator(mode="after")
    def _some(self) -> VarsPresent:
        if not self.roles and not self.vars:
            raise ValueError("name at least one variable: roles or vars")
        return self

    def variables(self, names: EnvNames) -> list[str]:
        return [getattr(names, role) for role in self.roles] + self.vars


class _OneVar(_Params):
    role: EnvRole | None = Field(None, description=ROLE_HELP)
    var: str | None = Field(None, min_length=1, description="The variable by name (wins over role)")

    @model_validator(mode="after")
    def _one(self) -> _OneVar:
        if self.role is None and self.var is None:
            raise ValueError("name the variable: role (one of Stripe's settings) or var")
        return self

    def variables(self, names: EnvNames) -> list[str]:
        return [self.var or getattr(names, str(self.role))]


class KeyPrefix(_OneVar):
    live: list[str] = Field(
        min_length=1, description="Accepted prefixes in a live-mode environment"
    )
    test: list[str] = Field(
        min_length=1, description="Accepted prefixes in a test-mode environment"
    )


class Equals(_OneVar):
    expected: str = Field(description="The value the variable must have")


class ModesMatch(_Params):
    secret_var: str | None = Field(
        None, min_length=1, description="The secret key's variable; default: env.names.secret_key"
    )
    publishable_var: str | None = Field(
        None,
        min_length=1,
        description="The publishable key's variable; default: env.names.publishable_key",
    )

    def variables(self, names: EnvNames) -> list[str]:
        return [self.secret_var or names.secret_key, self.publishable_var or names.publishable_key]


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
    for var in ctx.params.variables(ctx.profile.model.env.names):
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
    [var] = ctx.params.variables(ctx.profile.model.env.names)
    value = _value(ctx, var)
    ctx.record(
        var=var,
        source=_source(ctx),
        mode=mode,
        accepted_prefixes=accepted,
        value=redact_key(value) if value else None,
    )
    if value is None:
        ctx.fail(f"{var} is not set in the {_source(ctx)}")
    if not value.startswith(tuple(accepted)):
        ctx.fail(
            f"{var} is {redact_key(value)}; a {mode}-mode environment needs {' or '.join(accepted)}"
        )


@check("env.equals", params=Equals)
def test_equals(ctx: CheckContext) -> None:
    """A setting has exactly the pinned value (e.g. STRIPE_API_VERSION)."""
    [var] = ctx.params.variables(ctx.profile.model.env.names)
    value = _value(ctx, var)
    ctx.record(var=var, source=_source(ctx), expected=ctx.params.expected, found=value)
    if value != ctx.params.expected:
        ctx.fail(f"{var} is {value!r}, expected {ctx.params.expected!r}")


@check("env.key-modes-match", params=ModesMatch)
def test_key_modes_match(ctx: CheckContext) -> None:
    """Secret and publishable keys belong to the same mode, the environment's."""
    secret_var, publishable_var = ctx.params.variables(ctx.profile.model.env.names)
    secret = _value(ctx, secret_var)
    publishable = _value(ctx, publishable_var)
    modes = {secret_var: _mode(secret or ""), publishable_var: _mode(publishable or "")}
    ctx.record(
        source=_source(ctx),
        expected_mode=ctx.profile.model.mode,
        keys={
            secret_var: redact_key(secret) if secret else None,
            publishable_var: redact_key(publishable) if publishable else None,
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
