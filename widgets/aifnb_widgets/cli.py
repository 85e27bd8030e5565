"""``aifnb``: one command, one subcommand group per module, so groups are added without edits here
beyond one line in COMMAND_GROUPS.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# group name -> module exposing ``register(subparsers)``; each parser sets ``func(args) -> int``.
COMMAND_GROUPS = {
    "bias": "aifnb_widgets.bias.cli",
    "batch": "aifnb_widgets.batch.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aifnb", description="AI Factory notebook platform tools")
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")
    for module in COMMAND_GROUPS.values():
        importlib.import_module(module).register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
