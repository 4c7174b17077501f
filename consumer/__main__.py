"""`python -m consumer`: run the Encore service."""

from __future__ import annotations

import logging
import sys

from consumer.app import run
from consumer.settings import settings_from_args
from recommender.errors import run_command


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return run_command(lambda: run(settings_from_args(argv)), "encore")


if __name__ == "__main__":
    sys.exit(main())
