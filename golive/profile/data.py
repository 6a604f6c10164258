"""The profile's `data` block: the card probe the data security checks send first.

Before scanning the database and the logs, golive places ONE order carrying a test card
number in the fields a careless app stores or logs (checks/test_data_security.py): through
the profile's `checkout` job (or another job or flow) as a named user, the card fields
added at the top of the body of the flow's submitting step.

```yaml
data:
  probe:
    user: alice                     # a name under `users:`
    items: [{id: 1, quantity: 1}]   # the order's cart lines
    job: checkout                   # default; or another job or any flow's name
```

Every field may be left out: `user` defaults to `api.users.a`, else
`pricing.customers.in_state`; `items` to `pricing.carts.single`, else
`api.owned.create.items`. With neither, the checks that need the probe are not-run naming
`data.probe`; the checks' param `probe: false` scans only what is there.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from golive.profile.names import UserName
from golive.profile.pricing import CartLine
from golive.validation import NonBlank


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Probe(_Strict):
    user: UserName | None = Field(
        None, description="Who places the order (default api.users.a, else pricing's in_state)"
    )
    items: list[CartLine] | None = Field(
        None,
        min_length=1,
        description="Its cart lines (default pricing.carts.single, else api.owned.create.items)",
    )
    job: NonBlank = Field(
        "checkout", description="The job or flow that places it; its submitting step gets the card"
    )


class DataModel(_Strict):
    probe: Probe = Field(default_factory=Probe, description="The card-carrying order")

    def references(self, model: Any) -> list[tuple[tuple[str | int, ...], str]]:
        """The probe's job must have a flow (checked when the profile loads)."""
        from golive.profile.references import flow_for, job_missing

        if flow_for(model, self.probe.job) is None:
            return [(("probe", "job"), job_missing(model, self.probe.job))]
        return []


# Note-like names a careless app stores as sent, added at the top of the probe's body; a
# strict app that refuses one by name gets the probe again without it.
NOTE_NAMES = ("note", "comment", "message")
# A word of a key that says a person types it (`courierNote`, `gift-message`,
# `special_instructions`), and one that says it is not free text (`note_id`,
# `delivery_status`, `message_type`): a key with a word of the second kind is left out.
FREE_TEXT_PARTS = frozenset(
    {
        "note",
        "notes",
        "comment",
        "comments",
        "message",
        "messages",
        "msg",
        "instruction",
        "instructions",
        "memo",
        "gift",
        "remark",
        "remarks",
        "description",
        "delivery",
        "greeting",
        "dedication",
        "feedback",
        "engraving",
        "inscription",
        "annotation",
        "text",
        "details",
        "request",
        "requests",
    }
)
NOT_FREE_TEXT = frozenset(
    {
        "id",
        "ids",
        "uuid",
        "ref",
        "key",
        "token",
        "url",
        "uri",
        "status",
        "state",
        "type",
        "kind",
        "code",
        "date",
        "time",
        "at",
        "email",
        "phone",
        "currency",
        "hash",
        "method",
        "mode",
        "count",
        "fee",
        "cost",
        "price",
        "amount",
    }
)
MAX_REVEALED = 12  # free-text names mined from the answers that one probe carries
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_TEXTAREA = re.compile(r"<textarea\b[^>]*?\bname\s*=\s*[\"']([^\"']+)[\"']", re.I)
_INPUT = re.compile(r"<input\b[^>]*>", re.I)
_ATTR = re.compile(r"\b(name|type)\s*=\s*[\"']([^\"']*)[\"']", re.I)


def free_text(key: str) -> bool:
    """`courier_note`, `giftMessage`, `special-instructions`: a key a person types into."""
    words = {w.lower() for w in _WORDS.findall(key)}
    return bool(words & FREE_TEXT_PARTS) and not words & NOT_FREE_TEXT


def _revealed_json(node: Any, in_line: bool, out: dict[str, bool]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if (value is None or isinstance(value, str)) and free_text(str(key)):
                out[str(key)] = out.get(str(key), True) and in_line
            _revealed_json(value, in_line, out)
    elif isinstance(node, list):
        for value in node:
            _revealed_json(value, in_line or isinstance(value, dict), out)


def revealed(bodies: list[str]) -> dict[str, bool]:
    """The free-text keys the app's answers show — JSON keys valued a string or null, and
    the text fields of its HTML forms — each True when it only appears in a list's objects
    (a cart line's), in order of first appearance."""
    out: dict[str, bool] = {}
    for body in bodies:
        text = body.lstrip()
        if text[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                _revealed_json(json.loads(text), False, out)
            continue
        for name in _TEXTAREA.findall(body):
            if free_text(name):
                out[name] = False
        for tag in _INPUT.findall(body):
            attrs = {k.lower(): v for k, v in _ATTR.findall(tag)}
            if attrs.get("type", "text").lower() in ("text", "search") and free_text(
                attrs.get("name", "")
            ):
                out[attrs["name"]] = False
    return out


def _free_text(template: Any) -> bool:
    """A literal string (not one whole placeholder such as "{item.id}", which carries an
    id or a capture): what a person types."""
    from golive.profile.flows import PLACEHOLDER

    return isinstance(template, str) and PLACEHOLDER.fullmatch(template) is None


def text_fields(flow: Any) -> tuple[list[str], list[str]]:
    """The free-text fields of a checkout flow: at the top of its submitting step's body,
    and in its cart-line template (a `gift_message: "Happy birthday"` the profile writes)."""
    index = flow.submit_index()
    body = None
    if index is not None:
        request = flow.steps[index].request
        body = request.json_body if request.json_body is not None else request.form
    top = [str(k) for k, v in body.items() if _free_text(v)] if isinstance(body, dict) else []
    line = [str(k) for k, v in (flow.item or {}).items() if _free_text(v)]
    return top, line


@dataclass(frozen=True)
class ProbePlan:
    user: str
    items: list[dict[str, Any]]
    job: str
    source: str  # where user and items came from, for the evidence


def probe_plan(model: Any) -> ProbePlan | str:
    """Who places the probe and what, from `data.probe` or its defaults; a string saying
    what to set when nothing names them."""
    from golive.profile.api import parse
    from golive.profile.pricing import Pricing

    probe = DataModel.model_validate(model.data or {}).probe
    api = parse(model.api) if model.api else None
    pricing = Pricing.model_validate(model.pricing) if model.pricing else None
    user, user_from = probe.user, "data.probe.user"
    if user is None and api is not None:
        user, user_from = api.users.a, "api.users.a"
    if user is None and pricing is not None:
        user, user_from = pricing.customers.in_state, "pricing.customers.in_state"
    items, items_from = probe.items, "data.probe.items"
    if items is None and pricing is not None:
        items, items_from = pricing.carts.single, "pricing.carts.single"
    if items is None and api is not None and api.owned is not None and api.owned.create.items:
        items, items_from = api.owned.create.items, "api.owned.create.items"
    missing = [name for name, value in (("user", user), ("items", items)) if value is None]
    if missing:
        return (
            f"the target profile names no {' and no '.join(missing)} for the card probe: set "
            + ", ".join(f"data.probe.{name}" for name in missing)
            + " (or the check's param probe: false to only scan what is there)"
        )
    assert user is not None and items is not None
    return ProbePlan(
        user,
        [line.model_dump() for line in items],
        probe.job,
        f"user from {user_from}, items from {items_from}",
    )
