"""The example shop's one app: catalog, baskets, purchases, Stripe Checkout, webhooks."""
