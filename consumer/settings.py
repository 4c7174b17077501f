"""Service settings: one frozen object built in `main()` from flags and ENCORE_* variables."""

from __future__ import annotations

import argparse
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Guarantee(StrEnum):
    AT_LEAST_ONCE = "at-least-once"
    EXACTLY_ONCE = "exactly-once"


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def parse_kafka_options(pairs: list[str]) -> dict[str, str]:
    """`key=value` strings -> dict; the key is librdkafka's dotted name."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--kafka-option takes key=value, got {pair!r}")
        options[key.strip()] = value
    return options


class Settings(BaseSettings):
    """Everything the service is configured with. Secrets stay `SecretStr` until the client."""

    model_config = SettingsConfigDict(env_prefix="ENCORE_", frozen=True, extra="forbid")

    bootstrap_servers: str = "localhost:9092"
    input_topic: str = "song-selected"
    output_topic: str = "recommendations"
    dlq_topic: str = "song-selected.dlq"
    group_id: str = "encore"
    instance_id: str = Field(default="0", description="Stable per instance (transactional.id).")
    catalog: Path | None = Field(default=None, description="Catalog CSV; default: bundled.")
    models: Annotated[list[str], NoDecode] = ["knn"]
    artifacts: Path = Path("artifacts")
    train_missing: bool = False
    reload_interval_s: float = 5.0
    k: int = Field(default=10, ge=1, le=100)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9100
    partitions: int = Field(default=6, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    processing_guarantee: Guarantee = Guarantee.AT_LEAST_ONCE
    # Short group timeouts: a dead instance's partitions move within seconds.
    session_timeout_ms: int = Field(default=6000, ge=1000)
    heartbeat_interval_ms: int = Field(default=500, ge=100)
    batch_size: int = Field(default=1000, ge=1)
    batch_timeout_s: float = Field(default=0.05, gt=0)
    max_event_bytes: int = Field(default=64 * 1024, ge=64)
    stall_timeout_s: float = Field(default=30.0, gt=0)
    kafka_options: Annotated[dict[str, SecretStr], NoDecode] = {}

    @field_validator("models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator("kafka_options", mode="before")
    @classmethod
    def _parse_options(cls, value: object) -> object:
        if isinstance(value, str):  # ENCORE_KAFKA_OPTIONS="a=1,b=2"
            return parse_kafka_options(_comma_list(value))  # type: ignore[arg-type]
        return value

    @field_validator("models")
    @classmethod
    def _some_models(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one model is required")
        return value


def _flag_names() -> list[str]:
    return [name for name in Settings.model_fields if name != "kafka_options"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m consumer",
        description="Encore: song selections in, ranked recommendations out. "
        "Every flag is also an environment variable ENCORE_<NAME>.",
    )
    for name in _flag_names():
        field = Settings.model_fields[name]
        flag = "--" + name.replace("_", "-")
        if field.annotation is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        else:
            parser.add_argument(flag, default=None, help=f"default: {field.default}")
    parser.add_argument(
        "--kafka-option",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="librdkafka setting for both clients (security.protocol, sasl.*, ssl.*); repeatable",
    )
    return parser


def settings_from_args(argv: list[str] | None = None) -> Settings:
    """Flags override environment variables, which override defaults."""
    args = build_parser().parse_args(argv)
    given: dict[str, Any] = {
        name: value for name in _flag_names() if (value := getattr(args, name)) is not None
    }
    if args.kafka_option:
        given["kafka_options"] = parse_kafka_options(args.kafka_option)
    return Settings(**given)
