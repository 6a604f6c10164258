"""A day of payments, compressed: golive plays N checkouts through the profile's own flows
and users against the sandbox and the app, so the post-deploy checks (reconciliation,
success, refund and dispute rates, webhook delivery) have data on the demo and in tests.

- `profile`: the `traffic:` block (payments, mix, users, carts, quota);
- `mix`: the mix's weights shared out between N payments;
- `quota`: each user's rate-limit quota;
- `backend`: paying, refunds, disputes and the dropped delivery at the Stripe backend;
- `player`: the play itself;
- `ledger`: what was played, as JSON;
- `safety`: live keys and foreign hosts refused;
- `gate_hook`: played once inside `golive gate` (post-deploy) and `golive traffic`;
- `cli`: `golive traffic --target PROFILE --payments 40 --mix success=85,decline=8`.
"""
