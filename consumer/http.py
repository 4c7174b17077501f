"""HTTP on the metrics port: /metrics, /healthz (loop alive), /readyz (able to serve)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class Health:
    """State the loop writes and the HTTP thread reads; plain attributes, no locking needed."""

    def __init__(self, stall_timeout_s: float) -> None:
        self.stall_timeout_s = stall_timeout_s
        self.topics_ready = False
        self.model_loaded = False
        self.assigned = 0
        self.catalog_replayed = True  # False from start until the catalog topic is replayed
        self.last_progress = time.monotonic()
        self.stopping = False
        self.restoring = False  # listener state being read back from the changelog

    def progressed(self) -> None:
        self.last_progress = time.monotonic()

    @property
    def ready(self) -> bool:
        return (
            self.topics_ready
            and self.model_loaded
            and self.catalog_replayed
            and self.assigned > 0
            and not self.stopping
            and not self.restoring
        )

    def live(self) -> tuple[bool, str]:
        stalled = time.monotonic() - self.last_progress
        if stalled > self.stall_timeout_s:
            return False, f"no progress for {stalled:.1f}s\n"
        return True, "ok\n"

    def readiness(self) -> tuple[bool, str]:
        parts = {
            "topics": self.topics_ready,
            "model": self.model_loaded,
            "catalog": self.catalog_replayed,
            "partitions": self.assigned > 0,
            "running": not self.stopping,
            "state": not self.restoring,
        }
        text = "".join(f"{k}: {'ok' if v else 'no'}\n" for k, v in parts.items())
        return self.ready, text


def serve_http(
    host: str, port: int, registry: CollectorRegistry, health: Health
) -> ThreadingHTTPServer:
    """Start the server on a daemon thread; `shutdown()` it to stop."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok, text = health.live()
                self._send(200 if ok else 503, text.encode())
            elif self.path == "/readyz":
                ok, text = health.readiness()
                self._send(200 if ok else 503, text.encode())
            else:
                self._send(404, b"not found\n")

        def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # scrapes are not news
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="encore-http", daemon=True).start()
    return server
