"""``aifnb``: one command, one subcommand group per module, so groups are added without edits here
beyond one line in COMMAND_GROUPS.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

# group name -> module exposing ``register(subparsers)``; each parser sets ``func(args) -> int``.
COMMAND_GROUPS = {
    "bias": "aifnb_widgets.bias.cli",
    "batch": "aifnb_widgets.batch.cli",
    "data": "aifnb_data.cli",
}


def guarded(
    group: str,
    errors: tuple[type[BaseException], ...],
    describe: Callable[[BaseException], str] = lambda exc: f"error: {exc}",
) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    """Wrap a subcommand so user mistakes end in one line naming the problem and exit status 2,
    not a traceback."""

    def wrap(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        def run(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except errors as exc:
                print(f"aifnb {group} {args.command}: {describe(exc)}", file=sys.stderr)
                return 2

        return run

    return wrap


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
