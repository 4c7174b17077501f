"""What an operator (and KEDA) reads on /metrics: consumer lag per partition, last answer."""

from __future__ import annotations

from harness import answered, metric_values, produce, wait_until
from test_end_to_end import valid_events
from test_faults import value_id

# librdkafka reports statistics every 5 s by default; a test need not wait that long.
FAST_STATS = ("--kafka-option", "statistics.interval.ms=500")


def lag(service) -> dict[str, float]:
    return metric_values(service.metrics(), "encore_consumer_lag")


def test_lag_per_partition_and_the_last_answer_show_on_metrics(service_factory, topics, broker):
    servers = broker.bootstrap_servers
    events = valid_events(300, "lag")
    with service_factory(*FAST_STATS) as service:
        before = metric_values(service.metrics(), "encore_last_answer_timestamp_seconds")[""]
        produce(servers, topics[0], events)
        answered(servers, topics[1], {value_id(v) for _, v in events}, 60, settle_s=0)
        # Every input answered and committed: each assigned partition shows up with lag 0.
        wait_until(
            lambda: lag(service) == {f'partition="{p}",topic="{topics[0]}"': 0 for p in range(3)},
            30,
            f"lag 0 on all three partitions (last seen {lag(service)})",
        )
        last = metric_values(service.metrics(), "encore_last_answer_timestamp_seconds")[""]
        assert before == 0 and last > 0

    # The same group, now unable to deliver: what arrives stays behind the committed offsets.
    stuck = service_factory(*FAST_STATS, "--kafka-option", "message.max.bytes=1000").start()
    behind = valid_events(120, "behind")
    produce(servers, topics[0], behind)
    wait_until(
        lambda: sum(lag(stuck).values()) == len(behind),
        30,
        f"lag of {len(behind)} in all (last seen {lag(stuck)})",
    )
    assert len(lag(stuck)) == 3
    assert stuck.stop() == 0
