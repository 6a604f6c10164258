"""Stripe's form encoding, decoded: brackets, arrays in both styles, nesting."""

from __future__ import annotations

from golive.sandbox.forms import decode


def test_bracket_notation():
    assert decode(
        b"amount=2000&metadata[order]=42&metadata[note]=&payment_method_types[]=card"
        b"&payment_method_types[]=link&expand[0]=latest_charge&expand[1]=payment_method"
        b"&payment_method_data[card][number]=4242424242424242&payment_method_data[type]=card"
    ) == {
        "amount": "2000",
        "metadata": {"order": "42", "note": ""},
        "payment_method_types": ["card", "link"],
        "expand": ["latest_charge", "payment_method"],
        "payment_method_data": {"card": {"number": "4242424242424242"}, "type": "card"},
    }


def test_lists_of_hashes_and_ordering_by_index():
    assert decode("items[1][price]=b&items[0][price]=a&items[10][price]=c") == {
        "items": [{"price": "a"}, {"price": "b"}, {"price": "c"}]
    }


def test_percent_encoded_brackets_and_spaces():
    assert decode("metadata%5Bgift%20note%5D=Happy+birthday%21") == {
        "metadata": {"gift note": "Happy birthday!"}
    }


def test_metadata_keys_that_look_like_indexes_stay_a_hash():
    assert decode("metadata[0]=zero&metadata[1]=one") == {"metadata": {"0": "zero", "1": "one"}}


def test_malformed_keys_are_kept_verbatim_for_the_unknown_parameter_error():
    assert decode("amount[=1&=2") == {"amount[": "1"}


def test_empty_body():
    assert decode(b"") == {}
