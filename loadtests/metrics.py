"""Locust request names, the checklist's metric names, and thresholds judged on Locust's stats.

Every request a scenario makes carries one of the names below; checklist.yaml's thresholds
name metrics, and each load check says which requests feed which metric:

| metric            | aggregate of                                    | check              |
| ----------------- | ----------------------------------------------- | ------------------ |
| create_intent_ms  | `checkout` latency                              | load.concurrent-intents |
| webhook_ack_ms    | `webhook` latency (the burst's signed events)   | load.webhook-burst |
| db_write_ms       | `cart_add` latency (a row written per request)  | load.database      |
| db_read_ms        | `order_read` latency (the order just written)   | load.database      |
| http_ms, http_p99_ms | every request to the app's API (not the webhook, not Stripe) | load.response-times |

Requests to the app are the profile's jobs (loadtests/shoppers.py); every request of one job
counts under its name: `fill_cart` as `cart_add`, `checkout` (or `checkout_cart`) as
`checkout` (`race_checkout` in the race), `read_order` as `order_read`, a member's first
`login` and `signup` under those names.
| failure_rate      | failed share of the check's requests            | each check         |
| samples           | count of the check's requests                   | each check         |

No locust import here: the gate's pytest process reads the numbers, Locust's child
process produces them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from golive import thresholds

# Request names (Locust's `name=`).
CART_ADD = "cart_add"
CHECKOUT = "checkout"
ORDER_READ = "order_read"
LOGIN = "login"
SIGNUP = "signup"
STRIPE_CONFIRM = "stripe_confirm"
STRIPE_RETRIEVE = "stripe_retrieve"
WEBHOOK = "webhook"
RACE_CHECKOUT = "race_checkout"
RACE_WEBHOOK_SAME_ID = "race_webhook_same_id"
RACE_WEBHOOK_NEW_ID = "race_webhook_new_id"

API = (CART_ADD, CHECKOUT, ORDER_READ, RACE_CHECKOUT, LOGIN, SIGNUP)

FAILURE_RATE = "failure_rate"
SAMPLES = "samples"

# check id -> metric -> the request names it aggregates.
CHECK_METRICS: dict[str, dict[str, tuple[str, ...]]] = {
    "load.concurrent-intents": {
        "create_intent_ms": (CHECKOUT,),
        FAILURE_RATE: (CHECKOUT, STRIPE_CONFIRM),
        SAMPLES: (CHECKOUT,),
    },
    "load.webhook-burst": {
        "webhook_ack_ms": (WEBHOOK,),
        FAILURE_RATE: (WEBHOOK,),
        SAMPLES: (WEBHOOK,),
    },
    "load.database": {
        "db_write_ms": (CART_ADD,),
        "db_read_ms": (ORDER_READ,),
        FAILURE_RATE: (CART_ADD, ORDER_READ),
        SAMPLES: (CART_ADD, ORDER_READ),
    },
    "load.response-times": {
        "http_ms": API,
        "http_p99_ms": API,
        FAILURE_RATE: API,
        SAMPLES: API,
    },
    "load.race-invariants": {},
}


@dataclass(frozen=True)
class Entry:
    """One request name's totals and latency histogram (ms bucket -> count)."""

    name: str
    requests: int
    failures: int
    histogram: dict[int, int]


def entries(stats_json: Iterable[Mapping[str, Any]]) -> dict[str, Entry]:
    """Locust's `--json-file` output, merged per request name (methods folded together)."""
    merged: dict[str, Entry] = {}
    for raw in stats_json:
        name = str(raw.get("name"))
        hist = {int(k): int(v) for k, v in (raw.get("response_times") or {}).items()}
        old = merged.get(name)
        if old:
            for k, v in old.histogram.items():
                hist[k] = hist.get(k, 0) + v
        merged[name] = Entry(
            name,
            int(raw.get("num_requests") or 0) + (old.requests if old else 0),
            int(raw.get("num_failures") or 0) + (old.failures if old else 0),
            hist,
        )
    return merged


@dataclass
class Judgement:
    metric: str
    threshold: str
    requests: tuple[str, ...]
    samples: int
    observed: float | None
    passed: bool | None  # None: no samples (an error, never a pass)

    def evidence(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "threshold": self.threshold,
            "locust_requests": list(self.requests),
            "samples": self.samples,
            "observed": None if self.observed is None else round(self.observed, 4),
            "passed": self.passed,
        }


def samples_of(metric: str, names: Sequence[str], stats: Mapping[str, Entry]) -> list[Any]:
    """The samples a threshold aggregates: latencies (ms), failure flags, or request ticks."""
    picked = [stats[n] for n in names if n in stats]
    if metric == FAILURE_RATE:
        failed = sum(e.failures for e in picked)
        total = sum(e.requests for e in picked)
        return [True] * failed + [False] * (total - failed)
    if metric == SAMPLES:
        return [1.0] * sum(e.requests for e in picked)
    values: list[float] = []
    for entry in picked:
        for bucket, count in sorted(entry.histogram.items()):
            values.extend([float(bucket)] * count)
    return values


def judge(
    check_id: str, item_thresholds: Mapping[str, str], stats: Mapping[str, Entry]
) -> list[Judgement]:
    """Every threshold of the item, judged on the run's stats."""
    mapping = CHECK_METRICS[check_id]
    out = []
    for metric, expression in item_thresholds.items():
        names = mapping[metric]  # validation made sure the name is known
        threshold = thresholds.parse(expression)
        samples = samples_of(metric, names, stats)
        try:
            passed, observed = threshold.evaluate(samples)
        except thresholds.NoSamplesError:
            out.append(Judgement(metric, expression, names, 0, None, None))
            continue
        out.append(Judgement(metric, expression, names, len(samples), observed, passed))
    return out
