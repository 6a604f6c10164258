"""The demo data reset_demo writes: products with integer cent prices and shoppers.

Passwords follow one pattern, `pw-<username>` (ada: pw-ada, shopper07: pw-shopper07), so
a test or a load run can sign any of them in. Demo data only.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction

from store.models import Product

PRODUCTS = [
    # sku, name, unit_amount (cents)
    ("TEA-SENCHA", "Sencha green tea, 100 g", 1250),
    ("TEA-ASSAM", "Assam breakfast tea, 250 g", 990),
    ("TIN-CADDY", "Tea caddy tin", 1000),  # 1000 alone: tax 82.5 -> 83 (half-up)
    ("MUG-STONE", "Stoneware mug", 1800),
    ("KETTLE-GOOSE", "Gooseneck kettle", 4999),
    ("FILTER-100", "Paper filters, pack of 100", 399),
    ("TEA-SAMPLE", "Tea sample sachet", 50),  # 54 with tax: a smoke payment
]
NAMED_USERS = ["ada", "grace", "linus", "ken"]
POOL_SIZE = 50  # shopper01 … shopper50, for load tests


def usernames() -> list[str]:
    return NAMED_USERS + [f"shopper{n:02d}" for n in range(1, POOL_SIZE + 1)]


def password_for(username: str) -> str:
    return f"pw-{username}"


@transaction.atomic
def seed() -> dict[str, int]:
    for sku, name, unit_amount in PRODUCTS:
        Product.objects.update_or_create(
            sku=sku, defaults={"name": name, "unit_amount": unit_amount, "active": True}
        )
    users = get_user_model()
    created = 0
    for username in usernames():
        _, made = users.objects.update_or_create(
            username=username,
            defaults={
                "email": f"{username}@example.test",
                "password": make_password(password_for(username)),
                "is_active": True,
            },
        )
        created += made
    return {"products": len(PRODUCTS), "users": len(usernames()), "users_created": created}
