"""`golive init [--repo PATH] [--dir DIR] [--force]`: a starter profile for an app's CI.

Writes DIR/target.yaml, DIR/attestations.yaml and DIR/waivers.yaml (DIR defaults to
`golive`) into the app's repository. The profile validates as written; what init read
from the repository (framework, Stripe and database variable names, the webhook and
health routes) is written in and marked "— confirm", and the header lists every guess
and everything not found. Existing files are left alone unless --force (exit 2).
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from golive import checklist, detect, registry
from golive.errors import InputError
from golive.init_profile import Note, Starter, comment_text, render
from golive.profile import EnvNames
from golive.redact import DEFAULT

FILES = ("target.yaml", "attestations.yaml", "waivers.yaml")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "init",
        help="write a starter target profile, attestations and waivers into an app's repository",
        description="Read the app's repository (never running or importing it) and write "
        "DIR/target.yaml, DIR/attestations.yaml and DIR/waivers.yaml. The profile validates "
        'as written; every guess is marked "— confirm" and listed in its header, with what '
        "was not found.",
    )
    p.add_argument(
        "--repo", type=Path, default=Path("."), help="the app's repository (default: here)"
    )
    p.add_argument(
        "--dir",
        default="golive",
        help="folder for the files, relative to the repository (default: golive)",
    )
    p.add_argument("--force", action="store_true", help="overwrite files that exist")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    repo = args.repo.resolve()
    if not repo.is_dir():
        raise InputError("not a directory", file=args.repo, hint="--repo names the app's checkout")
    folder = (repo / args.dir).resolve()
    paths = [folder / name for name in FILES]
    if folder.exists() and not folder.is_dir():
        raise InputError("exists and is not a directory", file=folder, hint="choose another --dir")
    if not args.force:
        for path in paths:
            if path.exists():
                raise InputError(
                    "exists; golive init leaves it alone",
                    file=_shown(path),
                    hint="--force overwrites it",
                )
    checklist_vars = env_vars_of_checklist()
    found = detect.scan(repo, skip=[folder], prefer=checklist_vars)
    shown = _shown(paths[0])
    starter = render(found, profile_dir=folder, checklist_vars=checklist_vars, target_shown=shown)
    folder.mkdir(parents=True, exist_ok=True)
    for path, text in zip(
        paths, (starter.target, starter.attestations, starter.waivers), strict=True
    ):
        path.write_text(text, encoding="utf-8")
    _report(found, starter, paths, shown)
    return 0


def env_vars_of_checklist() -> dict[str, list[str]]:
    """Each variable the bundled checklist's checks read, under the default env.names ->
    the ids of the items that read it. A check's params model that reads env variables
    says which (`variables(names)`, checks/test_environment.py)."""
    the_checklist = checklist.load(checklist.DEFAULT_CHECKLIST)
    defaults = EnvNames()
    names: dict[str, list[str]] = {}
    for item in the_checklist.items.values():
        for ref in item.automated.checks if item.automated else []:
            spec = registry.REGISTRY.get(ref.ref)
            if spec is None:
                continue
            params = spec.params.model_validate(checklist.check_params(item, ref))
            reads = getattr(params, "variables", None)
            for name in reads(defaults) if callable(reads) else []:
                names.setdefault(name, [])
                if item.id not in names[name]:
                    names[name].append(item.id)
    return names


def _shown(path: Path) -> str:
    """`path` as the user would type it from here: relative when below the cwd."""
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _say(text: str = "") -> None:
    """Print one line: printable, and nothing shaped like a Stripe secret."""
    print(DEFAULT.text(comment_text(text)))


def _report(found: detect.Detection, starter: Starter, paths: list[Path], shown: str) -> None:
    _say(
        f"golive init: read {found.files_read} source files of {found.repo} (nothing run or imported)"
    )
    for path in paths:
        _say(f"wrote {_shown(path)}")
    _say()
    _say(f'Guesses to confirm (marked "— confirm" in {shown}):')
    _print_notes(starter.guesses)
    _say("Not found:")
    _print_notes(starter.missing)
    if starter.renamed:
        _say("Named differently from the checklist's defaults:")
        for text in starter.renamed:
            _say(f"  - {text}")
    if found.real_env_files:
        _say(f"Not opened (real dotenv files): {', '.join(found.real_env_files)}")
    target = shlex.quote(shown)
    _say()
    _say("Next:")
    _say(f"  golive validate --target {target}")
    _say(f"  golive gate --target {target} --phase pre-deploy")


def _print_notes(notes: list[Note]) -> None:
    if not notes:
        _say("  nothing")
    for note in notes:
        where = f"  {note.where}" if note.where else ""
        how = f"  ({note.how})" if note.how else ""
        _say(f"  {note.label:<26} {note.value}{where}{how}")
