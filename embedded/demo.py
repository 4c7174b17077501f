"""`make run`: a local broker, the service on the bundled catalog, the HTTP API and its page,
a simulated listener and a tail, so recommendations flow on screen and in the browser.
Ctrl-C stops all of it cleanly."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack

from embedded.broker import LocalBroker
from kafkaio.config import KafkaConnection
from kafkaio.stop import Stop
from recommender.catalog import BUNDLED_CATALOG


def wait_ready(url: str, service: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Until `url` answers 200; fails at once if `service` exits, at the deadline if not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.poll() is not None:
            raise RuntimeError(f"{service.args!r} exited with {service.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"service not ready after {timeout_s}s ({url})")


def stop(process: subprocess.Popen[bytes], timeout_s: float = 15) -> None:
    """SIGTERM (a clean stop: flush, commit), SIGKILL after `timeout_s`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def demo(args: argparse.Namespace) -> int:
    python = sys.executable
    with ExitStack() as stack:
        broker = stack.enter_context(LocalBroker(args.port))
        connection = KafkaConnection(bootstrap_servers=broker.bootstrap_servers)
        print(f"broker  : Tansu at {connection.bootstrap_servers} (in memory)", flush=True)
        # The listeners' local stores die with the broker that holds their changelog: kept,
        # the next demo's service would find them written from another changelog and empty
        # them, with a warning per partition. Removed after the service stops (LIFO).
        state_args: list[str] = []
        if not any(a.split("=")[0] == "--state-dir" for a in args.service_args):
            state_dir = tempfile.mkdtemp(prefix="encore-demo-state-")
            stack.callback(shutil.rmtree, state_dir, ignore_errors=True)
            state_args = ["--state-dir", state_dir]
        # Every child reads the connection from ENCORE_* (never a shell's other cluster).
        env = {**os.environ, **connection.environment()}
        service = subprocess.Popen(
            [
                python,
                "-m",
                "consumer",
                "--models",
                args.models,
                "--metrics-port",
                str(args.metrics_port),
                *state_args,
                *args.service_args,
            ],
            env=env,
        )
        stack.callback(stop, service)
        # The API loads the same catalog and models: it starts while the service does.
        web = subprocess.Popen(
            [python, "-m", "web", "--models", args.models, "--port", str(args.web_port)],
            env=env,
        )
        stack.callback(stop, web)
        ready_url = f"http://127.0.0.1:{args.metrics_port}/readyz"
        wait_ready(ready_url, service, timeout_s=120)
        print(
            f"service : ready; metrics at http://127.0.0.1:{args.metrics_port}/metrics", flush=True
        )
        wait_ready(f"http://127.0.0.1:{args.web_port}/readyz", web, timeout_s=120)
        print(
            f"web     : http://127.0.0.1:{args.web_port}  (the page; API docs at /docs)", flush=True
        )
        listener = subprocess.Popen(
            [
                python,
                "-m",
                "producer",
                "simulate",
                "--rate",
                str(args.rate),
                "--models",
                args.models,
            ],
            env=env,
        )
        stack.callback(stop, listener)
        print(
            f"listener: {args.rate}/s simulated selections; Ctrl-C stops everything\n", flush=True
        )
        tail = subprocess.Popen(
            [
                python,
                "-m",
                "producer",
                "tail",
                "--catalog",
                str(BUNDLED_CATALOG),
            ],
            env=env,
        )
        stack.callback(stop, tail)
        with Stop().on_signals() as stopping:
            children = (service, web, listener, tail)
            while not stopping.wait(0.2) and all(p.poll() is None for p in children):
                pass
        print("\nstopping...", flush=True)
        # ExitStack stops tail, listener, web, service (flush + commit), then the broker.
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded demo", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="broker port (default: a free one)")
    parser.add_argument("--metrics-port", type=int, default=9100)
    parser.add_argument("--web-port", type=int, default=8000, help="the HTTP API and the page")
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--models", default="knn")
    parser.add_argument("service_args", nargs="*", help="more flags for the service, after --")
    return demo(parser.parse_args(argv))
