"""The ledger: what the traffic played, written as JSON for the checks and people that
judge the data afterwards (reconciliation, success/refund/dispute rates, deliveries).

```json
{"target": "demo", "backend": "sandbox", "app": "http://127.0.0.1:…",
 "started_at": "…", "finished_at": "…", "clock": "objects dated from … on (the sandbox's clock)",
 "clock_behind_s": 240.0,
 "requested": {"payments": 40, "mix": {"success": 85, …}}, "planned": {"success": 33, …},
 "payment_intents": {"succeeded": ["pi_…"], "failed": ["pi_…"]},
 "refunds": [{"payment_intent": "pi_…", "order_id": 7, "via": "target", "refund": "re_…"}],
 "disputes": [{"payment_intent": "pi_…", "dispute": "dp_…"}],
 "dropped_webhooks": [{"payment_intent": "pi_…", "events": [{"id": "evt_…", "type": "…"}]}],
 "skipped": [{"kind": "dispute", "count": 1, "reason": "…"}],
 "errors": ["…"],
 "played": [{"n": 1, "kind": "success", "user": "shoppers[1]", "payment_intent": "pi_…", …}]}
```
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass
class Played:
    """One checkout of the traffic and what came of it."""

    n: int
    kind: str
    user: str
    payment_method: str
    payment_intent: str | None = None
    order_id: Any = None
    status: str | None = None  # the PaymentIntent's, read after paying
    declined: str | None = None  # what the backend said to a declined card
    error: str | None = None  # golive could not play it as planned


@dataclass
class Ledger:
    target: str
    backend: str
    app: str
    requested: dict[str, Any]
    planned: dict[str, int]
    started_at: str = field(default_factory=lambda: _now())
    finished_at: str | None = None
    played: list[Played] = field(default_factory=list)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    dropped_webhooks: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    clock: str = ""  # how the backend dated what was played
    # Seconds the backend's clock ran behind golive's (the app's) while playing: 0 unless
    # the sandbox's clock was moved to date the traffic before the run's time.
    clock_behind_s: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, played: Played) -> None:
        with self._lock:
            self.played.append(played)

    def error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def finish(self) -> None:
        self.finished_at = _now()
        self.played.sort(key=lambda p: p.n)

    def intents(self, status: str) -> list[str]:
        return [p.payment_intent for p in self.played if p.payment_intent and p.status == status]

    @property
    def complete(self) -> bool:
        """Everything planned was played, nothing went wrong on golive's side."""
        return not self.errors and not any(p.error for p in self.played)

    def to_dict(self) -> dict[str, Any]:
        succeeded = self.intents("succeeded")
        failed = [
            p.payment_intent
            for p in self.played
            if p.payment_intent and p.status not in ("succeeded", None)
        ]
        return {
            "target": self.target,
            "backend": self.backend,
            "app": self.app,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "clock": self.clock,
            "clock_behind_s": self.clock_behind_s,
            "requested": self.requested,
            "planned": self.planned,
            "payment_intents": {"succeeded": succeeded, "failed": failed},
            "refunds": self.refunds,
            "disputes": self.disputes,
            "dropped_webhooks": self.dropped_webhooks,
            "skipped": self.skipped,
            "errors": self.errors,
            "played": [asdict(p) for p in self.played],
        }

    def summary(self) -> str:
        data = self.to_dict()
        parts = [
            f"{len(self.played)} checkouts",
            f"{len(data['payment_intents']['succeeded'])} succeeded",
            f"{len(data['payment_intents']['failed'])} declined",
            f"{len(self.refunds)} refunded",
            f"{len(self.disputes)} disputed",
            f"{len(self.dropped_webhooks)} with a dropped webhook",
        ]
        text = ", ".join(parts)
        for skip in self.skipped:
            text += f"; skipped {skip['count']} {skip['kind']}: {skip['reason']}"
        errors = self.errors + [f"#{p.n} {p.kind}: {p.error}" for p in self.played if p.error]
        if errors:
            text += f"; {len(errors)} not played as planned: {errors[0]}"
        return text

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        return path


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
