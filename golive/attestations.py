"""Attestations: a named person's sign-off for a manual item, with evidence and freshness.

The attestations file lives in the target's repository and is reviewed like code.
An attestation older than the item's `freshness_days`, or past its own `expires`,
no longer counts: the item is `pending` again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from golive import yamlsrc
from golive.checklist import Checklist
from golive.errors import InputError
from golive.results import AttestationRecord
from golive.timeutil import as_utc
from golive.validation import NonBlank, Stamp, raise_all, validate


class Attestation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item: str
    by: NonBlank
    evidence: NonBlank
    date: Stamp
    expires: Stamp | None = None


class AttestationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attestations: list[Attestation] = Field(default_factory=list)

    @field_validator("attestations", mode="before")
    @classmethod
    def _none_is_empty(cls, value: object) -> object:
        # `attestations:` with nothing under it yet: a file waiting for `golive attest`.
        return [] if value is None else value


@dataclass
class AttestationBook:
    entries: list[Attestation]

    def judge(self, item_id: str, freshness_days: int, now: datetime) -> AttestationRecord | None:
        """The newest attestation for the item, with whether it still counts."""
        mine = [a for a in self.entries if a.item == item_id]
        if not mine:
            return None
        latest = max(mine, key=lambda a: as_utc(a.date))
        signed = as_utc(latest.date)
        expires = as_utc(latest.expires) if latest.expires else None
        stale_at = _plus_days(signed, freshness_days)
        reason = ""
        if signed > now:
            reason = f"dated in the future ({signed:%Y-%m-%d})"
        elif expires is not None and expires <= now:
            reason = f"expired on {expires:%Y-%m-%d}"
        elif stale_at <= now:
            reason = f"stale: signed {signed:%Y-%m-%d}, older than {freshness_days} days"
        return AttestationRecord(
            item=item_id,
            by=latest.by,
            evidence=latest.evidence,
            date=signed,
            expires=expires,
            valid=not reason,
            reason=reason,
        )


def _plus_days(moment: datetime, days: int) -> datetime:
    # A checklist may keep a sign-off fresh for a billion days: past the calendar's end it
    # simply never goes stale.
    try:
        return moment + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def load(paths: Path | list[Path] | None, checklist: Checklist) -> AttestationBook:
    """Every entry of the given files (a profile may name several: its own, and one a
    setup command writes); an item's newest entry is the one judged."""
    if paths is None:
        return AttestationBook([])
    entries: list[Attestation] = []
    for path in [paths] if isinstance(paths, Path) else paths:
        entries += _load_file(path, checklist)
    return AttestationBook(entries)


def _load_file(path: Path, checklist: Checklist) -> list[Attestation]:
    located = yamlsrc.load(path)
    model = validate(AttestationsFile, located, hint="see targets/demo/signoffs.yaml")
    errors = []
    for index, entry in enumerate(model.attestations):
        line = located.line(("attestations", index, "item"))
        item = checklist.items.get(entry.item)
        if item is None:
            errors.append(
                InputError(
                    "attestation for an unknown item",
                    file=path,
                    line=line,
                    item=entry.item,
                    hint="`golive items` lists the ids",
                )
            )
        elif item.attested is None:
            errors.append(
                InputError(
                    "attestation for an automated item; automated items are "
                    "proven by their checks (use a waiver to accept a failure)",
                    file=path,
                    line=line,
                    item=entry.item,
                )
            )
    raise_all(errors)
    return model.attestations


def append(path: Path, entry: Attestation) -> None:
    """Add an entry at the end of the file, leaving what is there (and its comments) alone."""
    record = entry.model_dump(mode="json", exclude_none=True)
    block = yaml.safe_dump([record], sort_keys=False, allow_unicode=True)
    indented = "".join(f"  {line}\n" for line in block.splitlines())
    if not path.exists() or not path.read_text(encoding="utf-8").strip():
        path.write_text("attestations:\n" + indented, encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    if "attestations: []" in text:
        text = text.replace("attestations: []", "attestations:")
    path.write_text(text + indented, encoding="utf-8")
