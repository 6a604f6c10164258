"""`golive reconcile` and the reconciliation checks: the app's orders against Stripe.

profile.py (the `reconcile:` block), orders_side.py (the app's orders), stripe_side.py
(PaymentIntents, Refunds, Disputes), match.py (the findings), engine.py (one window),
report.py (CSV and the four report formats), cli.py (the command).
"""
