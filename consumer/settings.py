"""Service settings: one frozen object built in `main()` from flags and ENCORE_* variables."""

from __future__ import annotations

import argparse
import re
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from kafkaio.config import KafkaSettings, OptionValue
from recommender.errors import ConfigurationError
from recommender.features import DEFAULT_FEATURE_SET


class Guarantee(StrEnum):
    AT_LEAST_ONCE = "at-least-once"
    EXACTLY_ONCE = "exactly-once"


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def duration_s(value: object) -> object:
    """`30d`, `12h`, `90m`, `45s` or a number of seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration (30d, 12h, 90m, 45s or seconds)")
        return float(match.group(1)) * _UNIT_S[match.group(2)]
    return value


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# Set by the service itself: its delivery guarantees depend on them (or a flag sets them).
SERVICE_OWNED_OPTIONS = frozenset(
    {
        "group.id",
        "enable.auto.commit",
        "enable.auto.offset.store",
        "isolation.level",
        "enable.idempotence",
        "transactional.id",
        "delivery.report.only.error",
    }
)


class Settings(KafkaSettings):
    """Everything the service is configured with. `bootstrap_servers` and `kafka_options`
    (`--kafka-option`) come from `KafkaSettings`; `settings.kafka` is the connection."""

    model_config = SettingsConfigDict(
        env_prefix="ENCORE_", frozen=True, extra="forbid", hide_input_in_errors=True
    )

    input_topic: str = Field("song-selected", description="Where song-selected events arrive")
    output_topic: str = Field("recommendations", description="Where recommendations go")
    dlq_topic: str = Field("song-selected.dlq", description="Where unusable events go")
    catalog_topic: str = Field(
        "encore.catalog",
        description="Compacted topic of tracks added, changed (key: track_id) and removed "
        "(a null value); every instance reads all of it. Empty: the catalog file only",
    )
    catalog_dlq_topic: str = Field(
        "encore.catalog.dead-letters", description="Where unusable catalog records go"
    )
    group_id: str = Field(
        "encore", description="Consumer group: instances sharing it split the work"
    )
    instance_id: str = Field("0", description="Stable per instance (names its transactional.id)")
    catalog: Path | None = Field(None, description="Catalog CSV (default: the bundled catalog)")
    features: Annotated[list[str], NoDecode] = Field(
        [DEFAULT_FEATURE_SET],
        description="auto (the nine audio features plus every extra the catalog has: year, "
        "popularity, key, mode, duration, explicit, time signature), audio (the nine), or a "
        "comma list",
    )
    models: Annotated[list[str], NoDecode] = Field(
        ["knn"],
        description="Comma list of knn, knn-cosine, pca, autoencoder, supervised; first is default",
    )
    artifacts: Path = Field(Path("artifacts"), description="Trained model artifacts directory")
    index: Literal["auto", "exact", "hnsw"] = Field(
        "auto", description="Neighbour search: HNSW graph above 10,000 songs with auto"
    )
    train_missing: bool = Field(False, description="Train (and save) models with no artifact")
    label_column: Annotated[list[str], NoDecode] = Field(
        [],
        description="The label column --train-missing trains supervised on (default: genre); "
        "repeatable, one softmax head each, as `python -m recommender train --label-column`. "
        "Given, an artifact trained on other labels does not fit (trained anew or refused)",
    )
    reload_interval_s: float = Field(5.0, gt=0, description="How often to look for new versions")
    k: int = Field(10, ge=1, le=100, description="Recommendations per event unless it asks")
    answer_cache: int = Field(
        100_000, ge=0, description="Answers kept per model for repeated catalog seeds (0: off)"
    )
    metrics_host: str = Field("127.0.0.1", description="HTTP bind address (0.0.0.0 in a container)")
    metrics_port: int = Field(9100, description="HTTP port of /metrics, /healthz, /readyz")
    partitions: int = Field(6, ge=1, description="Partitions of the topics Encore creates")
    replication_factor: int = Field(1, ge=1, description="Replication of the topics it creates")
    processing_guarantee: Guarantee = Field(
        Guarantee.AT_LEAST_ONCE, description="at-least-once or exactly-once (transactions)"
    )
    # Short group timeouts: a dead instance's partitions move within seconds.
    session_timeout_ms: int = Field(6000, ge=1000, description="Consumer group session timeout")
    heartbeat_interval_ms: int = Field(500, ge=100, description="Consumer group heartbeat")
    # Large batches amortise the per-batch costs (one search call, one flush, one commit):
    # 1,000 -> 8,000 took 100k-track throughput from ~38k to ~46-50k events/s here. Under
    # light load batches stay small: the loop wakes on the first message.
    batch_size: int = Field(8000, ge=1, description="Most messages handled per batch")
    batch_timeout_s: float = Field(0.1, gt=0, description="Longest idle wait for input")
    max_event_bytes: int = Field(64 * 1024, ge=64, description="Larger events are dead-lettered")
    stall_timeout_s: float = Field(30.0, gt=0, description="/healthz fails after this long stuck")
    # Listener state (consumer/state): history, recent answers and taste per user_id.
    state: bool = Field(
        True, description="Keep per-listener state (history, shown, taste); --no-state: none"
    )
    state_dir: Path = Field(
        Path(tempfile.gettempdir()) / "encore-state",
        description="Local stores, one per partition, under <dir>/<group>/<input topic>",
    )
    state_topic: str = Field("encore.listeners", description="Compacted changelog of the state")
    feedback_topic: str = Field("song-feedback", description="Where play/skip/like/dislike arrive")
    history: int = Field(50, ge=1, le=1000, description="Selections and feedback kept per listener")
    shown: int = Field(3, ge=0, le=100, description="Last answers whose songs are not shown again")
    profile_half_life: float = Field(
        10.0, gt=0, description="Taste profile half-life, in selections"
    )
    state_cache: int = Field(
        50_000,
        ge=0,
        description="Listeners kept decoded in memory (about 10 KB each); 0: decode every time",
    )
    state_ttl: Annotated[float, Field(gt=0)] = Field(
        30 * 86400.0, description="Listeners idle this long are forgotten (30d, 12h, seconds)"
    )
    variant: Annotated[list[str], NoDecode] = Field(
        [], description="NAME=MODEL[:SHARE], repeatable: A/B split of listeners by user_id hash"
    )

    @field_validator("state_ttl", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return duration_s(value)

    @field_validator("models", "features", "variant", "label_column", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        return _comma_list(value)

    @field_validator("kafka_options")
    @classmethod
    def _not_owned(cls, value: dict[str, OptionValue]) -> dict[str, OptionValue]:
        owned = sorted(SERVICE_OWNED_OPTIONS.intersection(value))
        if owned:
            raise ValueError(f"{', '.join(owned)}: set by the service, not an option")
        return value

    @field_validator("catalog")
    @classmethod
    def _catalog_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no catalog file at {value}")
        return value

    @field_validator("models")
    @classmethod
    def _some_models(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one model is required")
        return value


def _flag_names(cls: type[Settings]) -> list[str]:
    return [name for name in cls.model_fields if name != "kafka_options"]


def build_parser(
    cls: type[Settings] = Settings,
    prog: str = "python -m consumer",
    description: str = "Encore: song selections in, ranked recommendations out.",
) -> argparse.ArgumentParser:
    """One flag per settings field (`--input-topic` for `input_topic`), all optional."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=f"{description} Every flag is also an environment variable ENCORE_<NAME>.",
    )
    for name in _flag_names(cls):
        field = cls.model_fields[name]
        flag = "--" + name.replace("_", "-")
        if name in REPEATABLE:
            parser.add_argument(flag, action="append", default=None, help=field.description)
        elif field.annotation is bool:
            parser.add_argument(
                flag, action=argparse.BooleanOptionalAction, default=None, help=field.description
            )
        else:
            default = field.default
            shown = (
                ",".join(default)
                if isinstance(default, list)
                else getattr(default, "value", default)
            )
            parser.add_argument(flag, default=None, help=f"{field.description} (default: {shown})")
    parser.add_argument(
        "--kafka-option",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="librdkafka setting for every client (security.protocol, sasl.*, ssl.*); repeatable",
    )
    return parser


SettingsT = TypeVar("SettingsT", bound=Settings)

# Flags given once per value (`--variant a=knn --variant b=pca`).
REPEATABLE = frozenset({"variant", "label_column"})


def settings_from_args(
    argv: list[str] | None = None,
    cls: type[SettingsT] = Settings,  # type: ignore[assignment]
    parser: argparse.ArgumentParser | None = None,
) -> SettingsT:
    """Flags override environment variables, which override defaults.

    A value that cannot work (a bad number, an unknown choice) is a `ConfigurationError`
    naming the setting, so the command exits 2 with one line.
    """
    args = (parser or build_parser(cls)).parse_args(argv)
    given: dict[str, Any] = {
        name: value for name in _flag_names(cls) if (value := getattr(args, name)) is not None
    }
    try:
        if args.kafka_option:
            given["kafka_options"] = args.kafka_option
        return cls(**given)
    except (ValidationError, ValueError) as exc:
        raise ConfigurationError(_settings_problem(exc)) from None


def _settings_problem(exc: Exception) -> str:
    if not isinstance(exc, ValidationError):
        return str(exc)
    problems = []
    for error in exc.errors():
        flag = "--" + "-".join(str(p) for p in error["loc"]).replace("_", "-")
        if error["loc"][:1] == ("kafka_options",):
            flag = "--kafka-option"
        problems.append(f"{flag}: {error['msg'].removeprefix('Value error, ')}")
    return "invalid settings: " + "; ".join(problems)
