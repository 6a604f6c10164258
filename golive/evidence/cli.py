"""The command line of evidence bundles: `--bundle` on the commands that write reports, and
`golive verdict BUNDLE`."""

from __future__ import annotations

import argparse
from pathlib import Path

from golive import outdir
from golive.errors import InputError

EXIT_AGREE, EXIT_DISAGREE, EXIT_BAD_BUNDLE = 0, 1, 2
EXIT_CODES = """exit codes:
  0  the verdict recomputed from the bundle agrees with the recorded one (GO or not)
  1  they disagree: the items whose outcome differs are named
  2  a bad or unreadable bundle: the member at fault is named
"""
BUNDLE_HELP = (
    "also write golive-evidence-<commit>.tar.gz: the report folder's files and the run's "
    "inputs, redacted, with an index (bundle.json). Alone: beside the report folder; "
    "PATH ending in .tar.gz: that file; another PATH: a folder to put it in "
    "(docs/evidence.md)"
)


def add_bundle_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--bundle",
        nargs="?",
        const="",  # beside the report folder (golive.evidence.bundle.destination)
        default=None,
        type=_bundle_path,
        metavar="PATH",
        help=BUNDLE_HELP,
    )


def _bundle_path(text: str) -> str:
    """The --bundle PATH, checked before the run: a bundle golive cannot write is a usage
    error at once, not a failure after the whole run."""
    path = Path(text)
    folder = path.parent if path.name.endswith((".tar.gz", ".tgz")) else path
    try:
        outdir.check_writable(folder, "--bundle")
    except InputError as exc:
        raise argparse.ArgumentTypeError(
            f"{folder}: {exc.message}; name a folder or a .tar.gz file you may write"
        ) from None
    if folder is not path and path.is_dir():
        raise argparse.ArgumentTypeError(f"--bundle {text} is a folder; name a .tar.gz file")
    return text


def check_outside(where: str | None, out: Path) -> None:
    """A bundle inside the report folder is refused before the run: the folder's manifest
    cannot list it (it is written after the seal), so `golive verify` would name it."""
    if not where:
        return  # no bundle, or beside the report folder
    path = Path(where)
    folder = (path.parent if path.name.endswith((".tar.gz", ".tgz")) else path).resolve()
    report = out.resolve()
    if folder == report or report in folder.parents:
        raise InputError(
            f"--bundle {where} is inside the report folder {out}",
            hint="put the bundle beside it (--bundle alone) or in another folder: "
            "`golive verify` checks that the folder holds only what the run wrote",
        )


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verdict",
        help="recompute the verdict from an evidence bundle alone and compare it",
        description="Read a golive-evidence-*.tar.gz (from `golive gate --bundle`), check "
        "every member against its sha256 in bundle.json, fold each item again from its "
        "recorded check results with the bundled checklist, attestations and waivers as of "
        "the time the run judged, and compare the verdict with the recorded one. Needs no "
        "network, no target and no report folder.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("bundle", type=Path, help="a golive-evidence-*.tar.gz")
    p.set_defaults(func=_cmd_verdict)


def _cmd_verdict(args: argparse.Namespace) -> int:
    from golive.evidence.verdict import recompute

    done = recompute(args.bundle)
    recorded, meta = done.recorded, done.recorded.meta
    judged = meta.judged_at.isoformat().replace("+00:00", "Z") if meta.judged_at else "?"
    print(f"bundle      {args.bundle} ({done.members} members, each matching bundle.json)")
    print(f"recorded    {recorded.verdict.value} (exit code {recorded.exit_code})")
    count = len(done.items)
    print(
        f"recomputed  {done.verdict.value} from {count} item{'' if count == 1 else 's'} "
        f"folded again as of {judged}"
    )
    for note in done.notes:
        print(f"note: {note}")
    if done.agrees:
        print("agree: the bundled check results and inputs give the recorded verdict")
        return EXIT_AGREE
    print("DISAGREE:")
    if done.verdict != recorded.verdict:
        print(f"  verdict: recorded {recorded.verdict.value}, recomputed {done.verdict.value}")
        for reason in done.reasons[:10]:
            print(f"    · {reason}")
    for diff in done.differences:
        print(f"  item {diff.item}: recorded {diff.recorded}, recomputed {diff.recomputed}")
    return EXIT_DISAGREE
