"""The shop's tables. Money is integer cents in the shop's one currency (usd).

Stripe ids have unique indexes: a Checkout Session id, a PaymentIntent id and an event id
each belong to one row, whatever the timing of requests and webhook deliveries.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_ref(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def basket_ref() -> str:
    return new_ref("bsk")


def purchase_ref() -> str:
    return new_ref("pur")


class Product(models.Model):
    sku = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    unit_amount = models.PositiveIntegerField(help_text="price in cents")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return self.sku


class Basket(models.Model):
    class State(models.TextChoices):
        OPEN = "open"
        CHECKED_OUT = "checked_out"

    ref = models.CharField(max_length=24, unique=True, default=basket_ref)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.ref


class BasketLine(models.Model):
    basket = models.ForeignKey(Basket, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["basket", "product"], name="basketline_one_per_sku"),
            models.CheckConstraint(condition=Q(qty__gte=1), name="basketline_qty_positive"),
        ]
        ordering = ["id"]


class Purchase(models.Model):
    """One checkout of a basket: the server's price snapshot and its payment's progress."""

    class State(models.TextChoices):
        PENDING = "pending"
        PAID = "paid"
        FAILED = "failed"
        REFUNDED = "refunded"

    ref = models.CharField(max_length=24, unique=True, default=purchase_ref)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    basket = models.ForeignKey(Basket, on_delete=models.SET_NULL, null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    currency = models.CharField(max_length=3, default="usd")
    subtotal_cents = models.PositiveIntegerField()
    tax_cents = models.PositiveIntegerField()
    total_cents = models.PositiveIntegerField()
    # The client's Idempotency-Key (hashed with the user's id): a retried checkout answers
    # the purchase the first attempt made.
    # The client's Idempotency-Key, hashed with the user's id (payments.request_key): one
    # purchase per key; NULL for checkouts sent without one.
    request_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    checkout_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    checkout_url = models.URLField(max_length=2000, blank=True, default="")
    payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    refund_id = models.CharField(max_length=255, blank=True, default="")
    # Free text for the courier ("leave it with the neighbour at no. 12").
    doorstep_note = models.CharField(max_length=280, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(total_cents=models.F("subtotal_cents") + models.F("tax_cents")),
                name="purchase_total_is_subtotal_plus_tax",
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="purchase_owner_recent"),
            # Reconciliation and support look purchases up by state (pending ones, say).
            models.Index(fields=["state", "created_at"], name="purchase_state_created"),
        ]

    def __str__(self) -> str:
        return self.ref


class PurchaseLine(models.Model):
    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=40)
    name = models.CharField(max_length=120)
    unit_amount = models.PositiveIntegerField()
    qty = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]


class PaymentRecord(models.Model):
    """The money that arrived for a purchase: one row per PaymentIntent, ever."""

    purchase = models.ForeignKey(Purchase, on_delete=models.PROTECT, related_name="payments")
    payment_intent_id = models.CharField(max_length=255, unique=True)
    charge_id = models.CharField(max_length=255, blank=True, default="", db_index=True)
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True)


class StripeEventReceipt(models.Model):
    """Every verified webhook event, once: the unique event id turns a redelivery into a
    no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    event_type = models.CharField(max_length=100)
    received_at = models.DateTimeField(auto_now_add=True)


class Notice(models.Model):
    """What the shop tells a customer (its "notification"): one per purchase and kind."""

    class Kind(models.TextChoices):
        PAID = "paid"

    purchase = models.ForeignKey(Purchase, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["purchase", "kind"], name="notice_once_per_kind")
        ]


class RateWindow(models.Model):
    """A per-user counter for one minute (or other window) of one action; see ratelimit.py."""

    key = models.CharField(max_length=120)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="ratewindow_one_per_key")
        ]
