"""Repository checks: secrets kept out of version control."""

from __future__ import annotations

import subprocess

from golive.context import CheckContext
from golive.registry import check
from golive.repo_scan import NotARepository, scan_repository, tracked_env_files

# Paths listed in the evidence for a count of skipped files.
_EXAMPLES = 5


def _repo(ctx: CheckContext):
    repo = ctx.profile.repository_path
    if repo is None:
        ctx.not_run("the target profile names no repository (set repository.path)")
    return repo


@check("repo.env-not-tracked")
def test_env_not_tracked(ctx: CheckContext) -> None:
    """No .env file is tracked by git, and .env is ignored."""
    repo = _repo(ctx)
    try:
        tracked = tracked_env_files(repo)
    except NotARepository as exc:
        raise RuntimeError(str(exc)) from None
    ignored = (
        subprocess.run(
            # --no-index: judge the ignore rules themselves; a tracked file is never
            # "ignored" otherwise, which would misreport a tracked but listed .env.
            ["git", "-C", str(repo), "check-ignore", "-q", "--no-index", ".env"],
            capture_output=True,
        ).returncode
        == 0
    )
    ctx.record(repository=str(repo), tracked_env_files=tracked, dotenv_ignored=ignored)
    if tracked:
        ctx.fail(
            f"tracked by git: {', '.join(tracked)} — remove with `git rm --cached` and rotate the keys"
        )
    if not ignored:
        ctx.fail(".env is not ignored: add it to .gitignore so it cannot be committed by accident")


@check("repo.no-secrets")
def test_no_secrets(ctx: CheckContext) -> None:
    """No Stripe secret key or webhook secret in tracked files or in git history."""
    repo = _repo(ctx)
    model = ctx.profile.model.repository
    allowlist = repo / model.allowlist if model and model.allowlist else None
    try:
        result = ctx.target.cached(f"scan:{repo}", lambda: scan_repository(repo, allowlist))
    except NotARepository as exc:
        raise RuntimeError(str(exc)) from None
    if result.files_scanned == 0 and result.commits_scanned == 0 and not result.binary_files:
        ctx.nothing_examined(f"{repo} has no tracked files and no commits")
    # Binaries were searched for keys byte for byte only: say how many and which.
    extra = {}
    if result.unread_files:
        extra = {
            "unread_files": len(result.unread_files),
            "unread_file_examples": result.unread_files[:_EXAMPLES],
        }
    ctx.record(
        repository=str(repo),
        files_scanned=result.files_scanned,
        commits_scanned=result.commits_scanned,
        allowlisted=result.allowlisted,
        findings=len(result.findings),
        binary_files=len(result.binary_files),
        binary_file_examples=result.binary_files[:_EXAMPLES],
        **extra,
    )
    for finding in result.findings:
        ctx.record(**finding.to_evidence())
    if result.findings:
        where = ", ".join(
            f"{f.file}:{f.line}" + (f"@{f.commit[:8]}" if f.commit else "")
            for f in result.findings[:5]
        )
        ctx.fail(
            f"{len(result.findings)} secret(s) in version control: {where} — rotate them, then purge history"
        )
