"""The shop's pages and JSON API (README.md lists the routes)."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from store import flaws, payments, pricing, ratelimit
from store.api import ApiError, endpoint, error, read_json, whole_number
from store.models import Basket, BasketLine, Product, Purchase, PurchaseLine

log = logging.getLogger("store")
audit = logging.getLogger("store.audit")

MAX_QTY = 99
MIN_CHARGE_CENTS = 50  # Stripe's minimum for usd
DOORSTEP_NOTE_MAX = 280
# What a hostile or careless client may send to set its own price: never read, only logged.
CLIENT_PRICE_FIELDS = frozenset(
    {
        "amount",
        "total",
        "total_cents",
        "subtotal",
        "subtotal_cents",
        "tax",
        "tax_cents",
        "price",
        "unit_amount",
        "unit_price",
        "fee",
        "platform_fee",
        "discount",
        "currency",
    }
)


# --- serializers --------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def basket_body(basket: Basket) -> dict[str, Any]:
    lines = [
        {
            "sku": line.product.sku,
            "name": line.product.name,
            "qty": line.qty,
            "unit_amount": line.product.unit_amount,
            "line_total": line.product.unit_amount * line.qty,
        }
        for line in basket.lines.select_related("product").order_by("id")
    ]
    quote = pricing.quote([(line["unit_amount"], line["qty"]) for line in lines])
    return {
        "ref": basket.ref,
        "state": basket.state,
        "currency": settings.SHOP_CURRENCY,
        "lines": lines,
        # A preview: checkout computes the total again from the prices of that moment.
        "subtotal_cents": quote.subtotal_cents,
        "tax_cents": quote.tax_cents,
        "total_cents": quote.total_cents,
    }


def purchase_body(purchase: Purchase) -> dict[str, Any]:
    return {
        "ref": purchase.ref,
        "state": purchase.state,
        "basket": purchase.basket.ref if purchase.basket_id else None,
        "currency": purchase.currency,
        "lines": [
            {
                "sku": line.sku,
                "name": line.name,
                "qty": line.qty,
                "unit_amount": line.unit_amount,
                "line_total": line.unit_amount * line.qty,
            }
            for line in purchase.lines.all()
        ],
        "subtotal_cents": purchase.subtotal_cents,
        "tax_cents": purchase.tax_cents,
        "total_cents": purchase.total_cents,
        "payment_intent": purchase.payment_intent_id,
        "checkout_session_id": purchase.checkout_session_id,
        "created_at": _iso(purchase.created_at),
        "paid_at": _iso(purchase.paid_at),
        **({"doorstep_note": purchase.doorstep_note} if flaws.on("doorstep-notes") else {}),
    }


def checkout_body(purchase: Purchase) -> dict[str, Any]:
    return {
        "purchase": {
            "ref": purchase.ref,
            "state": purchase.state,
            "subtotal_cents": purchase.subtotal_cents,
            "tax_cents": purchase.tax_cents,
            "total_cents": purchase.total_cents,
        },
        "checkout": {"session_id": purchase.checkout_session_id, "url": purchase.checkout_url},
    }


def _own_basket(
    request: HttpRequest, ref: str, *, lock: bool = False, shared: bool = False
) -> Basket:
    if shared and flaws.on("shared-basket"):
        # A basket's link can be shared (a household filling one basket): the ref is the
        # capability, it is long and random.
        baskets = Basket.objects.filter(ref=ref)
    else:
        baskets = Basket.objects.filter(ref=ref, owner=request.user)
    basket = (baskets.select_for_update() if lock else baskets).first()
    if basket is None:  # someone else's basket is as unknown as a missing one
        raise ApiError(404, "no such basket")
    return basket


def _own_purchase(request: HttpRequest, ref: str, *, lock: bool = False) -> Purchase:
    purchases = Purchase.objects.filter(ref=ref, owner=request.user)
    purchase = (purchases.select_for_update() if lock else purchases).first()
    if purchase is None:
        raise ApiError(404, "no such purchase")
    return purchase


def _limit(request: HttpRequest, action: str) -> None:
    allowed, retry_after = ratelimit.hit(
        f"{action}:{request.user.pk}", settings.SHOP_CHECKOUT_RATE_PER_MIN
    )
    if not allowed:
        raise ApiError(
            429,
            f"too many {action} requests; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


# --- account ------------------------------------------------------------------------------


class ThrottledLoginView(LoginView):
    """Django's login form; a username with too many recent failures is refused (429)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    @staticmethod
    def _failure_key(request: HttpRequest) -> str:
        return "login-failures:" + (request.POST.get("username") or "").strip().lower()[:150]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        window = 15 * 60
        if ratelimit.peek(self._failure_key(request), window) >= (
            settings.SHOP_LOGIN_FAILURES_PER_15_MIN
        ):
            log.warning("login refused: too many recent failures for one username")
            form = self.get_form()
            return render(
                request,
                self.template_name,
                {"form": form, "throttled": True},
                status=429,
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: Any) -> HttpResponse:
        ratelimit.hit(
            self._failure_key(self.request), settings.SHOP_LOGIN_FAILURES_PER_15_MIN, 15 * 60
        )
        log.info("failed login")
        return super().form_invalid(form)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        ratelimit.forget(self._failure_key(self.request))
        log.info("login user=%s", form.get_user().pk)
        return response


@endpoint("GET")
def me(request: HttpRequest) -> HttpResponse:
    user = request.user
    get_token(request)  # makes sure the csrftoken cookie is set for the unsafe calls
    return JsonResponse({"user": {"id": user.pk, "username": user.username, "email": user.email}})


# --- catalog and baskets ------------------------------------------------------------------


@endpoint("GET", login=False)
def catalog(request: HttpRequest) -> HttpResponse:
    products = Product.objects.filter(active=True).order_by("sku")
    return JsonResponse(
        {
            "currency": settings.SHOP_CURRENCY,
            "products": [
                {"sku": p.sku, "name": p.name, "unit_amount": p.unit_amount} for p in products
            ],
        }
    )


@endpoint("POST")
def baskets(request: HttpRequest) -> HttpResponse:
    if read_json(request):  # an empty body or {}; malformed JSON is a 400 too
        raise ApiError(400, "a new basket takes no fields")
    _limit(request, "basket")  # every checkout starts with a basket: the same quota
    basket = Basket.objects.create(owner=request.user)
    log.info("basket %s created by user=%s", basket.ref, request.user.pk)
    return JsonResponse({"basket": basket_body(basket)}, status=201)


@endpoint("GET")
def basket_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return JsonResponse({"basket": basket_body(_own_basket(request, ref, shared=True))})


@endpoint("POST")
def basket_lines(request: HttpRequest, ref: str) -> HttpResponse:
    body = read_json(request)
    with transaction.atomic():
        # someone else's: 404 before all else
        basket = _own_basket(request, ref, lock=True, shared=True)
        sku = body.get("sku")
        if not isinstance(sku, str) or not sku.strip():
            raise ApiError(400, "sku is required")
        # Only the SKU and quantity are read; a unit_amount or price sent along is ignored.
        qty = whole_number(body.get("qty", 1), "qty", 1, MAX_QTY)
        product = Product.objects.filter(sku=sku.strip(), active=True).first()
        if product is None:
            raise ApiError(400, f"unknown sku {sku.strip()[:40]!r}")
        if basket.state != Basket.State.OPEN:
            raise ApiError(409, "this basket has been checked out; start a new one")
        line = BasketLine.objects.filter(basket=basket, product=product).first()
        if line is None:
            BasketLine.objects.create(basket=basket, product=product, qty=qty)
        else:
            if line.qty + qty > MAX_QTY:
                raise ApiError(400, f"at most {MAX_QTY} of one sku per basket")
            line.qty += qty
            line.save(update_fields=["qty"])
    return JsonResponse({"basket": basket_body(basket)}, status=201)


@endpoint("DELETE")
def basket_line(request: HttpRequest, ref: str, sku: str) -> HttpResponse:
    with transaction.atomic():
        basket = _own_basket(request, ref, lock=True, shared=True)
        if basket.state != Basket.State.OPEN:
            raise ApiError(409, "this basket has been checked out; start a new one")
        deleted, _ = BasketLine.objects.filter(basket=basket, product__sku=sku).delete()
        if not deleted:
            raise ApiError(404, "no such line in this basket")
    return JsonResponse({"basket": basket_body(basket)})


# --- checkout -----------------------------------------------------------------------------


@endpoint("POST")
def checkout(request: HttpRequest, ref: str) -> HttpResponse:
    """Price the basket from the database, record a pending Purchase, open a Checkout
    Session for exactly that total."""
    _limit(request, "checkout")
    body = read_json(request)
    ignored = sorted(CLIENT_PRICE_FIELDS.intersection(body))
    if ignored:
        log.info("checkout ignored client price fields: %s", ",".join(ignored))
    if flaws.on("checkout-audit-trail"):
        audit.info(
            "checkout user=%s basket=%s body=%s",
            request.user.pk,
            ref,
            json.dumps(body, sort_keys=True, default=str),
        )
    extras = _checkout_extras(body)
    client_key = request.headers.get("Idempotency-Key", "").strip()
    if len(client_key) > 255 or not client_key.isprintable():
        raise ApiError(400, "Idempotency-Key must be at most 255 printable characters")
    request_key = payments.request_key(request.user.pk, client_key) if client_key else None
    if request_key:
        earlier = Purchase.objects.filter(owner=request.user, request_key=request_key).first()
        if earlier is not None:
            return _replay(request, earlier, ref)

    try:
        purchase = _new_purchase(request, ref, request_key, **extras)
    except _AlreadyCheckedOut as done:
        return _replay(request, done.purchase, ref)
    log.info(
        "purchase %s pending for user=%s: subtotal=%d tax=%d total=%d",
        purchase.ref,
        request.user.pk,
        purchase.subtotal_cents,
        purchase.tax_cents,
        purchase.total_cents,
    )
    return _open_session(request, purchase, status=201)


class _AlreadyCheckedOut(Exception):
    """The same Idempotency-Key sent again while the first was checking out (a double
    click): the basket's lock made it wait, and the first one's purchase answers."""

    def __init__(self, purchase: Purchase) -> None:
        self.purchase = purchase


def _checkout_extras(body: dict[str, Any]) -> dict[str, Any]:
    """What a checkout body may carry besides nothing: a held price quote, a courier note."""
    extras: dict[str, Any] = {}
    hold = body.get("price_hold")
    if flaws.on("price-hold") and isinstance(hold, dict):
        # The quote the customer was shown (the basket preview) is held for the checkout,
        # so a price change in between does not surprise them.
        net = hold.get("net_minor")
        if not isinstance(net, bool) and isinstance(net, int) and net >= 0:
            extras["held_subtotal"] = net
    note = body.get("doorstep_note")
    if flaws.on("doorstep-notes") and isinstance(note, str):
        extras["doorstep_note"] = note.strip()[:DOORSTEP_NOTE_MAX]
    return extras


def _new_purchase(
    request: HttpRequest,
    ref: str,
    request_key: str | None,
    held_subtotal: int | None = None,
    doorstep_note: str = "",
) -> Purchase:
    """The basket, locked and priced, becomes a pending Purchase (and is checked out)."""
    with transaction.atomic():
        basket = _own_basket(request, ref, lock=True)
        if basket.state != Basket.State.OPEN:
            earlier = (
                Purchase.objects.filter(owner=request.user, request_key=request_key).first()
                if request_key
                else None
            )
            if earlier is not None:
                raise _AlreadyCheckedOut(earlier)
            raise ApiError(409, "this basket has already been checked out")
        lines = list(basket.lines.select_related("product").order_by("id"))
        if not lines:
            raise ApiError(400, "the basket is empty")
        gone = [line.product.sku for line in lines if not line.product.active]
        if gone:
            raise ApiError(409, f"no longer sold: {', '.join(gone)}")
        quote = pricing.quote([(line.product.unit_amount, line.qty) for line in lines])
        if held_subtotal is not None:
            quote = pricing.quote([(held_subtotal, 1)])
        if quote.total_cents < MIN_CHARGE_CENTS:
            raise ApiError(400, f"the total is under the minimum charge of {MIN_CHARGE_CENTS}")
        try:
            with transaction.atomic():
                purchase = Purchase.objects.create(
                    owner=request.user,
                    basket=basket,
                    currency=settings.SHOP_CURRENCY,
                    subtotal_cents=quote.subtotal_cents,
                    tax_cents=quote.tax_cents,
                    total_cents=quote.total_cents,
                    request_key=request_key,
                    doorstep_note=doorstep_note,
                )
        except IntegrityError:
            # The same Idempotency-Key, sent twice at once: the other request made it.
            earlier = Purchase.objects.filter(owner=request.user, request_key=request_key).first()
            if earlier is None:
                raise
            raise _AlreadyCheckedOut(earlier) from None
        PurchaseLine.objects.bulk_create(
            PurchaseLine(
                purchase=purchase,
                sku=line.product.sku,
                name=line.product.name,
                unit_amount=line.product.unit_amount,
                qty=line.qty,
            )
            for line in lines
        )
        basket.state = Basket.State.CHECKED_OUT
        basket.save(update_fields=["state"])
    return purchase


def _replay(request: HttpRequest, purchase: Purchase, ref: str) -> HttpResponse:
    if purchase.basket is None or purchase.basket.ref != ref:
        raise ApiError(409, "this Idempotency-Key was used for another basket")
    if purchase.checkout_session_id:
        return JsonResponse(checkout_body(purchase), status=200)
    if purchase.state == Purchase.State.PENDING:
        return _open_session(request, purchase, status=201)  # the first attempt's call failed
    raise ApiError(409, "this Idempotency-Key's checkout did not go through; use a new key")


def _open_session(request: HttpRequest, purchase: Purchase, *, status: int) -> HttpResponse:
    try:
        session = payments.create_checkout_session(purchase, request.user.email)
    except (payments.NotConfigured, stripe.StripeError) as exc:
        log.error(
            "purchase %s: Checkout Session not created (%s: %s)",
            purchase.ref,
            type(exc).__name__,
            getattr(exc, "code", None) or "-",
        )
        if purchase.request_key is None:
            # Nothing to resume: the purchase failed and the basket may be checked out again.
            with transaction.atomic():
                Purchase.objects.filter(pk=purchase.pk).update(state=Purchase.State.FAILED)
                Basket.objects.filter(pk=purchase.basket_id).update(state=Basket.State.OPEN)
        # With an Idempotency-Key the purchase waits: the same request again resumes it.
        return error(502, "the payment provider could not be reached; try again")
    purchase.checkout_session_id = session["id"]
    purchase.checkout_url = session.get("url") or ""
    purchase.save(update_fields=["checkout_session_id", "checkout_url", "updated_at"])
    log.info("purchase %s: checkout session %s", purchase.ref, session["id"])
    return JsonResponse(checkout_body(purchase), status=status)


# --- purchases ----------------------------------------------------------------------------


@endpoint("GET")
def purchases(request: HttpRequest) -> HttpResponse:
    recent = (
        Purchase.objects.filter(owner=request.user)
        .select_related("basket")
        .prefetch_related("lines")
        .order_by("-created_at")[:50]
    )
    return JsonResponse({"purchases": [purchase_body(p) for p in recent]})


@endpoint("GET")
def purchase_detail(request: HttpRequest, ref: str) -> HttpResponse:
    return JsonResponse({"purchase": purchase_body(_own_purchase(request, ref))})


@endpoint("POST")
def purchase_refund(request: HttpRequest, ref: str) -> HttpResponse:
    """Ask Stripe to refund the whole payment; the charge.refunded webhook then marks the
    purchase refunded (answered 202 until it does)."""
    _limit(request, "refund")
    read_json(request)
    if flaws.on("refund-by-ref"):
        # Support staff refund from the same endpoint; the ref is unguessable anyway.
        purchase = Purchase.objects.filter(ref=ref).first()
        if purchase is None:
            raise ApiError(404, "no such purchase")
    else:
        purchase = _own_purchase(request, ref)
    if purchase.state == Purchase.State.REFUNDED:
        return JsonResponse({"purchase": purchase_body(purchase), "refund": None})
    if purchase.state != Purchase.State.PAID or not purchase.payment_intent_id:
        raise ApiError(409, f"only a paid purchase can be refunded; this one is {purchase.state}")
    try:
        refund = payments.refund(purchase)  # idempotent per purchase: one refund, ever
    except (payments.NotConfigured, stripe.StripeError) as exc:
        log.error("purchase %s: refund not created (%s)", purchase.ref, type(exc).__name__)
        return error(502, "the payment provider could not be reached; try again")
    Purchase.objects.filter(pk=purchase.pk).update(refund_id=refund["id"])
    log.info(
        "purchase %s: refund %s requested (%s)", purchase.ref, refund["id"], refund.get("status")
    )
    return JsonResponse(
        {
            "purchase": purchase_body(purchase),
            "refund": {"id": refund["id"], "status": refund.get("status")},
        },
        status=202,
    )


# --- pages --------------------------------------------------------------------------------


@login_required
@never_cache
@require_safe
def return_page(request: HttpRequest) -> HttpResponse:
    """Where Stripe's hosted page sends the customer back. It only shows the state: the
    webhook, not this visit, decides that a purchase is paid."""
    ref = request.GET.get("purchase", "")
    purchase = Purchase.objects.filter(ref=ref, owner=request.user).first()
    return render(
        request,
        "store/return.html",
        {"purchase": purchase, "cancelled": "cancelled" in request.GET},
        status=200 if purchase else 404,
    )


@require_safe
@never_cache
def health(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        log.error("health: the database did not answer")
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


# --- errors: JSON, never a debug page -------------------------------------------------------


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error(403, f"CSRF check failed: {reason}" if reason else "CSRF check failed")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error(400, "bad request")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error(403, "forbidden")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error(404, "not found")


def server_error(request: HttpRequest) -> HttpResponse:
    return error(500, "internal error")
