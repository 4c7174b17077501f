"""One Kafka connection config: the brokers and librdkafka options, parsed and checked once.

Options come in as `key=value` (`--kafka-option`, repeatable, or `ENCORE_KAFKA_OPTIONS=
"k=v,k=v"`). Each key must look like a librdkafka setting name, and the value of every secret
key is held as `SecretStr`: `repr`, `str` and logs show `**********`. Only `client_config`
and `environment` reveal them, for a client or a child process; `redacted` masks a config
for a log line.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from recommender.errors import ConfigurationError

__all__ = [
    "SECRET_KEYS",
    "KafkaConnection",
    "KafkaOptions",
    "KafkaSettings",
    "add_connection_args",
    "connection_from_args",
    "is_secret",
    "parse_options",
    "redacted",
]

OptionValue = str | SecretStr

# librdkafka's names: lowercase words joined by dots (`ssl_key` and a few others use `_`).
_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*")
# In "a=1,b=x,y": split only at a comma that starts another `key=`, so values may hold commas.
_PAIR_BOUNDARY = re.compile(r",(?=\s*[a-z][a-z0-9_.]*=)")

# Settings that hold credentials. The pattern below catches these too; the list says what we
# know of, the pattern what a new librdkafka release or a plugin may add.
SECRET_KEYS = frozenset(
    {
        "sasl.password",
        "sasl.jaas.config",
        "sasl.oauthbearer.config",
        "sasl.oauthbearer.client.secret",
        "ssl.key.pem",
        "ssl.key.password",
        "ssl.keystore.password",
        "ssl_key",
    }
)
_SECRET_PATTERN = re.compile(r"secret|password|token|jaas|key\.pem|oauthbearer\.config|ssl_key")
MASK = "***"


def is_secret(key: str) -> bool:
    """Whether the value of `key` must never be printed."""
    key = key.lower()
    return (
        key in SECRET_KEYS
        or key.endswith((".password", ".secret"))
        or _SECRET_PATTERN.search(key) is not None
    )


def _pairs(value: str | Iterable[str]) -> Iterable[tuple[str, str]]:
    items = _PAIR_BOUNDARY.split(value) if isinstance(value, str) else value
    for item in items:
        if isinstance(item, str) and not item.strip():
            continue
        if not isinstance(item, str) or "=" not in item:
            # Never echo it: a mistyped `sasl.password:...` would print the password.
            shown = repr(item) if isinstance(item, str) and _KEY.fullmatch(item) else "a value"
            raise ValueError(f"kafka options take key=value, got {shown} without '='")
        key, _, option = item.partition("=")
        yield key.strip(), option


def _text(value: object) -> OptionValue:
    if isinstance(value, SecretStr | str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    raise ValueError(f"a kafka option value is text or a number, not {type(value).__name__}")


def parse_options(value: object) -> dict[str, OptionValue]:
    """`["k=v", ...]`, `"k=v,k=v"` or a mapping -> checked options, secrets as `SecretStr`."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        pairs: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, str | list | tuple):
        pairs = _pairs(value)
    else:
        raise ValueError(f"kafka options are key=value pairs, not {type(value).__name__}")
    options: dict[str, OptionValue] = {}
    for key, raw in pairs:
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(
                f"kafka option {key!r} is not a librdkafka setting name "
                "(lowercase words joined by dots, such as security.protocol)"
            )
        if key == "bootstrap.servers":
            raise ValueError("give bootstrap.servers with --bootstrap-servers, not as an option")
        option = _text(raw)
        if is_secret(key) and isinstance(option, str):
            option = SecretStr(option)
        options[key] = option
    return options


KafkaOptions = Annotated[dict[str, OptionValue], BeforeValidator(parse_options), NoDecode]


def _reveal(value: object) -> object:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


class KafkaConnection(BaseModel):
    """Where the brokers are and how to talk to them; the same for every client of a command."""

    # A refused value is never echoed in an error: it may be a secret.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    bootstrap_servers: str = "localhost:9092"
    options: KafkaOptions = Field(default_factory=dict)

    def client_config(self, **extra: Any) -> dict[str, Any]:
        """The librdkafka config of one client: `extra` (the caller's settings for it, such as
        `**{"linger.ms": 5}` or `stats_cb=`), the user's options over them (so tuning and
        security reach every client), and the brokers. Secrets are revealed here only."""
        config = dict(extra)
        config.update({key: _reveal(value) for key, value in self.options.items()})
        config["bootstrap.servers"] = self.bootstrap_servers
        return config

    def environment(self) -> dict[str, str]:
        """ENCORE_* variables that give a child process this connection. Secrets travel in
        the environment, never in argv, which any user can read with `ps`."""
        options = ",".join(f"{key}={_reveal(value)}" for key, value in self.options.items())
        # Always both: an inherited ENCORE_KAFKA_OPTIONS must not reach another cluster.
        return {"ENCORE_BOOTSTRAP_SERVERS": self.bootstrap_servers, "ENCORE_KAFKA_OPTIONS": options}


def redacted(config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` with secret values masked (and callbacks by name): what a log may print."""
    return {
        key: MASK
        if is_secret(key) or isinstance(value, SecretStr)
        else getattr(value, "__qualname__", value)
        if callable(value)
        else value
        for key, value in config.items()
    }


class KafkaSettings(BaseSettings):
    """The connection settings every command takes: flags, or ENCORE_BOOTSTRAP_SERVERS and
    ENCORE_KAFKA_OPTIONS. The service's `Settings` extends it."""

    model_config = SettingsConfigDict(
        env_prefix="ENCORE_", frozen=True, extra="forbid", hide_input_in_errors=True
    )

    bootstrap_servers: str = Field("localhost:9092", description="Kafka brokers, host:port,...")
    kafka_options: KafkaOptions = Field(
        default_factory=dict, description="librdkafka settings for every client"
    )

    @property
    def kafka(self) -> KafkaConnection:
        # Not cached: `model_copy(update=...)` would carry a stale one along.
        return KafkaConnection(bootstrap_servers=self.bootstrap_servers, options=self.kafka_options)


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """`--bootstrap-servers` and `--kafka-option`; read back with `connection_from_args`."""
    parser.add_argument(
        "--bootstrap-servers",
        default=None,
        help="Kafka brokers, host:port,... (default: $ENCORE_BOOTSTRAP_SERVERS or localhost:9092)",
    )
    parser.add_argument(
        "--kafka-option",
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="librdkafka setting for every client (security.protocol, sasl.*, ssl.*); "
        "repeatable; default: $ENCORE_KAFKA_OPTIONS",
    )


def option_problems(exc: ValidationError) -> str:
    """One line for a user: what is wrong with the given options."""
    return "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())


def connection_from_args(args: argparse.Namespace) -> KafkaConnection:
    """Flags over ENCORE_* variables over defaults; a bad option is a `ConfigurationError`."""
    given: dict[str, Any] = {}
    if args.bootstrap_servers is not None:
        given["bootstrap_servers"] = args.bootstrap_servers
    if args.kafka_option is not None:
        given["kafka_options"] = args.kafka_option
    try:
        return KafkaSettings(**given).kafka
    except ValidationError as exc:
        raise ConfigurationError(f"--kafka-option: {option_problems(exc)}") from None
