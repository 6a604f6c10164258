"""`python -m golive.sandbox [--host H] [--port P]`: the same as `golive sandbox`."""

from __future__ import annotations

import argparse
import sys

from golive.sandbox.cli import add_parser


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="golive")  # help reads "golive sandbox"
    sub = parser.add_subparsers()
    add_parser(sub)
    args = parser.parse_args(["sandbox", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
