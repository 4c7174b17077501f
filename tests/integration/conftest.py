"""One real broker for the whole session; a fresh set of topics and a group per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import ServiceProcess, create_topics

from embedded.broker import LocalBroker


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with LocalBroker(log_path=log) as running:
        yield running


@pytest.fixture
def topics(broker: LocalBroker) -> tuple[str, str, str]:
    """(input, output, dead letters), created before any service subscribes."""
    tag = uuid.uuid4().hex[:8]
    names = (f"in-{tag}", f"out-{tag}", f"dlq-{tag}")
    create_topics(broker.bootstrap_servers, names, partitions=3)
    return names


@pytest.fixture
def service_factory(
    broker: LocalBroker, topics: tuple[str, str, str], tmp_path: Path
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
