"""The mix: `success=85,decline=8,…` read from the command line, and N payments shared
between the kinds by weight.

    apportion(40, {"success": 85, "decline": 8, "refund": 4, "dispute": 2, "drop-webhook": 1})
    -> {"success": 33, "decline": 3, "refund": 2, "dispute": 1, "drop-webhook": 1}

Largest remainders (Hamilton), then every kind with a weight above zero gets at least one
payment, taken from the largest share, while there are payments enough: a 1 % kind would
otherwise vanish from a 40-payment run.
"""

from __future__ import annotations

import random

from golive.errors import InputError
from golive.traffic.profile import KINDS


def parse(text: str) -> dict[str, int]:
    """`success=85,decline=8` -> {"success": 85, "decline": 8}; InputError naming the part."""
    mix: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in KINDS:
            raise InputError(
                f"--mix: {part!r} is not KIND=WEIGHT",
                hint=f"kinds: {', '.join(KINDS)}; e.g. success=85,decline=8,refund=4",
            )
        try:
            weight = int(value)
        except ValueError:
            raise InputError(
                f"--mix: the weight of {name} is not a whole number: {value!r}"
            ) from None
        if weight < 0:
            raise InputError(f"--mix: the weight of {name} is below zero")
        mix[name] = weight
    if not any(mix.values()):
        raise InputError("--mix: give at least one kind a weight above zero")
    return mix


def apportion(payments: int, mix: dict[str, int]) -> dict[str, int]:
    """How many payments of each kind (in KINDS order), summing to `payments`."""
    weighted = [(kind, mix.get(kind, 0)) for kind in KINDS if mix.get(kind, 0) > 0]
    total = sum(weight for _, weight in weighted)
    exact = {kind: payments * weight / total for kind, weight in weighted}
    shares = {kind: int(value) for kind, value in exact.items()}
    left = payments - sum(shares.values())
    for kind in sorted(exact, key=lambda k: exact[k] - shares[k], reverse=True)[:left]:
        shares[kind] += 1
    for kind in (k for k, _ in weighted):
        if shares[kind] == 0:
            largest = max(shares, key=lambda k: shares[k])
            if shares[largest] > 1:
                shares[largest] -= 1
                shares[kind] = 1
    return {kind: shares[kind] for kind, _ in weighted}


def sequence(shares: dict[str, int], seed: int) -> list[str]:
    """The kinds in the order they are played: shuffled with `seed`, so a run repeats."""
    kinds = [kind for kind, count in shares.items() for _ in range(count)]
    random.Random(seed).shuffle(kinds)
    return kinds
