"""The reference shop: a small marketplace checkout taking payments through Stripe, doing
everything the production checklist asks — and able to break each promise on demand
(`SHOP_FLAWS`, see flaws.py and catalogue.yaml). Run it with `python -m shop`; README.md has
the environment, the endpoints, the price rules and the test users.
"""

__version__ = "1.0.0"
