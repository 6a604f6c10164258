"""Stripe's test cards: which numbers and `pm_card_*` tokens succeed, decline, ask for 3-D
Secure, or succeed and are then disputed or get an early fraud warning.

Numbers and behaviours are those of Stripe's testing docs (docs.stripe.com/testing). A
Luhn-valid number that is not a test card is declined with `test_mode_live_card`, as Stripe
declines a real card in test mode.
"""

from __future__ import annotations

from dataclasses import dataclass

from golive import redact


@dataclass(frozen=True, slots=True)
class TestCard:
    number: str
    brand: str = "visa"
    funding: str = "credit"
    country: str = "US"
    needs_authentication: bool = False  # 3-D Secure on every on-session payment
    decline_code: str | None = None  # None: the payment succeeds
    error_code: str = "card_declined"
    bypass_pending: bool = False  # funds go straight to the available balance
    # After the charge succeeds: a dispute opened (reason, status), an early fraud warning
    dispute: tuple[str, str] | None = None
    early_fraud_warning: bool = False

    @property
    def last4(self) -> str:
        return self.number[-4:]


_CARDS = [
    TestCard("4242424242424242"),
    TestCard("4000056655665556", funding="debit"),
    TestCard("5555555555554444", brand="mastercard"),
    TestCard("5200828282828210", brand="mastercard", funding="debit"),
    TestCard("378282246310005", brand="amex"),
    TestCard("6011111111111117", brand="discover"),
    TestCard("4000000000000077", bypass_pending=True),
    TestCard("4000000000000002", decline_code="generic_decline"),
    TestCard("4000000000009995", decline_code="insufficient_funds"),
    TestCard("4000000000009987", decline_code="lost_card"),
    TestCard("4000000000009979", decline_code="stolen_card"),
    TestCard("4000000000000069", decline_code="expired_card", error_code="expired_card"),
    TestCard("4000000000000127", decline_code="incorrect_cvc", error_code="incorrect_cvc"),
    TestCard("4000000000000119", decline_code="processing_error", error_code="processing_error"),
    TestCard("4000000000000259", dispute=("fraudulent", "needs_response")),
    TestCard("4000000000002685", dispute=("product_not_received", "needs_response")),
    TestCard("4000000000001976", dispute=("general", "warning_needs_response")),
    TestCard("4000000000005423", early_fraud_warning=True),
    TestCard("4000002500003155", needs_authentication=True),
    TestCard("4000002760003184", needs_authentication=True),
    TestCard("4000000000003220", needs_authentication=True),
]
BY_NUMBER: dict[str, TestCard] = {card.number: card for card in _CARDS}

TOKENS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_amex": "378282246310005",
    "pm_card_discover": "6011111111111117",
    "pm_card_bypassPending": "4000000000000077",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
    "pm_card_createIssuerFraudRecord": "4000000000005423",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_threeDSecure2Required": "4000000000003220",
}

DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
    "authentication_required": "Your card was declined. This transaction requires authentication.",
    "test_mode_live_card": "Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
}
SELLER_MESSAGES = {
    "generic_decline": "The bank did not return any further details with this decline.",
    "processing_error": "The bank returned the decline code `processing_error`.",
}


def luhn_valid(number: str) -> bool:
    """A 12-19 digit card number whose check digit is right (the Luhn sum is golive's)."""
    return number.isdigit() and 12 <= len(number) <= 19 and redact.luhn_valid(number)


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in ("34", "37"):
        return "amex"
    if number[:2] in ("51", "52", "53", "54", "55") or number[:1] == "2":
        return "mastercard"
    if number.startswith("6"):
        return "discover"
    return "unknown"


def card_for_number(number: str) -> TestCard:
    """The test card, or a stand-in for a real card number (declined in test mode)."""
    card = BY_NUMBER.get(number)
    if card is not None:
        return card
    return TestCard(number, brand=brand_of(number), decline_code="test_mode_live_card")
