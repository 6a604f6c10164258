"""golive.redact: keys, card numbers, JWTs and env secrets in every encoding a target
answers with, masked where they stand and nowhere else; excerpts cut after redaction."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from urllib.parse import quote

import pytest

from golive.console import GateConsole
from golive.redact import DEFAULT, Redactor, excerpt
from golive.results import ItemResult, Outcome

LIVE = "_" + "live_"  # never a literal live prefix in this file
SK = "sk" + LIVE + "CANARY0a1b2c3d4e5f6a7b8c9d"
RK = "rk" + LIVE + "CANARY9f8e7d6c5b4a39281706"
WHSEC = "whsec_CANARYfedcba98765432100123"
SK_MASK, RK_MASK, WHSEC_MASK = "sk_live_…8c9d", "rk_live_…1706", "whsec_…0123"
VISA, MASTERCARD = "4242424242424242", "5555555555554444"
VISA_MASK, MASTERCARD_MASK = "424242******4242", "555555******4444"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJ1c2VyXzEyMyIsInNjb3BlIjoiYWRtaW4ifQ."
    "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1oZXJl"
)
ENV_SECRET = "tkn-Zq8/secret+value:with@odd%chars"


def spaced(card: str, sep: str) -> str:
    return sep.join(card[i : i + 4] for i in range(0, 16, 4))


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([ENV_SECRET])


# --- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"key {SK} end", f"key {SK_MASK} end"),
        # JSON text as served: the escape leaves a letter right before the prefix.
        (
            f'{{"log":"boot\\n{SK}\\n{RK}\\t{WHSEC}"}}',
            f'{{"log":"boot\\n{SK_MASK}\\n{RK_MASK}\\t{WHSEC_MASK}"}}',
        ),
        (f"next=%22{SK}%22&q=key%3D{RK}", f"next=%22{SK_MASK}%22&q=key%3D{RK_MASK}"),
        (f"abc{SK}", f"abc{SK_MASK}"),  # glued to letters
        (f"X_{WHSEC}_backup", f"X_{WHSEC_MASK}_backup"),
        (f"repr: '\\\\n{SK}'", f"repr: '\\\\n{SK_MASK}'"),  # escaped twice
        (f"%5Cn{SK}", f"%5Cn{SK_MASK}"),
        (f"\\u0022{SK}\\u0022", f"\\u0022{SK_MASK}\\u0022"),
    ],
)
def test_keys_in_every_encoding(text: str, expected: str) -> None:
    assert DEFAULT.text(text) == expected


def test_an_encoded_prefix_is_masked_with_its_escapes() -> None:
    encoded = quote(f'"{SK}"', safe="")  # `_` kept, quotes encoded
    assert DEFAULT.text(encoded) == f"%22{SK_MASK}%22"
    underscores = SK.replace("_", "%5F")
    assert DEFAULT.text(f"k={underscores}") == f"k={SK_MASK}"


def test_words_that_only_end_like_a_prefix_are_left_alone() -> None:
    text = "task_live_feedback disk_test_run mark_test_case"
    assert DEFAULT.text(text) == text


# --- card numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VISA, VISA_MASK),
        (spaced(VISA, " "), VISA_MASK),
        (spaced(MASTERCARD, "-"), MASTERCARD_MASK),
        (spaced(MASTERCARD, "."), MASTERCARD_MASK),
        (f'"card":"\\n{VISA}\\n"', f'"card":"\\n{VISA_MASK}\\n"'),
        (f"c=%22{MASTERCARD}%22", f"c=%22{MASTERCARD_MASK}%22"),
        (spaced(VISA, "%20"), VISA_MASK),
        (spaced(VISA, "+"), VISA_MASK),
        (f"ref{VISA}x", f"ref{VISA_MASK}x"),
        (f"order 12 {spaced(VISA, ' ')} paid", f"order 12 {VISA_MASK} paid"),
    ],
)
def test_card_numbers_however_delimited(text: str, expected: str) -> None:
    assert DEFAULT.text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424241",  # not Luhn-valid
        "took 0.4242424242424242 s",  # a fraction, not a card
        "order 1234567890 at 2026-12-03T12:00:00Z",
        "2026 4242",
    ],
)
def test_numbers_that_are_not_cards_are_left_alone(text: str) -> None:
    assert DEFAULT.text(text) == text


# --- JWTs, env secrets, base64 ----------------------------------------------------------------


def test_jwts_are_masked() -> None:
    assert DEFAULT.text(f"Authorization: Bearer {JWT}") == "Authorization: Bearer eyJ…ZXJl"
    assert DEFAULT.text(json.dumps({"t": f"\n{JWT}"})) == '{"t": "\\neyJ…ZXJl"}'


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s,
        lambda s: json.dumps(s),  # `\/`-free, but quotes and `%` stay
        lambda s: json.dumps({"k": s}).replace("/", "\\/"),
        lambda s: quote(s, safe=""),
        lambda s: quote(quote(s, safe=""), safe=""),
        lambda s: "".join(f"\\u{ord(c):04x}" for c in s),
    ],
)
def test_env_secrets_in_every_encoding(redactor: Redactor, encode) -> None:
    text = f"before {encode(ENV_SECRET)} after"
    clean = redactor.text(text)
    assert clean.startswith("before ") and clean.endswith(" after")
    assert "secret+value" not in clean and "tkn-Zq8" not in clean
    assert "…" in clean


def test_base64_that_holds_a_secret_is_masked_whole(redactor: Redactor) -> None:
    body = json.dumps({"secret": SK, "card": MASTERCARD}).encode()
    for encoded in (
        base64.b64encode(body).decode(),
        base64.urlsafe_b64encode(body).decode().rstrip("="),
        base64.b64encode(ENV_SECRET.encode()).decode(),
        base64.b64encode(base64.b64encode(body)).decode(),  # twice
    ):
        assert redactor.text(f'{{"blob":"{encoded}"}}') == (
            f'{{"blob":"«base64, {len(encoded)} chars, redacted»"}}'
        )
    # Glued to letters before it, the run does not start on a boundary of the encoding.
    glued = "abc" + base64.b64encode(body).decode()
    assert redactor.text(glued) == f"«base64, {len(glued)} chars, redacted»"


def test_base64_without_a_secret_is_left_alone() -> None:
    text = base64.b64encode(json.dumps({"ok": True, "id": "pi_123"}).encode()).decode()
    assert DEFAULT.text(text) == text


def test_text_without_secrets_is_unchanged_byte_for_byte() -> None:
    text = 'GET /api/v1/menu?q=caf%C3%A9%20au%20lait 200 {"path": "C:\\\\tmp\\n", "n": 12}'
    assert DEFAULT.text(text) == text


def test_redaction_is_idempotent(redactor: Redactor) -> None:
    text = f"{SK} {spaced(VISA, ' ')} {JWT} %22{ENV_SECRET}%22"
    once = redactor.text(text)
    assert redactor.text(once) == once


def test_value_redacts_keys_and_nested_strings(redactor: Redactor) -> None:
    data = {SK: [f"\\n{VISA}", {"t": ENV_SECRET}], "n": 3}
    assert redactor.value(data) == {SK_MASK: [f"\\n{VISA_MASK}", {"t": "…hars"}], "n": 3}


# --- excerpts ---------------------------------------------------------------------------------


def test_an_excerpt_masks_a_secret_across_the_cut(redactor: Redactor) -> None:
    body = "x" * 190 + ENV_SECRET + " and more"
    cut = excerpt(redactor, body, 200)
    assert cut == "x" * 190 + "…hars and "
    assert ENV_SECRET[:8] not in cut
    # Cutting first, as before, leaves a prefix nothing recognises.
    assert redactor.text(body[:200]) == body[:200]


def test_an_excerpt_masks_a_jwt_and_a_card_across_the_cut() -> None:
    body = "y" * 180 + f"{JWT} {spaced(VISA, ' ')}"
    cut = excerpt(DEFAULT, body, 200)
    assert cut == "y" * 180 + f"eyJ…ZXJl {VISA_MASK}"[:20]


def test_an_excerpt_of_short_text_is_the_text_redacted() -> None:
    assert excerpt(DEFAULT, f"k={SK}", 200) == f"k={SK_MASK}"


# --- the terminal -----------------------------------------------------------------------------


def test_the_console_masks_with_the_runs_redactor(redactor: Redactor) -> None:
    stream = io.StringIO()
    console = GateConsole(stream, redactor=redactor)
    console.start("hostile", 1, ["staging"], {"api-security": 1})
    item = ItemResult(
        id="api-security.authorization",
        title="Authorization",
        section="api-security",
        section_title="API Security",
        group="Security",
        severity="blocker",
        phase="staging",
        kind="automated",
        outcome=Outcome.ERROR,
        reason=f"answered [{ENV_SECRET}] and '\\n{SK}' with {spaced(VISA, '-')}",
    )
    console.item_done(item)
    shown = stream.getvalue()
    assert "api-security.authorization" in shown
    assert ENV_SECRET[:8] not in shown and SK not in shown and spaced(VISA, "-") not in shown
    assert SK_MASK in shown and VISA_MASK in shown and "[…hars]" in shown


def test_hex_digests_are_never_taken_for_card_numbers() -> None:
    # About 1 sha256 in 200 holds a Luhn-valid run of 13-19 digits between its letters:
    # masked, the hashes results.json and the manifests record would no longer verify.
    digests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(5000)]
    assert [d for d in digests if DEFAULT.text(d) != d] == []
    assert DEFAULT.text(f"sha256 {digests[0]}, card 4242424242424242") == (
        f"sha256 {digests[0]}, card 424242******4242"
    )
    # A token too short to be a digest is no cover for a card number.
    assert DEFAULT.text("ref 4242424242424242abcdef") == "ref 424242******4242abcdef"
