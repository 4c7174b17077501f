"""One real broker for the whole session; a fresh set of topics and a group per test.

The broker is an embedded Tansu started here, or, when ENCORE_TEST_BROKERS is set (e.g.
`localhost:9092`, the docker-compose Kafka), that external broker. Tests that freeze the broker
process (SIGSTOP) need one this session owns, so they skip against an external broker.
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from harness import ServiceProcess, client_config, create_topics, web_process

from embedded.broker import LocalBroker

EXTERNAL = os.environ.get("ENCORE_TEST_BROKERS", "").strip()
NOT_OURS = (
    f"freezes the broker process (SIGSTOP), which needs the embedded broker; "
    f"ENCORE_TEST_BROKERS={EXTERNAL} is a broker this session does not own"
)


class ExternalBroker:
    """A running broker the tests use but do not own: it cannot be paused."""

    def __init__(self, bootstrap_servers: str) -> None:
        self.bootstrap_servers = bootstrap_servers

    def pause(self) -> None:
        pytest.skip(NOT_OURS)

    def resume(self) -> None:
        pass


def _freezes_the_broker(item: pytest.Item) -> bool:
    function = getattr(item, "function", None)
    try:
        return function is not None and "broker.pause(" in inspect.getsource(function)
    except (OSError, TypeError):
        return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)
            if EXTERNAL and _freezes_the_broker(item):
                item.add_marker(pytest.mark.skip(reason=NOT_OURS))


def _reachable(servers: str, timeout_s: float = 15.0) -> None:
    try:
        AdminClient(client_config(servers)).list_topics(timeout=timeout_s)
    except KafkaException as exc:
        pytest.exit(f"ENCORE_TEST_BROKERS={servers} is not reachable: {exc}", returncode=2)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker | ExternalBroker]:
    if EXTERNAL:
        _reachable(EXTERNAL)
        yield ExternalBroker(EXTERNAL)
        return
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with LocalBroker(log_path=log) as running:
        yield running


@pytest.fixture
def topics(broker: LocalBroker | ExternalBroker) -> tuple[str, str, str]:
    """(input, output, dead letters), created before any service subscribes."""
    tag = uuid.uuid4().hex[:8]
    names = (f"in-{tag}", f"out-{tag}", f"dlq-{tag}")
    create_topics(broker.bootstrap_servers, names, partitions=3)
    return names


@pytest.fixture
def service_factory(
    broker: LocalBroker | ExternalBroker, topics: tuple[str, str, str], tmp_path: Path
) -> Iterator[callable]:
    """Make services on this test's topics, one group; all are stopped at the end."""
    group = f"encore-{uuid.uuid4().hex[:8]}"
    made: list[ServiceProcess] = []

    def make(*args: str, **env: str) -> ServiceProcess:
        service = ServiceProcess(broker.bootstrap_servers, topics, group, args, env, tmp_path)
        made.append(service)
        return service

    yield make
    for service in made:
        if service.process is not None and service.process.poll() is None:
            service.kill()


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    from faults import ROWS, table

    if ROWS:
        terminalreporter.write_sep("=", "fault tests")
        terminalreporter.write_line(table())


@pytest.fixture
def web_args() -> list[str]:
    """More flags for the `web` fixture's `python -m web`: a test module overrides this."""
    return []


@pytest.fixture
def web(
    broker: LocalBroker, topics: tuple[str, str, str], tmp_path: Path, web_args: list[str]
) -> Iterator[str]:
    """`python -m web` on this test's topics; its URL once ready and reading the output topic."""
    input_topic, output_topic, _ = topics
    args = [
        "--bootstrap-servers", broker.bootstrap_servers,
        "--input-topic", input_topic, "--output-topic", output_topic, *web_args,
    ]  # fmt: skip
    with web_process(args, tmp_path / "web.log", wait_kafka=True) as url:
        yield url
