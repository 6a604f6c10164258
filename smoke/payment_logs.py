"""One small payment whose trace golive then looks for in the target's logs.

The smoke flow's steps (golive/smoke/steps.py) as the profile's `smoke.customer` with the
smoke cart: check out → confirm with a test card → the event reaches the webhook → the
order is paid (the app has processed the event). The log files' sizes are taken before
the checkout, so only what this payment made the app write is judged
(golive/logscan.py). Run once per run, shared by the items that judge the logs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from golive.context import CheckContext
from golive.logscan import LogWatch
from golive.smoke import steps
from golive.smoke.flows import Flow
from golive.smoke.harness import harness
from golive.smoke.steps import SUCCEEDED, Payment

CARD = "pm_card_visa"
# The steps whose success is the check's positive control.
CONTROL = ["create-intent", "confirm", "webhook", "order"]


@dataclass
class LoggedPayment:
    flow: Flow
    pay: Payment
    watch: LogWatch

    @property
    def event_type(self) -> str:
        return steps.paid_event(self.pay)

    @property
    def event_id(self) -> str | None:
        return self.pay.events.get(self.event_type)


def logged_payment(ctx: CheckContext, logs: list[Path]) -> LoggedPayment:
    """The run's payment for the log checks (the harness's refusal raised through ctx)."""
    h = harness(ctx)

    def run() -> LoggedPayment:
        flow, pay = Flow("payment-logs"), Payment(h.customer)
        watch = LogWatch.start(logs)
        lines = None
        if steps.uses_cart(h):
            flow.run("fill-cart", lambda: steps.fill_cart(h, pay, h.spec.items))
        else:
            lines = h.spec.items
        since = int(time.time()) - 2  # event `created` is in whole seconds
        flow.run("create-intent", lambda: steps.create_intent(h, flow, pay, lines))
        flow.run("confirm", lambda: steps.confirm(h, pay, CARD))
        flow.run("webhook", lambda: steps.webhook(h, flow, pay, SUCCEEDED, since))
        flow.run("order", lambda: steps.order_paid(h, flow, pay, measure=False))
        flow.values["backend"] = h.describe()
        return LoggedPayment(flow, pay, watch)

    return ctx.target.cached("smoke.flow:payment-logs", run)


def deadline_s(ctx: CheckContext) -> float:
    """How long the app may take to write its lines once the order shows paid."""
    return harness(ctx).spec.deadlines.order_s
