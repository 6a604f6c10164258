"""The same field and index declarations, checked against a MongoDB database.

MongoDB has no schema to reflect, so a field "exists" when the collection's $jsonSchema
validator declares it or a recently written document carries it. Only the declared
fields are fetched: the rest of each document (customer data) never leaves the server.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo.errors import ConnectionFailure, OperationFailure

from golive.db import DatabaseUnreachable, FieldDecl, Finding, IndexDecl
from golive.db.naming import Naming

# --- public checks ----------------------------------------------------------------------


def check_fields(
    db: Any, naming: Naming, fields: list[FieldDecl], sample_size: int = 100
) -> list[Finding]:
    """One Finding per field: declared by the validator, or present in a sampled document."""
    with _reachable(db):
        names = set(db.list_collection_names())
        wanted: dict[str, set[str]] = {}
        for decl in fields:
            wanted.setdefault(naming.table(decl.model), set()).add(
                naming.column(decl.model, decl.field)
            )
        views = _Views(names, lambda name: _View.load(db, name, wanted[name], sample_size))
        return [_check_field(views, naming, decl) for decl in fields]


def check_indexes(db: Any, naming: Naming, indexes: list[IndexDecl]) -> list[Finding]:
    """One Finding per index declaration, with every index of the collection as evidence."""
    with _reachable(db):
        names = set(db.list_collection_names())
        views = _Views(names, lambda name: _View.load(db, name, set(), 0))
        return [_check_index(views, naming, decl) for decl in indexes]


# --- what we read from a collection -----------------------------------------------------


@dataclass
class _View:
    name: str
    validator: dict[str, Any] | None  # the $jsonSchema, if any
    validator_state: str  # "present", "absent" or "unavailable: why"
    enforced: bool  # validationAction "warn" only logs, so it guarantees nothing
    sample: list[dict[str, Any]] = field(default_factory=list)
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, db: Any, name: str, fields: set[str], sample_size: int) -> _View:
        schema, state, enforced = _validator(db, name)
        collection = db[name]
        sample: list[dict[str, Any]] = []
        if sample_size > 0 and fields:
            # Newest first (by _id): what the app writes today, not what it wrote years ago.
            projection = dict.fromkeys(_outermost(fields), 1)
            cursor = collection.find({}, projection).sort("_id", -1).limit(sample_size)
            sample = list(cursor)
        return cls(name, schema, state, enforced, sample, collection.index_information())

    def declared(self, path: str) -> dict[str, Any] | None:
        """The validator's property schema for a dotted path, if it declares one."""
        node = self.validator
        for part in path.split("."):
            properties = (node or {}).get("properties") or {}
            if part not in properties:
                return None
            node = properties[part]
        return node

    def required(self, path: str) -> bool:
        """An enforced validator requires the field and does not allow it to be null."""
        schema = self.declared(path)
        if not self.enforced or schema is None:
            return False
        *parents, leaf = path.split(".")
        node = self.validator or {}
        for part in parents:
            node = node["properties"][part]
        if leaf not in (node.get("required") or []):
            return False
        types = schema.get("bsonType", schema.get("type"))
        allowed = types if isinstance(types, list) else [types]
        return types is not None and "null" not in allowed


class _Views:
    """Loads each collection once per check run, and knows which collections exist."""

    def __init__(self, names: set[str], loader: Callable[[str], _View]) -> None:
        self.names = names
        self._loader = loader
        self._cache: dict[str, _View] = {}

    def get(self, name: str) -> _View:
        if name not in self._cache:
            self._cache[name] = self._loader(name)
        return self._cache[name]


def _validator(db: Any, name: str) -> tuple[dict[str, Any] | None, str, bool]:
    try:
        infos = list(db.list_collections(filter={"name": name}))
    except NotImplementedError:  # mongomock, and anything else that cannot list options
        return None, "unavailable: listCollections not supported", False
    except OperationFailure as exc:  # e.g. a user not allowed to run listCollections
        return None, f"unavailable: {exc}", False
    options = infos[0].get("options", {}) if infos else {}
    schema = (options.get("validator") or {}).get("$jsonSchema")
    enforced = options.get("validationAction", "error") != "warn"
    return schema, "present" if schema else "absent", enforced


def _outermost(paths: set[str]) -> list[str]:
    """Drop paths inside another requested path: MongoDB rejects {a: 1, "a.b": 1}."""
    return sorted(p for p in paths if not any(p.startswith(q + ".") for q in paths))


def _has_path(document: Any, path: str) -> bool:
    """Whether a document carries a dotted path (an explicit null counts as carrying it)."""
    head, _, rest = path.partition(".")
    if isinstance(document, list):
        return any(_has_path(item, path) for item in document)
    if not isinstance(document, dict) or head not in document:
        return False
    return _has_path(document[head], rest) if rest else True


# --- judging ----------------------------------------------------------------------------


def _missing_collection(subject: str, views: _Views, name: str) -> Finding:
    present = sorted(views.names)
    return Finding(
        subject,
        False,
        f"Expected collection {name}, but it does not exist "
        f"(collections present: {', '.join(present) or 'none'}).",
        [{"collection": name, "exists": False, "collections_present": present}],
    )


def _check_field(views: _Views, naming: Naming, decl: FieldDecl) -> Finding:
    name = naming.table(decl.model)
    if name not in views.names:
        return _missing_collection(decl.subject, views, name)
    view = views.get(name)
    path = naming.column(decl.model, decl.field)
    carrying = sum(_has_path(doc, path) for doc in view.sample)
    declared = view.declared(path) is not None
    evidence = [
        {
            "collection": name,
            "field": path,
            "validator": view.validator_state,
            "validator_declares": declared,
            "sampled_documents": len(view.sample),
            "documents_with_field": carrying,
        }
    ]
    seen = f"found in {carrying} of the {len(view.sample)} newest documents"
    if declared:
        message = f"Field {name}.{path} is declared by the collection's $jsonSchema validator"
        return Finding(decl.subject, True, f"{message} ({seen}).", evidence)
    if carrying:
        return Finding(decl.subject, True, f"Field {name}.{path} exists: {seen}.", evidence)
    if not view.sample:
        return Finding(
            decl.subject,
            False,
            f"Collection {name} holds no documents and has no $jsonSchema validator declaring "
            f"{path}, so nothing examined: whether the app writes {path} is unknown.",
            evidence,
        )
    return Finding(
        decl.subject,
        False,
        f"Expected field {name}.{path}, but none of the {len(view.sample)} newest documents "
        "has it and no $jsonSchema validator declares it.",
        evidence,
    )


def _check_index(views: _Views, naming: Naming, decl: IndexDecl) -> Finding:
    name = naming.table(decl.model)
    if name not in views.names:
        return _missing_collection(decl.subject, views, name)
    view = views.get(name)
    path = naming.column(decl.model, decl.field)
    indexes = [_Index.of(index_name, info) for index_name, info in view.indexes.items()]
    if decl.unique:
        ok, message = _judge_unique(decl, view, path, indexes)
    else:
        ok, message = _judge_plain(name, path, indexes)
    evidence: list[dict[str, Any]] = [
        {"collection": name, "field": path, "validator": view.validator_state}
    ]
    evidence += [ix.evidence(name) for ix in indexes]
    return Finding(decl.subject, ok, message, evidence)


@dataclass
class _Index:
    name: str
    keys: list[str]
    directions: list[Any]
    unique: bool
    sparse: bool
    partial: dict[str, Any] | None

    @classmethod
    def of(cls, name: str, info: dict[str, Any]) -> _Index:
        key = list(info.get("key", []))
        return cls(
            name=name,
            keys=[k for k, _ in key],
            directions=[d for _, d in key],
            # _id is unique without saying so in index_information().
            unique=bool(info.get("unique")) or name == "_id_",
            sparse=bool(info.get("sparse")),
            partial=info.get("partialFilterExpression"),
        )

    def describe(self) -> str:
        kind = "unique index" if self.unique else "index"
        return f"{kind} {self.name} ({', '.join(self.keys)})"

    def evidence(self, collection: str) -> dict[str, Any]:
        return {
            "collection": collection,
            "index": self.name,
            "keys": [[k, _jsonable(d)] for k, d in zip(self.keys, self.directions, strict=True)],
            "unique": self.unique,
            "sparse": self.sparse,
            "partialFilterExpression": _jsonable(self.partial),
        }


def _jsonable(value: Any) -> Any:
    # Filters may hold BSON values (dates, ObjectIds); reports need plain JSON.
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _judge_plain(collection: str, path: str, indexes: list[_Index]) -> tuple[bool, str]:
    leading = [ix for ix in indexes if ix.keys and ix.keys[0] == path]
    if leading:
        ix = min(leading, key=lambda i: i.partial is not None)
        partial = f" (partial: {ix.partial})" if ix.partial else ""
        return True, f"{collection}.{path} is indexed by {ix.describe()}{partial}."
    inside = [ix for ix in indexes if path in ix.keys]
    if inside:
        return False, (
            f"Expected an index on {collection}.{path}; it only appears as a non-leading key of "
            f"{inside[0].describe()}, which cannot serve lookups by {path} alone."
        )
    return False, f"Expected an index on {collection}.{path}, but no index covers it."


def _judge_unique(
    decl: IndexDecl, view: _View, path: str, indexes: list[_Index]
) -> tuple[bool, str]:
    where = f"{view.name}.{path}"
    expected = (
        f"Expected a unique index on {where} that admits many documents without it"
        if decl.sparse
        else f"Expected a unique index on {where}"
    )
    problems: list[str] = []
    for ix in indexes:
        if ix.unique and ix.keys == [path]:
            ok, note = _judge_unique_candidate(decl, view, path, ix)
            if ok:
                return True, f"{where} is unique via {ix.describe()}{note}."
            problems.append(f"{ix.describe()}, which {note}")
    if problems:
        return False, f"{expected}; found {'; '.join(problems)}."
    composite = [ix for ix in indexes if ix.unique and path in ix.keys]
    if composite:
        return False, (
            f"{expected}; {path} is only part of composite {composite[0].describe()}, "
            f"which does not make {path} unique on its own."
        )
    plain = [ix for ix in indexes if ix.keys and ix.keys[0] == path]
    if plain:
        return False, f"{expected}; found only {plain[0].describe()}, which is not unique."
    return False, f"{expected}, but no index covers {path}."


def _judge_unique_candidate(
    decl: IndexDecl, view: _View, path: str, ix: _Index
) -> tuple[bool, str]:
    """(ok, note): note completes a sentence about the index, for pass or fail."""
    if ix.partial is not None:
        if not _is_presence_filter(ix.partial, path):
            return False, (
                f"is partial ({ix.partial}), so documents outside that filter are not constrained"
            )
        note = "" if "$type" in ix.partial[path] else _NULLS_STILL_INDEXED
        return True, f" (partial on {ix.partial}{note})"
    if ix.sparse:
        return True, f" (sparse{_NULLS_STILL_INDEXED})"
    if not decl.sparse:
        return True, ""
    if path == "_id":
        return True, " (every document has an _id)"
    if view.required(path):
        return True, f"; note the enforced validator requires {path}, so every document has it"
    return False, (
        f"is neither sparse nor partial, so only one document may lack {path} "
        "(MongoDB indexes a missing field as null)"
    )


_NULLS_STILL_INDEXED = "; documents that store an explicit null are still indexed"


def _is_presence_filter(partial: dict[str, Any], path: str) -> bool:
    """{path: {$exists: true}} and/or {path: {$type: ...}}, and nothing else."""
    if set(partial) != {path} or not isinstance(partial[path], dict):
        return False
    condition = partial[path]
    if not condition or not set(condition) <= {"$exists", "$type"}:
        return False
    return condition.get("$exists", True) in (True, 1)


# --- reachability -----------------------------------------------------------------------


@contextmanager
def _reachable(db: Any) -> Iterator[None]:
    try:
        yield
    except ConnectionFailure as exc:
        raise DatabaseUnreachable(_address(db), str(exc)) from exc


def _address(db: Any) -> str:
    """mongodb://host:port/db from the client's seed list; never includes credentials."""
    try:
        servers = db.client.topology_description.server_descriptions()
        hosts = ",".join(f"{host}:{port}" for host, port in servers)
    except Exception:  # a test double without a topology
        hosts = "unknown"
    return f"mongodb://{hosts}/{getattr(db, 'name', '')}"
