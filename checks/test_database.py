"""Database checks: the checklist's fields and indexes, and a backup that restores."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from golive.context import CheckContext
from golive.db import DatabaseUnreachable, FieldDecl, Finding, IndexDecl
from golive.registry import check

_FIELD = r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"


class Fields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: list[str] = Field(min_length=1, description="Model.field, in the app's own naming")

    @field_validator("fields")
    @classmethod
    def _shape(cls, value: list[str]) -> list[str]:
        import re

        bad = [v for v in value if not re.match(_FIELD, v)]
        if bad:
            raise ValueError(f"expected Model.field, got {bad}")
        return value


class IndexSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str = Field(pattern=_FIELD)
    unique: bool = False
    sparse: bool = False


class Indexes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indexes: list[IndexSpec] = Field(min_length=1)


def _url(ctx: CheckContext) -> str:
    url = ctx.profile.database_url()
    if not url:
        ctx.not_run("the target profile names no database (set database.url or database.url_env)")
    return url


def _report(ctx: CheckContext, findings: list[Finding]) -> None:
    if not findings:
        ctx.nothing_examined("no field or index was inspected")
    for finding in findings:
        ctx.record(
            subject=finding.subject,
            ok=finding.ok,
            message=finding.message,
            details=finding.evidence,
        )
    failed = [f for f in findings if not f.ok]
    if failed:
        ctx.fail(" ".join(f.message for f in failed))


def _mongo(url: str):
    import pymongo

    client = pymongo.MongoClient(url, serverSelectionTimeoutMS=5000)
    return client.get_default_database()


def _inspect(ctx: CheckContext, kind: str, decls: list) -> list[Finding]:
    url = _url(ctx)
    naming = ctx.profile.naming()
    try:
        if url.startswith("mongodb"):
            from golive.db import mongo_schema as backend

            target = _mongo(url)
        else:
            from golive.db import sql_schema as backend

            target = url
        run = backend.check_fields if kind == "fields" else backend.check_indexes
        return run(target, naming, decls)
    except DatabaseUnreachable as exc:
        raise RuntimeError(ctx.redact(str(exc))) from None


@check("db.fields", params=Fields)
def test_fields(ctx: CheckContext) -> None:
    """The migration's fields exist (columns, or document fields in MongoDB)."""
    decls = [FieldDecl(*name.split(".")) for name in ctx.params.fields]
    _report(ctx, _inspect(ctx, "fields", decls))


@check("db.indexes", params=Indexes)
def test_indexes(ctx: CheckContext) -> None:
    """The required indexes exist with the required properties (unique, sparse)."""
    decls = [
        IndexDecl(*spec.field.split("."), unique=spec.unique, sparse=spec.sparse)
        for spec in ctx.params.indexes
    ]
    _report(ctx, _inspect(ctx, "indexes", decls))


@check("db.backup-restore")
def test_backup_restore(ctx: CheckContext) -> None:
    """A backup of the database restores into a scratch copy with every row (opt-in)."""
    from golive.db.backup import BackupUnsupported, backup_and_restore

    url = _url(ctx)
    database = ctx.profile.model.database
    if not database.backup_restore:
        ctx.not_run(
            "opt-in: set database.backup_restore: true in the profile (it never writes to the target)"
        )
    try:
        report = backup_and_restore(url, ctx.target.workdir)
    except BackupUnsupported as exc:
        ctx.not_run(f"{exc}; attest the backup drill instead")
    except DatabaseUnreachable as exc:
        raise RuntimeError(ctx.redact(str(exc))) from None
    for entry in report.evidence:
        ctx.record(**entry)
    ctx.record(
        tables={
            name: {"source_rows": s, "restored_rows": r} for name, (s, r) in report.tables.items()
        }
    )
    if not report.tables:
        ctx.nothing_examined("the database has no tables to back up")
    if not report.ok:
        ctx.fail(report.message)
