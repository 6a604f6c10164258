"""The Stripe resources the sandbox serves, one module each; OPERATIONS lists their routes."""

from __future__ import annotations

from golive.sandbox.endpoint import Operation
from golive.sandbox.resources import (
    account,
    balance,
    charges,
    checkout_sessions,
    disputes,
    early_fraud_warnings,
    events,
    payment_intents,
    payment_methods,
    refunds,
    webhook_endpoints,
)

OPERATIONS: list[Operation] = [
    *payment_intents.OPERATIONS,
    *payment_methods.OPERATIONS,
    *charges.OPERATIONS,
    *refunds.OPERATIONS,
    *checkout_sessions.OPERATIONS,
    *disputes.OPERATIONS,
    *early_fraud_warnings.OPERATIONS,
    *events.OPERATIONS,
    *webhook_endpoints.OPERATIONS,
    *account.OPERATIONS,
    *balance.OPERATIONS,
]
