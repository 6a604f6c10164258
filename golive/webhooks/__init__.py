"""Stripe webhook signing and sending: used by the sandbox and by the live checks."""
