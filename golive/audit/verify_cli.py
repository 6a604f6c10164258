"""`golive verify DIR [--key PUB.pem]`, `golive keygen`, and the `--sign-key` option that
`golive gate`, `smoke` and `load` share."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from golive.audit import signing
from golive.audit.verify import verify

EXIT_VERIFIED, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2
EXIT_CODES = """exit codes:
  0  verified: every file matches manifest.json (results.json and manifest.json agree),
     every recorded input still on this machine is unchanged, and with --key the
     signature is by that key
  1  not verified: a file changed, missing or added (or left by an earlier run), an input
     changed, or with --key: the report is unsigned, re-signed by another key, or
     manifest.json changed after signing; each problem names the file
  2  invalid usage: not a folder, not a golive report folder, an unreadable manifest, a
     --key file that is no Ed25519 public key
An input no longer on this machine is a warning (the report was moved), a problem with
--require-inputs.
"""


def add_sign_key(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--sign-key",
        metavar="PATH|env:VAR",
        help="sign the report folder's manifest.json with this Ed25519 private key (PEM), "
        "or with the PEM text of the environment variable VAR (a CI secret); "
        "writes manifest.sig (docs/audit.md)",
    )


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "verify",
        help="check a report folder: file hashes, recorded inputs, signature",
        description="Recompute the SHA-256 of every file of a report folder and of every "
        "input the run recorded, and check manifest.sig; name each file that differs.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder", type=Path, metavar="DIR", help="the report folder (--out of a run)")
    p.add_argument("--key", type=Path, metavar="PUB.pem", help="the signer's public key")
    p.add_argument(
        "--require-inputs",
        action="store_true",
        help="an input not on this machine is a problem, not a warning",
    )
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser(
        "keygen",
        help="make an Ed25519 key pair for --sign-key and verify --key",
        description="Write a new Ed25519 private key (PEM, mode 0600) and its public key; "
        "print the public key's fingerprint. Existing files are never overwritten.",
    )
    p.add_argument("--private", type=Path, default=Path("golive-sign.pem"), metavar="PATH")
    p.add_argument("--public", type=Path, default=Path("golive-sign.pub.pem"), metavar="PATH")
    p.set_defaults(func=_cmd_keygen)


def _cmd_verify(args: argparse.Namespace) -> int:
    key = signing.load_public_key(args.key) if args.key else None
    found = verify(args.folder, key, require_inputs=args.require_inputs)
    for problem in found.problems:
        print(f"  ✗ {problem}")
    for warning in found.warnings:
        print(f"  ! {warning}")
    for note in found.notes:
        print(f"  · {note}")
    if found.problems:
        print(f"NOT VERIFIED: {args.folder} ({len(found.problems)} problem(s))")
        return EXIT_DIFFERS
    print(f"verified: {args.folder}")
    return EXIT_VERIFIED


def _cmd_keygen(args: argparse.Namespace) -> int:
    fingerprint = signing.keygen(args.private, args.public)
    print(f"private key {args.private} (keep it secret: a CI secret, never in the repository)")
    print(f"public key  {args.public} (give it to auditors: golive verify DIR --key {args.public})")
    print(f"fingerprint {fingerprint}")
    return 0
