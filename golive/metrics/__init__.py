"""Success metrics from the Stripe API, judged by k6-style thresholds over post-deploy
windows.

The provider API (what `golive watch` and the checks in checks/test_metrics.py call):

    from golive.metrics import StripeData, measure, evaluate, metric_window

    data = StripeData(stripe_api.client(backend))          # one per run: lists are kept
    window = metric_window("week-1", now, go_live)         # golive/metrics/windows.py
    m = measure(data, "payment_success_rate", window)      # -> Measurement
    m.value, m.samples, m.evidence                         # 0.97, 120, {window, counts, ids}
    judgement = evaluate(m, {"payment_success_rate": "rate>0.90", "samples": "count>=20"})
    judgement.passed, judgement.results, judgement.problems

`measure` raises:
- stripe.StripeError: the backend refused golive's own request (an error);
- Unlisted: the backend does not serve a list the metric needs (HTTP 404: not-run);
- TooManyObjects: the window holds more than one walk reads (an error);
- MetricInputError: the metric cannot be computed as asked (an error);
- NoSamplesError: a comparison without data on one side (decline_rate_change).
`evaluate` raises NoSamplesError for zero samples or fewer than `samples: count>=N`.

The metrics (docs/metrics.md says which item uses which, over which window):

| name                   | what                                           | module      |
| ---------------------- | ---------------------------------------------- | ----------- |
| payment_success_rate   | succeeded / decided charges                    | payments.py |
| failed_payment_rate    | failed / decided charges                       | payments.py |
| refund_rate            | refunded / succeeded charges                   | payments.py |
| dispute_rate           | disputed / succeeded charges                   | payments.py |
| fraud_rate             | fraud-flagged (dispute `fraudulent`, early fraud warning) / succeeded charges | payments.py |
| average_order_value    | mean amount of succeeded charges (one currency) | payments.py |
| platform_fee_collected | succeeded charges carrying a fee               | fees.py     |
| platform_fee_on_target | succeeded charges whose fee is the rules' fee  | fees.py     |
| webhook_delivery_rate  | events no endpoint still waits for             | webhooks.py |
| decline_rate_change    | failed rate minus the days before's (points)   | anomalies.py |

Options by metric: average_order_value (currency, minimum, maximum);
platform_fee_collected (fee); platform_fee_on_target (fee, base, bps, tolerance);
webhook_delivery_rate (now, grace); decline_rate_change (baseline_days, go_live).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe

from golive.metrics import anomalies, fees, payments, webhooks
from golive.metrics.model import (
    SAMPLES,
    Judgement,
    Measurement,
    MetricInputError,
    NoSamplesError,
    evaluate,
)
from golive.metrics.stripe_source import StripeData, TooManyObjects, Unlisted
from golive.metrics.windows import go_live, metric_window
from golive.profile.postdeploy import Window

METRICS: dict[str, Callable[..., Measurement]] = {
    "payment_success_rate": payments.payment_success_rate,
    "failed_payment_rate": payments.failed_payment_rate,
    "refund_rate": payments.refund_rate,
    "dispute_rate": payments.dispute_rate,
    "fraud_rate": payments.fraud_rate,
    "average_order_value": payments.average_order_value,
    "platform_fee_collected": fees.platform_fee_collected,
    "platform_fee_on_target": fees.platform_fee_on_target,
    "webhook_delivery_rate": webhooks.webhook_delivery_rate,
    "decline_rate_change": anomalies.decline_rate_change,
}


def measure(
    source: StripeData | stripe.StripeClient, metric: str, window: Window, **options: Any
) -> Measurement:
    """`metric` over the objects created in `window` (see the module docstring)."""
    if metric not in METRICS:
        raise MetricInputError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")
    data = source if isinstance(source, StripeData) else StripeData(source)
    return METRICS[metric](data, window, **options)


__all__ = [
    "METRICS",
    "SAMPLES",
    "Judgement",
    "Measurement",
    "MetricInputError",
    "NoSamplesError",
    "StripeData",
    "TooManyObjects",
    "Unlisted",
    "evaluate",
    "go_live",
    "measure",
    "metric_window",
]
