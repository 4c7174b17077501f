"""Several models served side by side, chosen per event, and swapped in under load."""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from pathlib import Path

import pytest
from harness import PacedProducer, answered, metric_values, produce, read_topic, wait_until
from test_end_to_end import CATALOG, valid_events
from test_faults import value_id

from producer.events import encode, selection
from recommender.artifacts import save_artifact
from recommender.training import train_model

FAST = {"pca": {}, "autoencoder": {"epochs": 15, "patience": 3}}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("artifacts")
    for name, options in FAST.items():
        save_artifact(train_model(name, CATALOG, options=options), root)
    return root


def test_each_event_gets_the_model_it_asks_for(service_factory, topics, broker, artifacts):
    servers = broker.bootstrap_servers
    names = ["knn", "pca", "autoencoder"]
    events = [
        encode(
            selection(
                f"u{i}", track_id=str(CATALOG.track_ids[i]), model=names[i % 3], event_id=f"m-{i}"
            )
        )
        for i in range(300)
    ]
    events.append(
        encode(selection("u", track_id=str(CATALOG.track_ids[0]), model=None, event_id="default"))
    )
    with service_factory("--models", ",".join(names), "--artifacts", str(artifacts)) as service:
        produce(servers, topics[0], events)
        answers = [
            json.loads(m.value()) for m in read_topic(servers, topics[1], 301, 60, settle_s=0.5)
        ]
        info = metric_values(service.metrics(), "encore_model_info")
    by_id = {a["event_id"]: a for a in answers}
    assert len(by_id) == 301
    versions = defaultdict(set)
    for i in range(300):
        answer = by_id[f"m-{i}"]
        assert answer["model"] == names[i % 3]
        versions[answer["model"]].add(answer["model_version"])
        assert all(isinstance(item["cluster"], int) for item in answer["items"])
    assert by_id["default"]["model"] == "knn"
    for name in ("pca", "autoencoder"):
        assert versions[name] == {sorted(p.name for p in (artifacts / name).iterdir())[-1]}
    assert len(info) == 3


def test_a_missing_model_is_refused_unless_asked_to_train(service_factory, tmp_path):
    refused = service_factory("--models", "knn,pca", "--artifacts", str(tmp_path / "empty"))
    refused.start(wait_ready_s=None)
    assert refused.process.wait(60) == 2
    assert "--train-missing" in refused.log_tail()

    trained = service_factory(
        "--models", "pca", "--artifacts", str(tmp_path / "new"), "--train-missing"
    )
    with trained:
        assert (tmp_path / "new" / "pca").is_dir()


@pytest.mark.parametrize("trigger", ["new version appears", "SIGHUP"])
def test_hot_reload_under_load_loses_nothing(trigger, service_factory, topics, broker, tmp_path):
    servers = broker.bootstrap_servers
    root = tmp_path / "artifacts"
    old = save_artifact(train_model("pca", CATALOG), root).name
    args = ["--models", "pca", "--artifacts", str(root)]
    # Polling is off for the SIGHUP case, so only the signal can trigger the swap.
    args += ["--reload-interval-s", "0.2" if trigger == "new version appears" else "3600"]
    service = service_factory(*args).start()
    # Twelve seconds of load: the swap lands well inside it even on a busy machine.
    events = valid_events(12_000, f"reload-{trigger}")
    load = PacedProducer(servers, topics[0], events, rate=1_000)
    load.start()
    wait_until(
        lambda: metric_values(service.metrics(), "encore_selections_consumed_total")[""] >= 1_500,
        60,
        "load",
    )
    new = save_artifact(train_model("pca", CATALOG, options={"components": 5}), root).name
    if trigger == "SIGHUP":
        service.signal(signal.SIGHUP)
    wait_until(
        lambda: metric_values(service.metrics(), "encore_model_reloads_total")[""] >= 1,
        30,
        "reload",
    )
    load.finish()
    counts = answered(servers, topics[1], {value_id(v) for _, v in events}, 60, settle_s=1)
    messages = read_topic(servers, topics[1], sum(counts.values()), 30)
    service.stop()

    assert set(counts) == {value_id(v) for _, v in events}, "nothing lost"
    assert max(counts.values()) == 1, "nothing answered twice"
    per_partition = defaultdict(list)
    for m in sorted(messages, key=lambda m: (m.partition(), m.offset())):
        per_partition[m.partition()].append(json.loads(m.value())["model_version"])
    for sequence in per_partition.values():
        # Old answers, then new ones: once swapped, never back.
        switch = sequence.index(new) if new in sequence else len(sequence)
        assert set(sequence[:switch]) <= {old} and set(sequence[switch:]) <= {new}
    assert any(new in s for s in per_partition.values())


def test_the_label_trained_model_is_served_through_the_broker(
    service_factory, topics, broker, tmp_path
):
    servers = broker.bootstrap_servers
    root = tmp_path / "artifacts"
    options = {"label_column": "genre", "epochs": 10, "patience": 3}
    version = save_artifact(train_model("supervised", CATALOG, options=options), root).name
    events = [
        encode(selection(f"u{i}", track_id=str(CATALOG.track_ids[i]), model="supervised",
                         event_id=f"s-{i}"))
        for i in range(200)
    ]  # fmt: skip
    with service_factory("--models", "knn,supervised", "--artifacts", str(root)):
        produce(servers, topics[0], events)
        answers = [json.loads(m.value()) for m in read_topic(servers, topics[1], 200, 60)]
    assert {a["model"] for a in answers} == {"supervised"}
    assert {a["model_version"] for a in answers} == {version}
    assert all(len(a["items"]) == 10 for a in answers)
