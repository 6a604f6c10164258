"""Fields that name a user or a flow of the profile. References find them by this mark and
check the name exists when the profile loads (golive/profile/references.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated


@dataclass(frozen=True)
class Ref:
    kind: str  # "user" | "flow"


UserName = Annotated[str, Ref("user")]
FlowName = Annotated[str, Ref("flow")]
