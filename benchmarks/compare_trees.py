"""The same pre-loaded selections served by `python -m consumer` from two or more code trees.

Tells a change in Encore's cost from a change in the machine: each tree (e.g. a worktree of
an older commit: `git worktree add /tmp/old <commit>`) is started cold on the same catalog and
the same selections, on a broker of its own, `--repeats` times, the trees taking turns.

    .venv/bin/python -m benchmarks.compare_trees --catalog CSV --trees /tmp/old,. --seeds zipf
"""

from __future__ import annotations

import argparse
import os
import uuid
from pathlib import Path

from benchmarks.load import seed_rows, selections
from benchmarks.service import answer_rate, cpu_seconds
from embedded.broker import LocalBroker
from recommender.ingest import read_catalog
from tests.harness import ServiceProcess, create_topics, produce, read_topic, wait_until


def serve(
    tree: Path | None, csv: Path, events: list[tuple[bytes, bytes]], work: Path
) -> tuple[float, float, float]:
    """Events/s (first answer to last), the service's CPU µs per event and the load average
    at the start, serving `events` from the code in `tree` (None: this one)."""
    env = {} if tree is None else {"PYTHONPATH": str(tree.resolve())}
    with LocalBroker(log_path=work / "tansu.log") as broker:
        servers = broker.bootstrap_servers
        tag = uuid.uuid4().hex[:6]
        topics = (f"in-{tag}", f"out-{tag}", f"dlq-{tag}")
        create_topics(servers, topics, partitions=4)
        produce(servers, topics[0], events)
        artifacts = work / f"artifacts-{tag}"
        artifacts.mkdir(parents=True)
        service = ServiceProcess(
            servers, topics, f"trees-{tag}",
            ["--catalog", str(csv), "--artifacts", str(artifacts)],
            log_dir=work, env=env,
        )  # fmt: skip
        load = os.getloadavg()[0]
        service.start(wait_ready_s=None)
        try:
            wait_until(service.ready, 600, "service ready", step_s=0.01)
            assert service.process is not None
            before = cpu_seconds(service.process.pid)
            answers = read_topic(servers, topics[1], len(events), timeout_s=600)
            cpu = cpu_seconds(service.process.pid) - before
        finally:
            service.stop()
    return answer_rate(answers), cpu / len(answers) * 1e6, load


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--trees", required=True, help="comma-separated code roots")
    parser.add_argument("--seeds", default="zipf", help="uniform or zipf")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/encore-trees"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    catalog = read_catalog(args.catalog)
    events = selections(catalog.track_ids, seed_rows(args.seeds, catalog, args.events), "t")
    for _ in range(args.repeats):
        for tree in args.trees.split(","):
            rate, cpu_us, load = serve(Path(tree), args.catalog, events, args.work)
            print(f"{tree}: {rate:,.0f} events/s, {cpu_us:.1f} µs CPU/event (load {load:.1f})")


if __name__ == "__main__":
    main()
