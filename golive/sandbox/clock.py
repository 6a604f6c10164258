"""The sandbox's clock: the `created` of every object and event it makes.

Real time unless told otherwise through the admin API:

    POST /_golive/clock {"now": 1767225600}   simulated time: this instant, then advancing
                                              with real time
    POST /_golive/clock {"offset_s": -86400}  the same, as an offset from real time
    POST /_golive/clock {"reset": true}       back to real time (so does POST /_golive/reset)
    GET  /_golive/clock                       {"now", "real_now", "offset_s", "simulated",
                                              "max_ahead_s"}

Like Stripe's test clocks, only objects see simulated time: webhook signatures (`t=` in
`Stripe-Signature`) keep real wall time, so an app's signature tolerance check sees a fresh
signature, as it would in production. Idempotency keys and delivery retries also run on
real time.

A clock in the past is what history needs (a payment made last week, a dispute today). A
clock ahead of real time by more than MAX_AHEAD_S is refused: nothing on Stripe is ever
created in the future, and checks that compare `created` with their own (real) clock would
see objects from the future. The margin allows for the skew between two machines' clocks,
as Stripe's 5-minute signature tolerance does.
"""

from __future__ import annotations

import math
import time
from typing import Any

from golive.sandbox.errors import invalid_request

MAX_AHEAD_S = 300


class Clock:
    def __init__(self) -> None:
        self.offset_s = 0.0

    def now(self) -> float:
        return time.time() + self.offset_s

    def seconds(self) -> int:
        """Now in whole unix seconds, as `created` fields show it."""
        return int(self.now())

    @property
    def simulated(self) -> bool:
        return self.offset_s != 0.0

    def set(self, body: dict[str, Any]) -> None:
        """Apply an admin request: exactly one of `now`, `offset_s`, `reset: true`."""
        given = [key for key in ("now", "offset_s", "reset") if key in body]
        unknown = sorted(set(body) - {"now", "offset_s", "reset"})
        if unknown:
            raise invalid_request(f"Received unknown parameter: {unknown[0]}", param=unknown[0])
        if len(given) != 1:
            raise invalid_request(
                "Give exactly one of now (unix seconds), offset_s (seconds from real time) "
                "or reset (true).",
                param="now",
            )
        key = given[0]
        if key == "reset":
            if body["reset"] not in (True, "true"):
                raise invalid_request("reset must be true.", param="reset")
            self.offset_s = 0.0
            return
        value = _number(body[key], key)
        offset = value - time.time() if key == "now" else value
        if offset > MAX_AHEAD_S:
            raise invalid_request(
                f"The clock may not run more than {MAX_AHEAD_S} seconds ahead of real time "
                f"(asked: {offset:.0f} s ahead): nothing on Stripe is created in the future.",
                param=key,
            )
        self.offset_s = offset

    def reset(self) -> None:
        self.offset_s = 0.0

    def as_dict(self) -> dict[str, Any]:
        real = time.time()
        return {
            "object": "golive.clock",
            "now": int(real + self.offset_s),
            "real_now": int(real),
            "offset_s": self.offset_s,
            "simulated": self.simulated,
            "max_ahead_s": MAX_AHEAD_S,
        }


def _number(value: Any, param: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise invalid_request(f"{param} must be a number of seconds.", param=param) from None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid_request(f"{param} must be a number of seconds.", param=param)
    return float(value)
