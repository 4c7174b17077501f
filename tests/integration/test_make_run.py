"""`make run` as a user meets it: `python -m embedded demo` starts its own broker, the service,
the API with its page, a simulated listener and a tail; answers flow; Ctrl-C stops it all.

The one test with a broker of its own: the broker is part of what `make run` does.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from embedded.broker import free_port
from tests.harness import http_get, metric_values, terminate, wait_until


def test_make_run_answers_on_screen_and_on_the_page_then_stops_on_ctrl_c(tmp_path: Path) -> None:
    metrics, web = free_port(), free_port()
    log = tmp_path / "demo.log"
    command = [
        sys.executable, "-m", "embedded", "demo",
        "--metrics-port", str(metrics), "--web-port", str(web), "--rate", "20",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENCORE_")}
    scratch = tmp_path / "tmp"  # the demo's TMPDIR: its listener stores go there
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    with log.open("wb") as out:  # in a folder of its own: artifacts and state land there
        demo = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:

        def published() -> float:
            if demo.poll() is not None:
                raise RuntimeError(f"demo exited {demo.returncode}:\n{log.read_text()[-3000:]}")
            try:
                status, text = http_get(f"http://127.0.0.1:{metrics}/metrics")
            except OSError:  # not listening yet
                return 0.0
            if status != 200:
                return 0.0
            return sum(metric_values(text, "encore_recommendations_published_total").values())

        wait_until(lambda: published() >= 5, 180, "the demo's first answers")
        status, page = http_get(f"http://127.0.0.1:{web}/")
        assert status == 200 and 'id="search"' in page and 'id="recommendations"' in page
        status, _ = http_get(f"http://127.0.0.1:{web}/readyz")
        assert status == 200
        # The tail prints each answer: the seed, then its recommendations.
        wait_until(lambda: " picked " in log.read_text(errors="replace"), 30, "the tail's lines")
        assert list(scratch.glob("encore-demo-state-*/encore/song-selected/p*"))  # in use

        demo.send_signal(signal.SIGINT)  # Ctrl-C
        assert demo.wait(60) == 0, log.read_text()[-3000:]
    finally:
        if demo.poll() is None:
            terminate(demo, 10)
    text = log.read_text(errors="replace")
    assert "stopping..." in text
    # The tail names the seed song (the bundled catalog's names are "Song NNNNNNN").
    assert re.search(r"\] user-\d+ picked Song \d+ - Artist \d+", text), text[-3000:]
    # The stores died with the in-memory broker: the next demo finds none written from
    # another changelog (it would empty them with a warning per partition).
    assert not list(scratch.glob("encore-demo-state-*"))
    assert not (scratch / "encore-state").exists()
    for port in (metrics, web):  # the service and the API are gone with it
        with pytest.raises(OSError):
            http_get(f"http://127.0.0.1:{port}/healthz", timeout_s=1)
