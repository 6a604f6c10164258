"""Price tampering by difference: the fields a hostile client adds to a checkout, and the
search that finds which of them moved the amount in a bounded number of orders.

The price checks (checks/test_price_integrity.py) buy one cart twice, clean and tampered,
and compare the two payments. Which fields to tamper comes from four places, none of
them the app's own names written into golive: the profile's checkout flow (its numeric
body fields and cart-line fields), the money-like keys the app's own answers carry, the
money-like request fields the target's source reads (golive/fieldmine.py, when the profile
names a repository: a field no answer shows), and a dictionary of money words in the
spellings apps use (`amount`, `amount_cents`, `amountCents`, …). A name mined from the
source is sent as a low number, and also as an object holding every mined money-like name
with that number, so a nested `{"quote": {"amount_minor": N}}` is covered. Sending them one order each would cost dozens of orders and hit any
rate limit, so they go in batches: a batch whose order costs what the clean one does
clears all its fields at once; one that costs something else is bisected to name the
field that moved it; one the app refuses (4xx) is narrowed by the names its answer
mentions (a strict app names the unknown field), else split in two. Every path is bounded
by a budget of orders; what the budget did not reach is reported as not tried.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from golive.profile.flows import PLACEHOLDER, Flow

if TYPE_CHECKING:
    from golive.fieldmine import Field

Place = Literal["top", "line"]
Shape = Literal["number", "object"]
# A trial's verdict: the order cost what the clean one did, cost something else, was
# refused (4xx), broke the app (5xx), or golive could not go on (no answer, rate limited,
# no payment to read back).
Kind = Literal["equal", "differs", "refused", "broke", "stop"]

WORDS = (
    "amount",
    "total",
    "subtotal",
    "price",
    "unit_price",
    "fee",
    "tip",
    "discount",
    "coupon",
    "shipping",
    "tax",
)
# The parts of a key that make it money-like (`lineCostMinor`, `vendor_amount`, `taxCents`).
# `minor` (minor units: `amount_minor`), `net` (`net_total`) and `quote` (a priced offer:
# `shipping_quote`, `priceQuote`) count; `hold` does not (`on_hold`, `hold_until` are about
# state and time, and an amount held is named with a money word too).
MONEY_PARTS = frozenset(
    {
        "amount",
        "amt",
        "total",
        "subtotal",
        "price",
        "cost",
        "fee",
        "fees",
        "tip",
        "discount",
        "coupon",
        "shipping",
        "tax",
        "charge",
        "cents",
        "minor",
        "net",
        "quote",
        "sum",
    }
)
_KEY_IN_TEXT = re.compile(r'"([A-Za-z_][A-Za-z0-9_\-]{0,63})"\s*:')
_PARTS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


@dataclass(frozen=True)
class Tamper:
    """One field golive adds: at the top of the submit body, or in every cart line."""

    place: Place
    name: str
    origin: str  # flow | answer | source | dictionary
    shape: Shape = "number"
    inner: tuple[str, ...] = ()  # an object's keys, each given the number
    where: str = ""  # source: the file:line that reads it

    @property
    def label(self) -> str:
        name = self.name if self.shape == "number" else f"{self.name}{{{','.join(self.inner)}}}"
        return name if self.place == "top" else f"<each line>.{name}"

    def value(self, low: int) -> Any:
        """What golive sends in this field: the low number, or an object of it."""
        return low if self.shape == "number" else dict.fromkeys(self.inner, low)


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.capitalize() for part in rest)


def parts(key: str) -> list[str]:
    """The words of a key in any spelling: `lineCostMinor`, `unit_price`, `tax-rate`."""
    return _PARTS.findall(key)


def money_like(key: str) -> bool:
    """`lineCostMinor`, `unit_price`, `amountCents`: a key with a money word as a part."""
    return any(part.lower() in MONEY_PARTS for part in parts(key))


def keys_in(answer: Any) -> list[str]:
    """Every key of a JSON answer (nested), or of JSON text cut short (an excerpt)."""
    found: list[str] = []
    if isinstance(answer, str):
        return _KEY_IN_TEXT.findall(answer)
    if isinstance(answer, dict):
        for key, value in answer.items():
            found.append(str(key))
            found += keys_in(value) if not isinstance(value, str) else []
    elif isinstance(answer, list):
        for value in answer:
            found += keys_in(value) if not isinstance(value, str) else []
    return found


def mined(answers: Iterable[Any]) -> list[str]:
    """The money-like keys the app's answers carry, in order of first appearance."""
    return list(dict.fromkeys(k for a in answers for k in keys_in(a) if money_like(k)))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass
class FlowFields:
    """What the checkout flow itself sends: numeric fields to tamper, and the names that
    carry the order's identity (the item's id, its quantity, the lines) and must be kept."""

    top: list[str] = field(default_factory=list)
    line: list[str] = field(default_factory=list)
    keep_top: set[str] = field(default_factory=set)
    keep_line: set[str] = field(default_factory=set)


def flow_fields(flow: Flow, submitted: Any) -> FlowFields:
    """The flow's own fields: the clean order's submitted body's numeric top-level fields,
    and the cart-line template's fields that are numbers (a literal, or a flow variable)
    rather than the item's id or quantity golive fills in."""
    out = FlowFields()
    if isinstance(submitted, dict):
        for key, value in submitted.items():
            if _number(value):
                out.top.append(str(key))
            else:
                out.keep_top.add(str(key))
    for key, template in (flow.item or {}).items():
        value = template
        whole = PLACEHOLDER.fullmatch(template) if isinstance(template, str) else None
        if whole:
            path = whole.group(1)
            value = flow.vars.get(path) if not path.startswith("item") else None
        if _number(value):
            out.line.append(str(key))
        else:
            out.keep_line.add(str(key))
    if flow.item is None:
        out.keep_line |= {"id", "quantity"}
    return out


def battery(
    place: Place, own: FlowFields, answer_keys: list[str], source: Sequence[Field] = ()
) -> list[list[Tamper]]:
    """The batches tampering sends at `place`, the likeliest first: the flow's own fields,
    what the app's answers named and the money-like names its source reads (as numbers);
    then the source's names as objects of every money-like name it reads; then the
    dictionary's plain, camelCase, `_cents` and camelCase-cents spellings. A strict app
    refuses a batch for any field it does not know, so small batches of likely names reach
    an accepted order before the budget runs out. Never a field that carries the order's
    identity, nor `currency` (swapped on its own)."""
    keep = (own.keep_top if place == "top" else own.keep_line) | {"currency"}
    words = list(WORDS)
    inner = tuple(
        dict.fromkeys(f.name for f in source if money_like(f.name) and f.name not in keep)
    )
    first: list[Tamper] = [
        *(Tamper(place, n, "flow") for n in (own.top if place == "top" else own.line)),
        *(Tamper(place, n, "answer") for n in answer_keys),
        *(Tamper(place, f.name, "source", where=f.where) for f in source if not f.container),
    ]
    objects = [Tamper(place, f.name, "source", "object", inner, f.where) for f in source]
    groups: list[list[Tamper]] = [first, objects if inner else []]
    for names in (
        words,
        [camel(w) for w in words],
        [f"{w}_cents" for w in words],
        [camel(f"{w}_cents") for w in words],
    ):
        groups.append([Tamper(place, n, "dictionary") for n in names])
    seen: set[tuple[str, str]] = set()
    batches: list[list[Tamper]] = []
    for group in groups:
        batch = []
        for t in group:
            if (t.name, t.shape) not in seen and t.name not in keep:
                seen.add((t.name, t.shape))
                batch.append(t)
        batches.append(batch)
    return [batch for batch in batches if batch]


# --- the search ---------------------------------------------------------------------------


@dataclass
class Trial:
    """One tampered order and what came of it."""

    kind: Kind
    status: int | None = None
    amount: int | None = None
    currency: str | None = None
    reference: str | None = None  # the PaymentIntent (or Checkout Session) read back
    text: str = ""  # the refusal's answer, or why golive could not go on
    evidence: dict[str, Any] = field(default_factory=dict)
    retry_after_s: float | None = None  # a 429's Retry-After


Attempt = Callable[[list[Tamper]], Trial]


@dataclass
class Search:
    """What the battery found: fields that moved the amount (one, or a group the budget
    could not split), fields whose order broke the app, what was cleared or refused."""

    moved: list[tuple[list[Tamper], Trial]] = field(default_factory=list)
    broke: list[tuple[list[Tamper], Trial]] = field(default_factory=list)
    cleared: list[Tamper] = field(default_factory=list)
    refused: list[Tamper] = field(default_factory=list)
    untried: list[Tamper] = field(default_factory=list)
    stopped: Trial | None = None
    orders: int = 0
    trials: list[dict[str, Any]] = field(default_factory=list)


def mentioned(text: str, batch: list[Tamper]) -> list[Tamper]:
    """The fields a refusal names (`unknown field: items[0].tip`), as whole names."""
    return [
        t
        for t in batch
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(t.name)}(?![A-Za-z0-9_])", text)
    ]


def _halves(batch: list[Tamper]) -> tuple[list[Tamper], list[Tamper]]:
    middle = len(batch) // 2
    return batch[:middle], batch[middle:]


class _Searcher:
    def __init__(self, attempt: Attempt, budget: int) -> None:
        self.attempt, self.budget, self.out = attempt, budget, Search()

    def spent(self) -> bool:
        return self.out.stopped is not None or self.out.orders >= self.budget

    def trial(self, batch: list[Tamper]) -> Trial:
        self.out.orders += 1
        result = self.attempt(batch)
        self.out.trials.append(
            {"fields": [t.label for t in batch], "result": result.kind, **result.evidence}
        )
        if result.kind == "stop":
            self.out.stopped = result
        return result

    def run(self, batches: list[list[Tamper]]) -> Search:
        queue: deque[list[Tamper]] = deque(batch for batch in batches if batch)
        while queue:
            batch = queue.popleft()
            if self.spent():
                self.out.untried += batch
                continue
            result = self.trial(batch)
            if result.kind == "equal":
                self.out.cleared += batch
            elif result.kind == "differs":
                self.narrow(batch, result)
            elif result.kind == "stop":
                self.out.untried += batch
            elif len(batch) == 1:
                target = self.out.refused if result.kind == "refused" else None
                if target is not None:
                    target += batch
                else:
                    self.out.broke.append((batch, result))
            else:
                named = mentioned(result.text, batch) if result.kind == "refused" else []
                if named and len(named) < len(batch):
                    # A strict app names what it refuses: those are safe, retry the rest.
                    self.out.refused += named
                    queue.appendleft([t for t in batch if t not in named])
                else:
                    left, right = _halves(batch)
                    queue.appendleft(right)
                    queue.appendleft(left)
        return self.out

    def narrow(self, batch: list[Tamper], shown: Trial) -> None:
        """`batch` moved the amount (`shown`): bisect it to the field(s) that did."""
        if len(batch) == 1 or self.spent():
            self.out.moved.append((batch, shown))
            return
        left, right = _halves(batch)
        first = self.trial(left)
        if first.kind == "differs":
            self.narrow(left, first)
        elif first.kind == "stop":
            self.out.moved.append((batch, shown))
            return
        if first.kind == "equal":
            self.out.cleared += left
            self.narrow(right, shown)  # the difference must be in the other half
            return
        if self.spent():
            if first.kind == "differs":
                self.out.untried += right  # not shown to move anything: never blamed
            else:
                self.out.moved.append((batch, shown))
            return
        second = self.trial(right)
        if second.kind == "differs":
            self.narrow(right, second)
        elif second.kind == "equal":
            self.out.cleared += right
            if first.kind != "differs":  # neither half alone: they move it together
                self.out.moved.append((batch, shown))
        elif first.kind != "differs":
            self.out.moved.append((batch, shown))


def search(batches: list[list[Tamper]], attempt: Attempt, budget: int) -> Search:
    """Try the batches through `attempt` (one order each, or more to narrow one down), at
    most `budget` orders in all."""
    return _Searcher(attempt, budget).run(batches)


def names(fields: list[Tamper]) -> str:
    return ", ".join(t.label for t in fields)
