"""`python -m embedded demo` (what `make run` runs) or `python -m embedded broker`."""

from __future__ import annotations

import sys
import time

from embedded.broker import LocalBroker
from embedded.demo import main as demo_main


def main(argv: list[str]) -> int:
    if argv[:1] == ["demo"]:
        return demo_main(argv[1:])
    if argv[:1] == ["broker"]:
        port = int(argv[1]) if len(argv) > 1 else 9092
        with LocalBroker(port) as broker:
            print(f"Tansu broker at {broker.bootstrap_servers}; Ctrl-C stops it", flush=True)
            try:
                while broker.process is not None and broker.process.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        return 0
    print(
        "usage: python -m embedded {demo [--rate R] [--models M] | broker [PORT]}", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
