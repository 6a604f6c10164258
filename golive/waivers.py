"""Waivers: an approved, time-boxed acceptance of a failing automated item.

A waiver carries a reason, its author and an approver who is someone else, and an
expiry in UTC. A valid waiver turns fail/error into `waived`; an expired one fails the
gate until it is renewed or removed, so no acceptance outlives its review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from golive import yamlsrc
from golive.checklist import Checklist
from golive.errors import InputError
from golive.timeutil import as_utc
from golive.validation import NonBlank, Stamp, raise_all, validate


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str
    reason: NonBlank
    author: NonBlank
    approver: NonBlank
    expires: Stamp


class WaiversFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    waivers: list[Waiver] = Field(default_factory=list)


@dataclass
class WaiverBook:
    entries: list[Waiver]

    def for_item(self, item_id: str) -> Waiver | None:
        mine = [w for w in self.entries if w.item == item_id]
        return max(mine, key=lambda w: as_utc(w.expires)) if mine else None

    @staticmethod
    def expired(waiver: Waiver, now: datetime) -> bool:
        return as_utc(waiver.expires) <= now


def load(path: Path | None, checklist: Checklist) -> WaiverBook:
    if path is None:
        return WaiverBook([])
    located = yamlsrc.load(path)
    model = validate(
        WaiversFile, located, hint="each waiver needs item, reason, author, approver, expires"
    )
    errors = []
    for index, waiver in enumerate(model.waivers):
        at = ("waivers", index)
        item = checklist.items.get(waiver.item)
        if item is None:
            errors.append(
                InputError(
                    "waiver for an unknown item",
                    file=path,
                    line=located.line((*at, "item")),
                    item=waiver.item,
                )
            )
        elif item.automated is None:
            errors.append(
                InputError(
                    "waiver for an attested item; attest it instead",
                    file=path,
                    line=located.line((*at, "item")),
                    item=waiver.item,
                )
            )
        if waiver.author.strip().casefold() == waiver.approver.strip().casefold():
            errors.append(
                InputError(
                    "the approver must be someone other than the author",
                    file=path,
                    line=located.line((*at, "approver")),
                    item=waiver.item,
                )
            )
    raise_all(errors)
    return WaiverBook(model.waivers)
