"""docs/profile.md: the target profile's reference, generated from its pydantic models.

    python -m golive.profile.reference --write docs/profile.md   # or: python3 dev.py reference
    python -m golive.profile.reference                            # print it

It walks ProfileModel and every model reachable from it: a field's annotation (optional,
list, dict, union…) is searched for models, and a free-form block (`dict[str, Any]` in
ProfileModel, validated by its own model) is followed through golive.profile.blocks.BLOCKS.
A field or block added to the profile appears here by itself; a field without a
description fails tests/test_profile_reference.py, which also fails when the committed
docs/profile.md differs from what this writes.
"""

from __future__ import annotations

import argparse
import enum
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined, to_jsonable_python

from golive.profile import ProfileModel
from golive.profile import blocks as profile_blocks

COMMAND = "python -m golive.profile.reference --write docs/profile.md"
DEFAULT_OUT = Path("docs/profile.md")
ROOT_NAME = "the profile"


@dataclass
class Section:
    """One model of the profile and the keys (dotted paths) it is found at."""

    model: type[BaseModel]
    paths: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return _anchor(self.title)

    @property
    def title(self) -> str:
        return self.paths[0] if self.paths else ROOT_NAME


def key_of(name: str, info: FieldInfo) -> str:
    """The key a field has in the YAML (its alias, when it has one)."""
    return info.alias or name


BlockOf = Callable[[str], "type[BaseModel] | None"]


def profile_block(name: str) -> type[BaseModel] | None:
    """The model validating the profile's free-form block `name` (blocks.BLOCKS), if any."""
    return profile_blocks.model_of(name) if name in profile_blocks.BLOCKS else None


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models an annotation holds: itself, or inside Optional, list, dict, unions."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from models_in(arg)


def sections(
    root: type[BaseModel] = ProfileModel, block_of: BlockOf = profile_block
) -> list[Section]:
    """Every model reachable from `root`, breadth first in field order, each with the
    paths it is reached at. `block_of` gives the model of a free-form block of `root`."""
    found: dict[type[BaseModel], Section] = {root: Section(root)}
    queue: list[tuple[type[BaseModel], str]] = [(root, "")]
    while queue:
        model, prefix = queue.pop(0)
        for name, info in model.model_fields.items():
            path = f"{prefix}{key_of(name, info)}"
            block = block_of(name) if model is root else None
            nested = [block] if block is not None else list(models_in(info.annotation))
            for child in nested:
                if child not in found:
                    found[child] = Section(child)
                    queue.append((child, _item_path(path, info.annotation, child) + "."))
                if path not in found[child].paths:
                    found[child].paths.append(_item_path(path, info.annotation, child))
    return list(found.values())


def _item_path(path: str, annotation: Any, child: type[BaseModel]) -> str:
    """`carts[]` for a list of models, `users.NAME` for a mapping of them."""
    for shape in _shapes(annotation, child):
        return path + shape
    return path


def _shapes(annotation: Any, child: type[BaseModel]) -> Iterator[str]:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is child:
        yield ""
    elif origin in (list, tuple, set, frozenset) and any(child in models_in(a) for a in args):
        yield "[]" + next(_shapes(args[0], child), "")
    elif origin is dict and len(args) == 2 and child in models_in(args[1]):
        yield ".NAME" + next(_shapes(args[1], child), "")
    else:
        for arg in args:
            yield from _shapes(arg, child)


def missing_descriptions(
    root: type[BaseModel] = ProfileModel, block_of: BlockOf = profile_block
) -> list[str]:
    """`module.Model.field` for every field reachable from the profile without a description."""
    missing = []
    for section in sections(root, block_of):
        for name, info in section.model.model_fields.items():
            if not (info.description or "").strip():
                missing.append(f"{section.model.__module__}.{section.model.__qualname__}.{name}")
    return missing


# --- rendering --------------------------------------------------------------------------


def render(root: type[BaseModel] = ProfileModel, block_of: BlockOf = profile_block) -> str:
    all_sections = sections(root, block_of)
    anchors = {s.model: s.anchor for s in all_sections}
    out = [
        "# Target profile reference",
        "",
        f"<!-- Generated by `{COMMAND}` from the profile's pydantic models: do not edit. -->",
        "",
        "Every key a target profile (`target.yaml`) may hold, with its type, default and "
        "meaning. Generated from the models that validate the profile (golive/profile/, "
        "golive/observer.py, golive/budget.py; the free-form blocks through "
        "golive/profile/blocks.py), so it says exactly what `golive validate` accepts. "
        "Unknown keys are refused everywhere. See [targets/demo/target.yaml]"
        "(../targets/demo/target.yaml) for a full example.",
        "",
        "Sections:",
        "",
    ]
    out += [f"- [`{s.title}`](#{s.anchor})" for s in all_sections]
    out.append("")
    for section in all_sections:
        out += _section(section, anchors, block_of if section.model is root else None)
    return "\n".join(out).rstrip("\n") + "\n"


def _section(
    section: Section, anchors: dict[type[BaseModel], str], block_of: BlockOf | None
) -> list[str]:
    model = section.model
    lines = [f"## {section.title}", ""]
    where = ", ".join(f"`{p}`" for p in section.paths)
    lines.append(
        f"Model `{model.__qualname__}` ({model.__module__})"
        + (f"; at {where}" if where else "")
        + "."
    )
    lines.append("")
    doc = _docstring(model)
    if doc:
        lines += [doc, ""]
    lines += [
        "| Key | Type | Required | Default | Description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, info in model.model_fields.items():
        block = block_of(name) if block_of is not None else None
        if block is not None:
            kind = f"[{block.__qualname__}](#{anchors[block]}) (block), or null"
        else:
            kind = _type(info.annotation, anchors) + _constraints(info)
        required = "yes" if info.is_required() else "no"
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{key_of(name, info)}`",
                    _cell(kind),
                    required,
                    _cell(_default(info)),
                    _cell(info.description or ""),
                ]
            )
            + " |"
        )
    return lines + [""]


def _docstring(model: type[BaseModel]) -> str:
    doc = model.__doc__ or ""
    if not doc or doc == BaseModel.__doc__ or doc.startswith("!!! abstract"):
        return ""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", doc.strip())]
    return "\n\n".join(p for p in paragraphs if p)


def _type(annotation: Any, anchors: dict[type[BaseModel], str]) -> str:
    if annotation is type(None) or annotation is None:
        return "null"
    if annotation is Any:
        return "any"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__qualname__}](#{anchors.get(annotation, '')})"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " | ".join(f"`{m.value}`" for m in annotation)
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if annotation in simple:
        return simple[annotation]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type(args[0], anchors) + _constraints_of(args[1:])
    if origin is typing.Literal:
        return " | ".join(f"`{json.dumps(a)}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        parts = [_type(a, anchors) for a in args]
        return ", or ".join(dict.fromkeys(parts))
    if origin in (list, tuple, set, frozenset):
        return "list of " + (_type(args[0], anchors) if args else "any")
    if origin is dict:
        key, value = args if len(args) == 2 else (str, Any)
        return f"mapping of {_type(key, anchors)} to {_type(value, anchors)}"
    return getattr(annotation, "__name__", str(annotation))


_BOUNDS = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))


def _constraints(info: FieldInfo) -> str:
    return _constraints_of(info.metadata)


def _constraints_of(metadata: Any) -> str:
    found = []
    for item in metadata:
        for attr, sign in _BOUNDS:
            value = getattr(item, attr, None)
            if value is not None:
                found.append(f"{sign} {value}")
        if getattr(item, "min_length", None):
            found.append(f"at least {item.min_length}")
        if getattr(item, "max_length", None):
            found.append(f"at most {item.max_length}")
        if getattr(item, "pattern", None):
            found.append(f"matching `{item.pattern}`")
        validator = getattr(item, "func", None)
        if validator is not None and getattr(validator, "__name__", "") == "_not_blank":
            found.append("not blank")
    return f" ({', '.join(found)})" if found else ""


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "—"
    if info.default_factory is not None:
        try:
            value = info.default_factory()  # type: ignore[call-arg]
        except TypeError:
            return "(computed)"
    else:
        value = info.default
    if value is PydanticUndefined:
        return "—"
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json", by_alias=True)
        return "its defaults" if len(json.dumps(dumped)) > 60 else f"`{json.dumps(dumped)}`"
    value = to_jsonable_python(value, by_alias=True)
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _anchor(title: str) -> str:
    # GitHub's: lowercase, spaces to dashes, punctuation but - and _ dropped.
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m golive.profile.reference", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--write", type=Path, help="write the reference to this file")
    args = parser.parse_args(argv)
    missing = missing_descriptions()
    if missing:
        print("fields without a description:\n  " + "\n  ".join(missing), file=sys.stderr)
        return 1
    text = render()
    if args.write is None:
        sys.stdout.write(text)
    else:
        args.write.write_text(text, encoding="utf-8")
        print(args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
