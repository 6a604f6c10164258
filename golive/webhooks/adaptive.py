"""Webhook forgery that adapts: the bypass battery packed into few requests, bisected when
one is accepted, and extended with the hints the app's own rejections give.

Every request is a forged delivery (signed with a wrong secret unless a candidate sets
`Stripe-Signature` itself) that carries many candidate bypasses at once: up to
MAX_HEADERS headers (servers refuse more than about 100) and a query string. A correct
receiver rejects them all, so the whole battery costs a few dozen requests. A request
that is accepted is split in halves until the single candidate that did it is named
(or the smallest set that only works together). Every 4xx answer is mined for further
candidates (golive/webhooks/hints.py), replayed in up to MINING_ROUNDS more rounds.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from golive.webhooks import battery, forge, hints
from golive.webhooks.battery import Candidate
from golive.webhooks.sender import Delivery

MAX_HEADERS = 80  # with Stripe's own headers, under the common limit of 100 per request
MAX_HEADER_BYTES = 6000  # well under Node's 16 KiB and nginx's 8 KiB buffers
MAX_QUERY_CHARS = 2000  # URLs longer than ~8 KiB are refused by many servers
MAX_QUERY_FIELDS = 50  # frameworks cap parameters (Django's setting is often set to 100)
MAX_REQUESTS = 160  # the whole probe, bisection included: a bound, not a target
MAX_MINED = 48  # mined candidates replayed, over every round
MINING_ROUNDS = 2
TOO_LARGE = frozenset({413, 414, 431, 494})  # "too many headers / URL too long"

# payload, headers, query string -> the app's answer
Send = Callable[[bytes, Mapping[str, str], str], Delivery]


@dataclass(frozen=True)
class Attempt:
    """One request of the probe: its candidates and the app's answer."""

    label: str
    candidates: tuple[Candidate, ...]
    delivery: Delivery


@dataclass(frozen=True)
class Finding:
    """Candidates that made a forged delivery accepted: one, or a few only together."""

    candidates: tuple[Candidate, ...]
    delivery: Delivery

    def describe(self) -> str:
        together = " + ".join(c.describe() for c in self.candidates)
        origins = sorted({c.origin for c in self.candidates})
        suffix = " (only together)" if len(self.candidates) > 1 else ""
        return f"{together}{suffix} ({'; '.join(origins)})"


@dataclass
class Report:
    attempts: list[Attempt] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    mined: list[Candidate] = field(default_factory=list)
    exhausted: bool = False  # MAX_REQUESTS was reached before every candidate was sent

    @property
    def candidates_sent(self) -> int:
        return len({c for a in self.attempts for c in a.candidates})


def query_string(candidates: Iterable[Candidate]) -> str:
    """The query candidates, URL-encoded ("" when there are none)."""
    return urlencode([(c.name, c.value) for c in candidates if c.kind == "query"])


def with_query(url: str, query: str) -> str:
    """`url` with `query` appended to any query it already has."""
    return url + ("&" if "?" in url else "?") + query if query else url


def pack(candidates: Sequence[Candidate]) -> list[list[Candidate]]:
    """First-fit packing: each request carries a header or query name at most once, at most
    MAX_HEADERS headers and bounded header and query sizes."""
    batches: list[tuple[list[Candidate], set[tuple[str, str]], list[int]]] = []
    # Names with many values need as many requests: placing them first fills every request.
    repeats = Counter(c.key for c in candidates)
    for candidate in sorted(candidates, key=lambda c: -repeats[c.key]):
        size = len(candidate.name) + len(candidate.value) + 4
        # used: [headers, header bytes, query chars, query fields]
        home = next(
            (b for b in batches if candidate.key not in b[1] and _fits(candidate, b[2], size)),
            None,
        )
        if home is None:
            home = ([], set(), [0, 0, 0, 0])
            batches.append(home)
        items, keys, used = home
        items.append(candidate)
        keys.add(candidate.key)
        if candidate.kind == "header":
            used[0] += 1
            used[1] += size
        else:
            used[2] += size
            used[3] += 1
    return [items for items, _, _ in batches]


def _fits(candidate: Candidate, used: list[int], size: int) -> bool:
    if candidate.kind == "header":
        return used[0] < MAX_HEADERS and used[1] + size <= MAX_HEADER_BYTES
    return used[2] + size <= MAX_QUERY_CHARS and used[3] < MAX_QUERY_FIELDS


class Probe:
    """One run of the battery against one receiver."""

    def __init__(
        self,
        send: Send,
        payload: Callable[[], bytes],
        secret: str,
        *,
        now: int | None = None,
        max_requests: int = MAX_REQUESTS,
    ) -> None:
        self._send = send
        self._payload = payload
        self._secret = secret
        self._now = int(time.time()) if now is None else now
        self._budget = max_requests
        self.report = Report()
        self._known: set[tuple[str, str, str]] = set()

    def run(self, answers: Iterable[Delivery] = ()) -> Report:
        """The battery, then what the answers (`answers` first: the basic forgeries') hint at."""
        mined = self._mine(answers)
        self._round("battery", [*mined, *self._fresh(battery.all_candidates(self._now))])
        for round_no in range(1, MINING_ROUNDS + 1):
            mined = self._mine(a.delivery for a in self.report.attempts)
            if not mined or self.report.exhausted:
                break
            self._round(f"mined-{round_no}", mined)
        return self.report

    # -- candidates ----------------------------------------------------------------------

    def _fresh(self, candidates: Iterable[Candidate]) -> list[Candidate]:
        out = []
        for candidate in candidates:
            key = (*candidate.key, candidate.value)
            if key not in self._known:
                self._known.add(key)
                out.append(candidate)
        return out

    def _mine(self, answers: Iterable[Delivery]) -> list[Candidate]:
        room = MAX_MINED - len(self.report.mined)
        found: list[Candidate] = []
        for delivery in answers:
            if room <= len(found) or delivery.status is None or not 400 <= delivery.status < 500:
                continue
            found += self._fresh(
                hints.mine(delivery.status, delivery.body_text, delivery.response_headers)
            )
        found = found[: max(room, 0)]
        self.report.mined += found
        return found

    # -- sending -------------------------------------------------------------------------

    def _round(self, label: str, candidates: list[Candidate]) -> None:
        queue = pack(candidates)
        index = 0
        while queue:
            batch = queue.pop(0)
            index += 1
            delivery = self._attempt(f"{label} #{index}", batch)
            if delivery is None:
                return
            # Too large, or a crash: golive's packing may be what the app could not take
            # (too many fields, say), so the halves are sent apart; only a single
            # candidate's 5xx is the app's answer to that candidate.
            crashed = delivery.status is not None and delivery.status >= 500
            if (delivery.status in TOO_LARGE or crashed) and len(batch) > 1:
                half = len(batch) // 2
                queue[:0] = [batch[:half], batch[half:]]
            elif delivery.ok:
                self._isolate(f"{label} #{index}", batch, delivery)

    def _attempt(self, label: str, batch: Sequence[Candidate]) -> Delivery | None:
        if self._budget <= 0:
            self.report.exhausted = True
            return None
        self._budget -= 1
        payload = self._payload()
        headers = dict(forge.build("wrong-secret", payload, self._secret, now=self._now).headers)
        for candidate in batch:
            if candidate.kind == "header":
                headers.pop(_stored_name(headers, candidate.name), None)
                headers[_title(candidate.name)] = candidate.value
        delivery = self._send(payload, headers, query_string(batch))
        self.report.attempts.append(Attempt(label, tuple(batch), delivery))
        return delivery

    def _isolate(self, label: str, batch: Sequence[Candidate], delivery: Delivery) -> None:
        """Split an accepted batch until the candidate(s) that did it are named."""
        if len(batch) == 1:
            self.report.findings.append(Finding(tuple(batch), delivery))
            return
        half = len(batch) // 2
        found_before = len(self.report.findings)
        for part in (batch[:half], batch[half:]):
            answer = self._attempt(f"{label} bisect", part)
            if answer is None:  # out of budget: name the batch as it stands
                break
            if answer.ok:
                self._isolate(label, part, answer)
        if len(self.report.findings) == found_before:
            self.report.findings.append(Finding(tuple(batch), delivery))


def _stored_name(headers: Mapping[str, str], name: str) -> str:
    return next((key for key in headers if key.lower() == name.lower()), name)


def _title(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


__all__ = ["Attempt", "Finding", "Probe", "Report", "pack", "query_string", "with_query"]
