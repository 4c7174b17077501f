"""Settings from flags and ENCORE_* variables, and the client configs built from them."""

import argparse
import logging

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import SecretStr

from consumer.kafka_config import consumer_config, producer_config
from consumer.metrics import Metrics
from consumer.settings import Guarantee, Settings, settings_from_args
from kafkaio.config import (
    KafkaConnection,
    KafkaSettings,
    add_connection_args,
    connection_from_args,
    is_secret,
    redacted,
)
from recommender.errors import ConfigurationError

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


SECRET_KEYS = [
    "sasl.password",
    "sasl.jaas.config",
    "sasl.oauthbearer.config",
    "sasl.oauthbearer.client.secret",
    "ssl.key.pem",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl_key",
    "some.plugin.secret",  # the pattern: whatever a plugin or a new release adds
    "vendor.api.token",
    "ssl.truststore.password",
]
PLAIN_KEYS = ["security.protocol", "sasl.username", "ssl.ca.location", "ssl.key.location"]


@pytest.mark.parametrize("key", SECRET_KEYS)
def test_secret_options_are_held_as_secrets_and_revealed_only_to_the_client(key):
    connection = KafkaConnection(options=[f"{key}={SECRET}"])
    assert is_secret(key)
    assert isinstance(connection.options[key], SecretStr)
    assert SECRET not in repr(connection) and SECRET not in str(connection)
    assert connection.client_config()[key] == SECRET
    assert redacted(connection.client_config())[key] == "***"


@pytest.mark.parametrize("key", PLAIN_KEYS)
def test_other_options_stay_readable(key):
    connection = KafkaConnection(options={key: "x"})
    assert not is_secret(key) and connection.options[key] == "x"
    assert redacted(connection.client_config())[key] == "x"


def test_user_options_win_over_a_clients_defaults_but_not_over_the_brokers():
    connection = KafkaConnection(bootstrap_servers="b:9092", options=["linger.ms=50"])
    config = connection.client_config(**{"linger.ms": 5, "acks": "all"})
    assert config == {"linger.ms": "50", "acks": "all", "bootstrap.servers": "b:9092"}


@pytest.mark.parametrize(
    "option, problem",
    [
        ("Security.Protocol=SSL", "not a librdkafka setting name"),
        ("sasl password=x", "not a librdkafka setting name"),
        ("bootstrap.servers=elsewhere:9092", "--bootstrap-servers"),
        (f"sasl.password:{SECRET}", "without '='"),
        ("enable.auto.commit=true", "set by the service"),
        ("group.id=other", "set by the service"),
    ],
)
def test_a_bad_option_is_one_line_that_never_echoes_a_value(option, problem):
    with pytest.raises(ConfigurationError) as refused:
        settings_from_args(["--kafka-option", option])
    message = str(refused.value)
    assert message.startswith("invalid settings: --kafka-option: ") and problem in message
    assert SECRET not in message and "\n" not in message


def test_the_environment_takes_comma_separated_options_with_commas_in_values(monkeypatch):
    monkeypatch.setenv(
        "ENCORE_KAFKA_OPTIONS", f"ssl.cipher.suites=A,B, sasl.password={SECRET},linger.ms=5"
    )
    options = settings_from_args([]).kafka.options
    assert options["ssl.cipher.suites"] == "A,B" and options["linger.ms"] == "5"
    assert options["sasl.password"].get_secret_value() == SECRET
    # Flags replace the variable's options.
    assert settings_from_args(["--kafka-option", "linger.ms=1"]).kafka.options == {"linger.ms": "1"}


def test_the_service_and_the_producer_commands_build_the_same_connection(monkeypatch):
    monkeypatch.setenv("ENCORE_BOOTSTRAP_SERVERS", "env:9092")
    flags = ["--kafka-option", f"sasl.password={SECRET}", "--kafka-option", "linger.ms=5"]
    parser = argparse.ArgumentParser()
    add_connection_args(parser)
    assert connection_from_args(parser.parse_args(flags)) == settings_from_args(flags).kafka
    assert connection_from_args(parser.parse_args([])).bootstrap_servers == "env:9092"
    with pytest.raises(ConfigurationError, match="not a librdkafka setting name"):
        connection_from_args(parser.parse_args(["--kafka-option", "Bad=1"]))


def test_a_child_process_gets_the_connection_through_its_environment(monkeypatch):
    connection = KafkaConnection(
        bootstrap_servers="b:9092", options=[f"sasl.password={SECRET}", "ssl.cipher.suites=A,B"]
    )
    for name, value in connection.environment().items():
        monkeypatch.setenv(name, value)
    assert KafkaSettings().kafka == connection
    # No options: the variable is still set (empty), so an inherited one cannot leak through.
    assert KafkaConnection().environment()["ENCORE_KAFKA_OPTIONS"] == ""


def test_the_consumer_reports_statistics_only_to_a_callback():
    assert "statistics.interval.ms" not in consumer_config(Settings())
    config = consumer_config(Settings(), stats_cb=print)
    assert config["stats_cb"] is print and config["statistics.interval.ms"] == 5000
    assert redacted(config)["stats_cb"] == "print"
