"""Drive a real service against a real broker: used by the integration tests and benchmarks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from embedded.broker import free_port
from kafkaio.config import KafkaConnection
from kafkaio.produce import poll_until, produce_all
from kafkaio.produce import produce as produce_one

# A broker address, or a whole connection (an external cluster's security options).
Servers = str | KafkaConnection


def connection(servers: Servers) -> KafkaConnection:
    if isinstance(servers, KafkaConnection):
        return servers
    return KafkaConnection(bootstrap_servers=servers)


def client_config(servers: Servers, **extra: Any) -> dict[str, Any]:
    return connection(servers).client_config(**extra)


def wait_until(
    condition: Callable[[], bool], timeout_s: float, what: str, step_s: float = 0.1
) -> None:
    """Poll `condition` until it holds; raise TimeoutError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(step_s)


@contextmanager
def web_process(
    args: Sequence[str], log: Path, *, wait_kafka: bool = False, timeout_s: float = 60.0
) -> Iterator[str]:
    """`python -m web` with `args` on a free port (instance id `web-<port>`), its output in
    `log`; yields its URL once `/readyz` answers and, with `wait_kafka`, it reads the output
    topic. Terminated on the way out (killed if it does not stop)."""
    port = free_port()
    command = [
        sys.executable, "-m", "web", "--port", str(port), "--instance-id", f"web-{port}", *args,
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ)
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"web exited {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if not httpx.get(f"{url}/readyz", timeout=2).is_success:
                return False
            return not wait_kafka or bool(httpx.get(f"{url}/v1/status", timeout=2).json()["kafka"])
        except httpx.HTTPError:
            return False

    try:
        wait_until(ready, timeout_s, "the API ready" + (" and reading Kafka" if wait_kafka else ""))
        yield url
    finally:
        terminate(process, 30)


def terminate(process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout_s`."""
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def create_topics(servers: Servers, names: Iterable[str], partitions: int = 3) -> None:
    admin = AdminClient(client_config(servers))
    futures = admin.create_topics([NewTopic(n, num_partitions=partitions) for n in names])
    for future in futures.values():
        future.result(timeout=30)  # the admin client stays referenced until every future resolves


def produce(
    servers: Servers, topic: str, messages: Iterable[tuple[bytes | None, bytes | None]]
) -> int:
    producer = Producer(client_config(servers, **{"linger.ms": 5, "enable.idempotence": True}))
    sent = produce_all(producer, ((topic, key, value, None) for key, value in messages))
    if producer.flush(60) != 0:
        raise RuntimeError("input not delivered")
    return sent


def reader(servers: Servers, topic: str, isolation: str = "read_committed") -> Consumer:
    """A consumer of every partition of `topic` from the beginning, outside any group's work."""
    consumer = Consumer(
        client_config(
            servers,
            **{
                "group.id": f"reader-{topic}",
                "enable.auto.commit": False,
                "isolation.level": isolation,
            },
        )
    )
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    return consumer


def read_topic(
    servers: Servers,
    topic: str,
    expected: int,
    timeout_s: float,
    settle_s: float = 0.0,
    isolation: str = "read_committed",
) -> list[Message]:
    """Every message of `topic` from the beginning, once `expected` arrived (then `settle_s`
    more, to catch extras), or whatever arrived by the deadline."""
    consumer = reader(servers, topic, isolation)
    found: list[Message] = []
    deadline = time.monotonic() + timeout_s
    settle_until: float | None = None
    try:
        while time.monotonic() < deadline:
            if settle_until is None and len(found) >= expected:
                settle_until = time.monotonic() + settle_s
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            for message in consumer.consume(1000, 0.2):
                if not message.error():
                    found.append(message)
    finally:
        consumer.close()
    return found


def committed_offsets(servers: Servers, group: str, topic: str) -> dict[int, int]:
    consumer = Consumer(client_config(servers, **{"group.id": group}))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        tps = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return {tp.partition: tp.offset for tp in tps}
    finally:
        consumer.close()


def http_get(url: str, timeout_s: float = 2.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric_values(text: str, name: str) -> dict[str, float]:
    """Samples of one metric from Prometheus text: {'label="x"': value} ('' without labels)."""
    values = {}
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            head, _, value = line.rpartition(" ")
            labels = head[len(name) :].strip("{}")
            if head[len(name) :][:1] in ("", "{"):
                values[labels] = float(value)
    return values


@dataclass
class ServiceProcess:
    """`python -m consumer` in a subprocess with its own topics, group and metrics port."""

    servers: Servers
    topics: tuple[str, str, str]
    group: str
    args: Sequence[str] = ()
    env: dict[str, str] = field(default_factory=dict)
    log_dir: Path = Path("/tmp")
    metrics_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"encore-{self.group}-{self.metrics_port}.log"

    def command(self) -> list[str]:
        input_topic, output_topic, dlq_topic = self.topics
        return [
            sys.executable, "-m", "consumer",
            "--bootstrap-servers", connection(self.servers).bootstrap_servers,
            "--input-topic", input_topic,
            "--output-topic", output_topic,
            "--dlq-topic", dlq_topic,
            "--group-id", self.group,
            "--metrics-port", str(self.metrics_port),
            *self._state_args(),
            *self.args,
        ]  # fmt: skip

    def _state_args(self) -> list[str]:
        """Listener state of this test's own: its changelog and feedback topics beside its
        input topic, its stores under the test's directory (unless the test gives them)."""
        input_topic = self.topics[0]
        given = set(self.args)
        defaults = {
            "--state-topic": f"{input_topic}.listeners",
            "--feedback-topic": f"{input_topic}.feedback",
            "--state-dir": str(self.log_dir / "state"),
        }
        return [x for flag, value in defaults.items() if flag not in given for x in (flag, value)]

    def start(self, wait_ready_s: float | None = 60.0) -> ServiceProcess:
        # The connection's options travel in the environment, like any secret should.
        env = {**os.environ, **connection(self.servers).environment(), **self.env}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env
            )
        if wait_ready_s:
            self.wait_ready(wait_ready_s)
        return self

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"service exited with {self.process.returncode}:\n{self.log_tail()}")
        try:
            return http_get(self.url + "/readyz")[0] == 200
        except OSError:
            return False

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        wait_until(self.ready, timeout_s, f"service ready\n{self.log_tail()}")

    def metrics(self) -> str:
        return http_get(self.url + "/metrics")[1]

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM and wait: the service finishes its batch, commits and exits."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def answered(
    servers: Servers,
    topic: str,
    expected_ids: set[str],
    timeout_s: float,
    settle_s: float = 1.0,
    isolation: str = "read_committed",
) -> Counter[str]:
    """How many times each event_id was answered on `topic`: read until every expected id is
    there (then `settle_s` more, to catch late duplicates) or the deadline passes."""
    consumer = reader(servers, topic, isolation)
    counts: Counter[str] = Counter()
    deadline = time.monotonic() + timeout_s
    settle_until: float | None = None
    try:
        while time.monotonic() < (settle_until or deadline):
            for message in consumer.consume(1000, 0.2):
                if not message.error():
                    counts[json.loads(message.value() or b"{}").get("event_id", "")] += 1
            if settle_until is None and expected_ids <= counts.keys():
                settle_until = time.monotonic() + settle_s
    finally:
        consumer.close()
    return counts


class PacedProducer(threading.Thread):
    """Produces `events` at `rate` per second on a thread, paced by the clock."""

    def __init__(
        self,
        servers: Servers,
        topic: str,
        events: list[tuple[bytes, bytes]],
        rate: float,
        linger_ms: int = 5,
    ) -> None:
        super().__init__(daemon=True)
        self.servers, self.topic, self.events, self.rate = servers, topic, events, rate
        self.linger_ms = linger_ms
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            producer = Producer(client_config(self.servers, **{"linger.ms": self.linger_ms}))
            start = time.monotonic()
            for key, value in self.events:
                poll_until(producer, start + self.sent / self.rate)
                produce_one(producer, self.topic, value, key)
                self.sent += 1
            if producer.flush(120) != 0:
                raise RuntimeError("paced input not delivered")
        except BaseException as exc:  # reported by finish()
            self.error = exc

    def finish(self, timeout_s: float = 180) -> int:
        self.join(timeout_s)
        if self.is_alive():
            raise TimeoutError("paced producer did not finish")
        if self.error is not None:
            raise self.error
        return self.sent
