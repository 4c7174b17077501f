"""`python -m recommender`: catalog tools, training, clusters and offline evaluation."""

from __future__ import annotations

import argparse
import sys

from recommender.commands import catalog, clusters, evaluate, train
from recommender.errors import run_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    # Each command module adds its own sub-parser and sets `handler`.
    for module in (catalog, train, clusters, evaluate):
        module.register(commands)
    args = parser.parse_args(argv)
    return run_command(lambda: int(args.handler(args) or 0), f"{parser.prog} {args.command}")


if __name__ == "__main__":
    sys.exit(main())
