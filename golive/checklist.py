"""checklist.yaml: the production checklist as data, and its validation."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from golive import registry, resources, thresholds, yamlsrc
from golive.errors import InputError
from golive.validation import NonBlank, error_text, raise_all, validate

DEFAULT_CHECKLIST = resources.CHECKLIST
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$"
SECTION_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"

Severity = Literal["blocker", "major", "minor"]
Phase = Literal["pre-deploy", "staging", "post-deploy"]
PHASES: tuple[str, ...] = ("pre-deploy", "staging", "post-deploy")
DEFAULT_PHASES: tuple[str, ...] = ("pre-deploy", "staging")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckRef(_Strict):
    ref: str
    params: dict[str, Any] = Field(default_factory=dict)


class Automated(_Strict):
    checks: list[CheckRef] = Field(min_length=1)


class Attested(_Strict):
    """`attested: {freshness_days: 90, guidance: …, why_not_automated: …}`: a person signs
    the item off. Every attested item says why golive cannot check it (issue #15), so an
    item stays manual only for a stated reason, and one that could be automated with more
    integration says what that would need."""

    freshness_days: int = Field(gt=0)
    guidance: str = Field("", description="What the person attesting should link or state")
    why_not_automated: NonBlank = Field(
        description="Why golive cannot check this item (or what automating it would need)"
    )


# The profile's `params:` block: {key: {param: value}}, key a check id, an item id or
# `item-id/check-id` (golive.profile.ProfileModel.params).
ProfileParams = Mapping[str, Mapping[str, Any]]
PAIR_SEPARATOR = "/"


def check_params(item: Item, ref: CheckRef, profile: ProfileParams | None = None) -> dict[str, Any]:
    """A check's params, each source overriding the ones before it: the checklist item's
    params, the checklist check's, then the profile's by check id, by item id (only the
    params this check takes: the others are for the item's other checks) and by
    `item-id/check-id`."""
    params = {**item.params, **ref.params}
    if profile:
        params.update(profile.get(ref.ref) or {})
        takes = _fields(ref.ref)
        params.update({k: v for k, v in (profile.get(item.id) or {}).items() if k in takes})
        params.update(profile.get(f"{item.id}{PAIR_SEPARATOR}{ref.ref}") or {})
    return params


def profile_supplied(item: Item, ref: CheckRef, profile: ProfileParams | None) -> set[str]:
    """The names of this check's params that the profile's `params:` sets."""
    if not profile:
        return set()
    names = set(profile.get(ref.ref) or {})
    names |= set(profile.get(f"{item.id}{PAIR_SEPARATOR}{ref.ref}") or {})
    return names | (set(profile.get(item.id) or {}) & _fields(ref.ref))


def _fields(check_id: str) -> set[str]:
    spec = registry.REGISTRY.get(check_id)
    return set(spec.params.model_fields) if spec is not None else set()


class Item(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = Field(min_length=1)
    severity: Severity
    phase: Phase
    parent: str | None = None
    tags: list[str] = Field(default_factory=list)
    thresholds: dict[str, str] = Field(
        default_factory=dict, description="Named targets in the k6-style threshold syntax"
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Passed to every check of the item (a check's own win)"
    )
    automated: Automated | None = None
    attested: Attested | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Item:
        if (self.automated is None) == (self.attested is None):
            raise ValueError("an item is either `automated` or `attested`, exactly one of them")
        return self

    @property
    def kind(self) -> str:
        return "automated" if self.automated else "attested"


class Section(_Strict):
    id: str = Field(pattern=SECTION_PATTERN)
    title: str
    group: str
    items: list[Item] = Field(min_length=1)


class Diagnostic(_Strict):
    id: str = Field(pattern=SECTION_PATTERN)
    title: str
    detection: str
    resolution: list[str]
    prevention: list[str]
    prevented_by: list[str] = Field(min_length=1)


class ChecklistModel(_Strict):
    version: Literal[1]
    title: str
    source: str = ""
    sections: list[Section] = Field(min_length=1)
    diagnostics: list[Diagnostic] = Field(default_factory=list)


@dataclass
class Checklist:
    """A validated checklist with lookups by id."""

    model: ChecklistModel
    path: Path
    sha256: str

    def __post_init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.section_of: dict[str, Section] = {}
        for section in self.model.sections:
            for item in section.items:
                self.items[item.id] = item
                self.section_of[item.id] = section

    @property
    def sections(self) -> list[Section]:
        return self.model.sections

    def select(
        self,
        phases: Iterable[str] = DEFAULT_PHASES,
        sections: Iterable[str] = (),
        item_ids: Iterable[str] = (),
        tags: Iterable[str] = (),
    ) -> list[Item]:
        """Items in checklist order that match every given filter."""
        phases, sections, item_ids, tags = set(phases), set(sections), set(item_ids), set(tags)
        chosen = []
        for section in self.sections:
            if sections and section.id not in sections:
                continue
            for item in section.items:
                if item_ids and item.id not in item_ids:
                    continue
                if not item_ids and phases and item.phase not in phases:
                    continue
                if tags and not tags & set(item.tags):
                    continue
                chosen.append(item)
        return chosen


def load(path: Path = DEFAULT_CHECKLIST, extra_check_paths: Iterable[Path] = ()) -> Checklist:
    """Parse and validate a checklist; raises InputError(s) naming file, line and item."""
    located = yamlsrc.load(path)
    model = validate(ChecklistModel, located, item_at=lambda p: _item_id_at(located, p))
    registry.discover(extra_check_paths)
    raise_all(_cross_check(model, located))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Checklist(model=model, path=path, sha256=digest)


def _item_id_at(located: yamlsrc.Located, path: yamlsrc.PathKey) -> str | None:
    if len(path) >= 4 and path[0] == "sections" and path[2] == "items":
        try:
            return located.data["sections"][path[1]]["items"][path[3]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
    return None


def _cross_check(model: ChecklistModel, located: yamlsrc.Located) -> list[InputError]:
    """What a schema cannot say: unique ids, known references, parseable thresholds."""
    errors: list[InputError] = []
    seen: dict[str, int] = {}
    section_ids: set[str] = set()

    def err(message: str, path: tuple, item: str | None = None, hint: str | None = None) -> None:
        errors.append(
            InputError(message, file=located.file, line=located.line(path), item=item, hint=hint)
        )

    for s_index, section in enumerate(model.sections):
        if section.id in section_ids:
            err(f"duplicate section id {section.id!r}", ("sections", s_index, "id"))
        section_ids.add(section.id)
        for i_index, item in enumerate(section.items):
            at = ("sections", s_index, "items", i_index)
            if item.id in seen:
                err(
                    f"duplicate item id (first on line {seen[item.id]})",
                    (*at, "id"),
                    item.id,
                    "item ids are stable and unique",
                )
            seen.setdefault(item.id, located.line((*at, "id")) or 0)
            for name, expression in item.thresholds.items():
                try:
                    thresholds.parse(expression)
                except thresholds.ThresholdSyntaxError as exc:
                    err(f"threshold {name!r}: {exc}", (*at, "thresholds", name), item.id)
            _check_metric_names(item, at, err)
            for c_index, ref in enumerate(item.automated.checks if item.automated else []):
                ref_at = (*at, "automated", "checks", c_index)
                _check_ref(ref, item, ref_at, err)
    all_ids = set(seen)
    for s_index, section in enumerate(model.sections):
        for i_index, item in enumerate(section.items):
            if item.parent and item.parent not in {i.id for i in section.items}:
                err(
                    f"parent {item.parent!r} is not an item of section {section.id!r}",
                    ("sections", s_index, "items", i_index, "parent"),
                    item.id,
                )
    for d_index, diagnostic in enumerate(model.diagnostics):
        for p_index, item_id in enumerate(diagnostic.prevented_by):
            if item_id not in all_ids:
                err(
                    f"diagnostic {diagnostic.id!r} names unknown item {item_id!r}",
                    ("diagnostics", d_index, "prevented_by", p_index),
                )
    return errors


def _check_metric_names(item: Item, at: tuple, err: Any) -> None:
    # k6 lets a misspelled metric pass silently; here a name no check of the item judges
    # is an error, as soon as one of its checks declares the names it judges.
    known: set[str] = set()
    for ref in item.automated.checks if item.automated else []:
        spec = registry.REGISTRY.get(ref.ref)
        if spec is not None:
            known |= spec.metrics
    if not known:
        return
    for name in item.thresholds:
        if name not in known:
            err(
                f"threshold {name!r}: no check of this item measures it",
                (*at, "thresholds", name),
                item.id,
                f"known metric names here: {', '.join(sorted(known))}",
            )


def _check_ref(ref: CheckRef, item: Item, at: tuple, err: Any) -> None:
    spec = registry.REGISTRY.get(ref.ref)
    if spec is None:
        known = ", ".join(sorted(registry.REGISTRY)[:8])
        hint = f"known checks include {known}; `golive checks` lists them all"
        if registry.IMPORT_ERRORS:
            broken = "; ".join(f"{p}: {e}" for p, e in sorted(registry.IMPORT_ERRORS.items()))
            hint = f"a check module failed to import ({broken}); " + hint
        err(f"unknown check {ref.ref!r}", (*at, "ref"), item.id, hint)
        return
    try:
        spec.params.model_validate(check_params(item, ref))
    except ValidationError as exc:
        for error in exc.errors():
            loc = "".join(f".{p}" for p in error["loc"])
            message = "unknown param" if error["type"] == "extra_forbidden" else error_text(error)
            err(
                f"check {ref.ref!r} params{loc}: {message}",
                (*at, "params", *error["loc"]),
                item.id,
            )


# --- the profile's `params:` ------------------------------------------------------------


def profile_params_errors(
    the_checklist: Checklist, params: ProfileParams, located: yamlsrc.Located
) -> list[InputError]:
    """What is wrong with a profile's `params:` block against this checklist: keys naming
    no item or check, params no check there takes, values of the wrong type. `located` is
    the profile's whole YAML (errors name its file and line)."""
    errors: list[InputError] = []
    hint_ids = (
        "keys are a check id (`golive checks`), an item id (`golive items`) or item-id/check-id"
    )

    def err(message: str, path: tuple, item: str | None = None, hint: str | None = None) -> None:
        error = InputError(
            f"params.{message}",
            file=located.file,
            line=located.line(("params", *path)),
            item=item,
            hint=hint,
        )
        if not any(str(e) == str(error) for e in errors):
            errors.append(error)

    for key, overrides in params.items():
        uses = _uses(the_checklist, key)
        if isinstance(uses, str):
            err(f"{key}: {uses}", (key,), hint=hint_ids)
            continue
        takes = set().union(*(_fields(ref.ref) for _, ref in uses))
        for name in overrides:
            if name not in takes:
                checks = ", ".join(dict.fromkeys(ref.ref for _, ref in uses))
                known = ", ".join(sorted(takes)) or "none"
                err(
                    f"{key}.{name}: unknown param",
                    (key, name),
                    hint=f"{checks} take(s): {known}",
                )
        for item, ref in uses:
            spec = registry.REGISTRY[ref.ref]
            try:
                spec.params.model_validate(check_params(item, ref, params))
            except ValidationError as exc:
                for error in exc.errors():
                    name = error["loc"][0] if error["loc"] else None
                    if (
                        error["type"] == "extra_forbidden"
                        or _supplier(item, ref, params, name) != key
                    ):
                        continue  # reported above, or another key's value
                    where = ".".join(str(p) for p in error["loc"])
                    field = spec.params.model_fields.get(str(name))
                    about = f": {field.description}" if field and field.description else ""
                    err(
                        f"{key}.{where}: {error['msg']}",
                        (key, *error["loc"]),
                        None if key == ref.ref else item.id,  # a check id: once, not per item
                        f"check {ref.ref}'s param {name}{about}",
                    )
    return errors


def _uses(the_checklist: Checklist, key: str) -> list[tuple[Item, CheckRef]] | str:
    """The (item, check) pairs a `params:` key reaches, or why it reaches none."""
    item_id, pair, check_id = key.partition(PAIR_SEPARATOR)
    if pair:
        item = the_checklist.items.get(item_id)
        if item is None:
            return f"unknown item {item_id!r}"
        uses = [(item, ref) for ref in _refs(item) if ref.ref == check_id]
        if not uses:
            checks = ", ".join(ref.ref for ref in _refs(item)) or "no check (it is attested)"
            return f"item {item_id!r} has no check {check_id!r} (its checks: {checks})"
        return uses
    is_item, is_check = key in the_checklist.items, key in registry.REGISTRY
    if is_item and is_check:
        return "is both an item id and a check id: write item-id/check-id"
    if is_item:
        item = the_checklist.items[key]
        if not item.automated:
            return "the item is attested: it has no check to take params"
        return [(item, ref) for ref in _refs(item)]
    if is_check:
        uses = [(item, ref) for item in the_checklist.items.values() for ref in _refs(item)]
        uses = [(item, ref) for item, ref in uses if ref.ref == key]
        return uses or f"no item of the checklist uses check {key!r}"
    close = difflib.get_close_matches(key, [*the_checklist.items, *registry.REGISTRY], n=1)
    return f"unknown item or check {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _supplier(item: Item, ref: CheckRef, params: ProfileParams, name: Any) -> str | None:
    """The profile key whose value of `name` this check of this item gets (the most
    specific that sets it)."""
    for key in (f"{item.id}{PAIR_SEPARATOR}{ref.ref}", item.id, ref.ref):
        if name in (params.get(key) or {}) and (key != item.id or name in _fields(ref.ref)):
            return key
    return None


def _refs(item: Item) -> list[CheckRef]:
    return item.automated.checks if item.automated else []
