"""Measure the HTTP API (`python -m web`) on loopback.

1. `POST /v1/recommendations` (synchronous, no Kafka) on a generated catalog: requests/s and
   p50/p99 with 1 and 32 concurrent clients (closed loop), and p99 at a paced rate (open
   loop: latency counted from each request's scheduled time, so queueing shows).
2. Click to answer: `POST /v1/selections` until its answer arrives on the listener's SSE
   stream, through the embedded broker and the real service, p50/p99 over N selections.

    .venv/bin/python -m benchmarks.web --tracks 100000 --selections 200

Client and server share this machine's cores (and the broker and service in part 2), so the
numbers are what one machine does end to end, not the server alone.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np

from embedded.broker import LocalBroker
from recommender.ingest import read_catalog
from tests.harness import ServiceProcess, create_topics, wait_until, web_process

GENERATE = [sys.executable, "-m", "recommender", "catalog", "generate"]


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def closed_loop(url: str, seeds: list[str], clients: int, per_client: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(offset: int) -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=30) as http:
            for i in range(per_client):
                body = {"track_id": seeds[(offset * per_client + i) % len(seeds)]}
                start = time.perf_counter()
                response = http.post("/v1/recommendations", json=body)
                mine.append(time.perf_counter() - start)
                assert response.status_code == 200, response.text
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    p50, p99 = percentiles(latencies)
    return {"requests_per_s": len(latencies) / elapsed, "p50_ms": p50, "p99_ms": p99}


def paced(
    url: str, seeds: list[str], rate: float, seconds: float, workers: int = 16
) -> dict[str, float]:
    """Open loop: request i is due at start + i/rate; its latency runs from then."""
    due: queue.Queue[tuple[float, str] | None] = queue.Queue()
    latencies: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=30) as http:
            while (item := due.get()) is not None:
                at, seed = item
                delay = at - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                response = http.post("/v1/recommendations", json={"track_id": seed})
                assert response.status_code == 200
                with lock:
                    latencies.append(time.perf_counter() - at)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.2
    count = int(rate * seconds)
    for i in range(count):
        # Hand each request to the workers just before it is due, in order.
        while start + i / rate - time.perf_counter() > 0.05:
            time.sleep(0.01)
        due.put((start + i / rate, seeds[i % len(seeds)]))
    for _ in threads:
        due.put(None)
    for thread in threads:
        thread.join()
    p50, p99 = percentiles(latencies)
    return {"rate": rate, "p50_ms": p50, "p99_ms": p99, "sent": count}


def click_to_answer(
    catalog: Path, seeds: list[str], selections: int, work: Path
) -> dict[str, float]:
    with LocalBroker(log_path=work / "tansu.log") as broker:
        tag = uuid.uuid4().hex[:8]
        topics = (f"in-{tag}", f"out-{tag}", f"dlq-{tag}")
        create_topics(broker.bootstrap_servers, topics, partitions=3)
        service = ServiceProcess(
            broker.bootstrap_servers, topics, f"bench-{tag}", models_args(catalog, work), {}, work
        )
        args = ["--bootstrap-servers", broker.bootstrap_servers, *models_args(catalog, work)]
        args += ["--input-topic", topics[0], "--output-topic", topics[1]]
        # The service first: it compiles the catalog snapshot the API then loads in a second.
        service.start(wait_ready_s=600)
        try:
            return _clicks(args, work, seeds, selections)
        finally:
            service.stop()


def _clicks(args: list[str], work: Path, seeds: list[str], selections: int) -> dict[str, float]:
    arrived: dict[str, float] = {}
    opened = threading.Event()
    with web_process(args, work / "web.log", wait_kafka=True, timeout_s=300) as url:

        def listen() -> None:
            stream_url = f"{url}/v1/listeners/bench/recommendations"
            with httpx.stream("GET", stream_url, timeout=60) as stream:
                opened.set()
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        event_id = line.split('"event_id":"', 1)[1].split('"', 1)[0]
                        arrived[event_id] = time.perf_counter()
                        if len(arrived) >= selections:
                            return

        threading.Thread(target=listen, daemon=True).start()
        opened.wait(30)
        sent: dict[str, float] = {}
        with httpx.Client(base_url=url, timeout=30) as http:
            for i in range(selections):
                start = time.perf_counter()
                body = {"user_id": "bench", "track_id": seeds[i % len(seeds)]}
                event_id = http.post("/v1/selections", json=body).json()["event_id"]
                sent[event_id] = start
                # One click at a time: wait for its answer (bounded), like a listener.
                wait_until(lambda e=event_id: e in arrived, 30, "an answer", step_s=0.001)
    p50, p99 = percentiles([arrived[e] - sent[e] for e in sent])
    return {"selections": selections, "p50_ms": p50, "p99_ms": p99}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000, help="per closed-loop run")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--selections", type=int, default=200)
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--skip-kafka", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="encore-web-bench-") as tmp:
        work = Path(tmp)
        catalog = work / "catalog.csv"
        subprocess.run(
            [*GENERATE, "--tracks", str(args.tracks), "--out", str(catalog)],
            check=True,
            capture_output=True,
        )
        ids = read_catalog(catalog).track_ids
        seeds = [str(t) for t in np.random.default_rng(0).choice(ids, 20_000)]
        load = os.getloadavg()[0]
        print(f"catalog: {len(ids)} tracks; cores: {os.cpu_count()}; load average {load:.1f}")
        if not args.skip_sync:
            web_args = [*models_args(catalog, work), "--bootstrap-servers", "127.0.0.1:1"]
            with web_process(web_args, work / "web-sync.log", timeout_s=300) as url:
                closed_loop(url, seeds, 4, 100)  # warm up
                for clients in (1, 32):
                    per_client = max(1, args.requests // clients)
                    result = closed_loop(url, seeds, clients, per_client)
                    print(f"POST /v1/recommendations, {clients} client(s): {fmt(result)}")
                result = paced(url, seeds, args.rate, args.seconds)
                print(f"POST /v1/recommendations, paced: {fmt(result)}")
        if not args.skip_kafka:
            result = click_to_answer(catalog, seeds, args.selections, work)
            print(f"click to answer (POST /v1/selections -> SSE): {fmt(result)}")
    return 0


def models_args(catalog: Path, work: Path) -> list[str]:
    """The same catalog and artifacts directory (knn is built in place) for every process."""
    return ["--catalog", str(catalog), "--artifacts", str(work / "artifacts")]


def fmt(result: dict[str, float]) -> str:
    return ", ".join(
        f"{k} {v:,.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items()
    )


if __name__ == "__main__":
    sys.exit(main())
