"""Settings from flags and ENCORE_* variables, and the client configs built from them."""

import logging

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from consumer.kafka_config import consumer_config, producer_config
from consumer.metrics import Metrics
from consumer.settings import Guarantee, Settings, settings_from_args
from kafkaio.config import redacted

SECRET = "hunter2-very-secret"


def test_defaults_match_the_contract():
    s = settings_from_args([])
    assert (s.bootstrap_servers, s.input_topic, s.output_topic, s.dlq_topic, s.group_id) == (
        "localhost:9092", "song-selected", "recommendations", "song-selected.dlq", "encore",
    )  # fmt: skip
    assert s.models == ["knn"] and s.k == 10 and s.metrics_port == 9100
    assert s.metrics_host == "127.0.0.1"
    assert s.processing_guarantee is Guarantee.AT_LEAST_ONCE


def test_flags_override_environment(monkeypatch):
    monkeypatch.setenv("ENCORE_BOOTSTRAP_SERVERS", "env:9092")
    monkeypatch.setenv("ENCORE_MODELS", "knn-cosine,knn")
    monkeypatch.setenv("ENCORE_K", "7")
    s = settings_from_args(["--k", "5", "--features", "energy,valence,key"])
    assert s.features == ["energy", "valence", "key"]
    assert s.bootstrap_servers == "env:9092"
    assert s.models == ["knn-cosine", "knn"]
    assert s.k == 5


def test_bad_values_are_refused():
    with pytest.raises(ValueError):
        settings_from_args(["--k", "0"])
    with pytest.raises(ValueError):
        settings_from_args(["--kafka-option", "no-equals-sign"])


def test_security_options_reach_both_clients_and_never_print(caplog):
    options = [
        "security.protocol=SASL_SSL",
        "sasl.mechanism=SCRAM-SHA-512",
        "sasl.username=encore",
        f"sasl.password={SECRET}",
        "ssl.ca.location=/etc/ssl/ca.pem",
    ]
    s = settings_from_args([arg for o in options for arg in ("--kafka-option", o)])
    for config in (consumer_config(s), producer_config(s)):
        assert config["security.protocol"] == "SASL_SSL"
        assert config["sasl.mechanism"] == "SCRAM-SHA-512"
        assert config["sasl.password"] == SECRET
        assert config["ssl.ca.location"] == "/etc/ssl/ca.pem"
        assert SECRET not in str(redacted(config))
    assert SECRET not in repr(s) and SECRET not in str(s)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings %s config %s", s, redacted(producer_config(s)))
    assert SECRET not in caplog.text


def test_exactly_once_gets_a_stable_transactional_id():
    s = Settings(processing_guarantee="exactly-once", group_id="g", instance_id="3")
    assert producer_config(s)["transactional.id"] == "g-3"
    assert "transactional.id" not in producer_config(Settings())


def test_consumer_never_auto_commits():
    config = consumer_config(Settings())
    assert config["enable.auto.commit"] is False
    assert config["enable.auto.offset.store"] is False


def test_metrics_use_the_registry_given():
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    metrics.dead_letters.labels("unknown_track").inc()
    text = generate_latest(registry).decode()
    assert 'encore_dead_letters_total{reason="unknown_track"} 1.0' in text
    Metrics(CollectorRegistry())  # a second instance does not collide
