"""`python -m consumer`: run the Encore service."""

from __future__ import annotations

import logging
import sys

from consumer.app import run
from consumer.reload import ModelError
from consumer.settings import settings_from_args
from recommender.ingest import SchemaError

log = logging.getLogger("encore")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return run(settings_from_args(argv))
    except (ModelError, SchemaError) as exc:  # configuration, not a crash: say what to do
        log.error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
