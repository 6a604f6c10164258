"""Playing the demo profile's traffic against a shop of tests/shopkit.py: the profile's
users, auth and flows as targets/demo/target.yaml says them, the shop a real process, the
sandbox a real server. What the tests read back: the sandbox's objects (the official
stripe library) and the shop's database."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import stripe
import yaml

from golive.backends import Backend
from golive.client.app import AppClient
from golive.profile import ProfileModel
from golive.sandbox import Sandbox
from golive.traffic.ledger import Ledger
from golive.traffic.player import play
from golive.traffic.profile import TrafficModel
from tests import shopkit
from tests.shopkit import ShopProcess

DEMO = Path(__file__).resolve().parent.parent / "targets" / "demo" / "target.yaml"
# What the shop's requests need of the demo profile (the rest boots the demo itself).
APP_KEYS = ("users", "auth", "flows", "smoke", "traffic")


def demo_model() -> ProfileModel:
    data = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    return ProfileModel.model_validate(
        {"name": "demo", "mode": "test", **{k: data[k] for k in APP_KEYS}}
    )


# Every kind of the mix, in shares the tests count on (the demo's own mix is tuned to pass
# the seed targets and plays few declines, refunds and disputes).
TEST_MIX = {"success": 85, "decline": 8, "refund": 4, "dispute": 2, "drop-webhook": 1}


def traffic(**changes: Any) -> TrafficModel:
    return TrafficModel.model_validate(
        {**demo_model().traffic, "payments": 40, "mix": TEST_MIX, **changes}
    )


def backend_for(sandbox: Sandbox) -> Backend:
    return Backend("sandbox", sandbox.url, shopkit.SECRET_KEY)


def play_on(shop: ShopProcess, model: TrafficModel, **kwargs: Any) -> Ledger:
    """The traffic played against `shop` through the demo profile's flows and users."""
    app = AppClient(demo_model(), shop.url, base_dir=DEMO.parent)
    try:
        return play(
            app,
            backend_for(shop.sandbox),
            model,
            publishable_key=shopkit.PUBLISHABLE_KEY,
            target="shopkit",
            **kwargs,
        )
    finally:
        app.close()


def client(sandbox: Sandbox) -> stripe.StripeClient:
    return shopkit.client_for(sandbox)


def token_of(member: str) -> str:
    """`shoppers[3]` -> the shop's token hash of tok_load_03 (the demo's pool pattern)."""
    n = int(member.split("[")[1].rstrip("]"))
    return hashlib.sha256(f"tok_load_{n:02d}".encode()).hexdigest()


def orders_of(shop: ShopProcess, intent: str) -> list[tuple[str, str]]:
    """(payment_status, the buyer's token hash) of the shop's orders for the intent."""
    return shop.query(
        "SELECT o.payment_status, u.token_hash FROM orders o JOIN users u ON u.id = o.user_id "
        "WHERE o.stripe_payment_intent_id = ?",
        (intent,),
    )
