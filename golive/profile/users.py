"""The profile's `users:` block: who golive acts as, named once for every family.

```yaml
users:
  alice: {token: tok_alice_ca, state: CA}     # any variables; flows and auth read {user.token}
  bob: {username: bob, password: pw-bob}
  shoppers:                                   # a pool, for load: `count` users from a pattern
    pool: {count: 50, vars: {token: "tok_load_{n:02d}"}}
  signups:                                    # …or made by the `signup` flow
    pool: {count: 20, signup: true, vars: {email: "load{n}@example.com", password: "pw-{n}"}}
  listed:                                     # …or read from a CSV file with a header row
    pool: {file: users.csv}
```
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Scalar = str | int | float | bool


class Pool(BaseModel):
    """A generated group of users, for load: `count` of them from `vars` patterns ({n} is
    1…count), or the rows of a CSV file; with `signup`, the `signup` flow makes each one."""

    model_config = ConfigDict(extra="forbid")

    count: int | None = Field(
        None, ge=1, le=10_000, description="How many users; {n} in `vars` runs 1…count"
    )
    vars: dict[str, str] = Field(
        default_factory=dict,
        description='Each user\'s variables as Python format patterns of n, e.g. "shopper{n:02d}"',
    )
    file: str | None = Field(
        None,
        description="CSV file (relative to the profile) with a header row of variable names; "
        "one user per row (at most `count` rows when both are given)",
    )
    signup: bool = Field(
        False, description="Run the `signup` job for each user before its first request"
    )

    @model_validator(mode="after")
    def _source(self) -> Pool:
        if (self.file is None) == (not self.vars):
            raise ValueError("a pool takes either `vars` (with `count`) or `file`")
        if self.vars and self.count is None:
            raise ValueError("a pool with `vars` needs `count`")
        for name, pattern in self.vars.items():
            try:
                pattern.format(n=1)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"pool vars.{name}: {pattern!r} is not a pattern of n ({exc})"
                ) from None
        return self

    def members(self, base_dir: Path) -> list[dict[str, Scalar]]:
        if self.file is not None:
            with (base_dir / self.file).open(encoding="utf-8", newline="") as handle:
                rows = [dict(row) for row in csv.DictReader(handle)]
            return rows[: self.count] if self.count else rows
        assert self.count is not None
        return [
            {name: pattern.format(n=n) for name, pattern in self.vars.items()}
            for n in range(1, self.count + 1)
        ]


class User(BaseModel):
    """One named user: any variables the app's auth and flows need (token, username,
    password, state, …), read in templates as {user.<name>}; or a `pool` of users."""

    model_config = ConfigDict(extra="allow")

    pool: Pool | None = Field(None, description="Makes this name a group of generated users")

    @model_validator(mode="after")
    def _shape(self) -> User:
        extra = self.model_extra or {}
        if self.pool is not None and extra:
            raise ValueError("a pool has no variables of its own: put them in pool.vars")
        if self.pool is None and not extra:
            raise ValueError("a user needs at least one variable (e.g. token, username)")
        for name, value in extra.items():
            if not isinstance(value, Scalar):
                raise ValueError(f"variable {name!r} must be a string, number or boolean")
        return self

    def variables(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


Users = dict[str, User]


def identity(users: Users, name: str) -> dict[str, Any]:
    """The variables of one named (non-pool) user, with its name as {user.name}."""
    return {"name": name, **users[name].variables()}
