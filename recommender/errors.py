"""Every error Encore raises on purpose, and the one way a command turns it into an exit.

    EncoreError
    ├── ConfigurationError    a flag, variable or option that cannot work
    │   └── ModelError        a configured model cannot be served (unknown, no artifact)
    ├── CatalogError          a catalog missing, unreadable, or not a known export
    │   ├── HeaderError       no column for a required role (the header mapping)
    │   └── MissingColumn     a label column asked for that the catalog lacks
    ├── ArtifactError         a saved model cannot be used
    │   ├── ArtifactNotFound  none (complete) under the root; also a FileNotFoundError
    │   └── ArtifactMismatch  trained on another catalog or feature list
    ├── DeliveryFailed        the broker did not take a batch's outputs (retried, never exits)
    └── RequestError          a request's controls cannot be answered; names the `field`
        └── UnknownTrack      a seed id the catalog does not hold

Configuration, catalog and artifact errors are the user's to fix: every command prints one
line on stderr and exits 2 (`run_command`). Anything else is a bug and keeps its traceback.
A request error is the sender's: the service dead-letters it (`unknown_track` for
`UnknownTrack`, `invalid_schema` otherwise) and the HTTP API answers 422.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = [
    "ArtifactError",
    "ArtifactMismatch",
    "ArtifactNotFound",
    "CatalogError",
    "ConfigurationError",
    "DeliveryFailed",
    "EncoreError",
    "HeaderError",
    "MissingColumn",
    "ModelError",
    "RequestError",
    "UnknownTrack",
    "run_command",
]

EXIT_USAGE = 2


class EncoreError(Exception):
    """The root: an error Encore raises on purpose, with a message meant for its user."""


class ConfigurationError(EncoreError, ValueError):
    """A flag, environment variable or model option that cannot work."""


class ModelError(ConfigurationError):
    """A configured model cannot be served: unknown, or no usable artifact."""


class CatalogError(EncoreError, ValueError):
    """A catalog file is missing or unreadable, or its rows cannot form a catalog."""


class HeaderError(CatalogError):
    """An export lacks a column for a required role (track id, a feature, ...)."""


class MissingColumn(CatalogError, KeyError):
    """A column asked for (a label column, say) that the catalog does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ArtifactError(EncoreError):
    """An artifact cannot be used."""


class ArtifactNotFound(ArtifactError, FileNotFoundError):
    """No (complete) artifact of that model or version under the root."""


class ArtifactMismatch(ArtifactError):
    """The artifact was trained on another catalog or feature list than the one given."""


class DeliveryFailed(EncoreError):
    """The broker did not acknowledge every output of a batch; its input must not be committed."""


class RequestError(EncoreError, ValueError):
    """A request's controls are invalid (min above max, an unknown feature, too many seeds).

    `field` is the request field at fault (`min_tempo`, `seed_track_ids`, ...); the message
    starts with it.
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem

    def __reduce__(self) -> tuple[type[RequestError], tuple[str, str]]:
        return type(self), (self.field, self.problem)


class UnknownTrack(RequestError):
    """A seed track id that is not in the catalog."""


def run_command(main: Callable[[], int], prog: str) -> int:
    """Run a command's body; a user's error becomes one line on stderr and exit status 2."""
    try:
        return main()
    except (ConfigurationError, CatalogError, ArtifactError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
