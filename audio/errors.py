"""`UnusableAudio`: a file that yields no features, with the reason, never a crash."""

from __future__ import annotations

# Reasons, as counted and reported: what went wrong with the file, not with Encore.
EMPTY = "empty"  # zero bytes
NOT_AUDIO = "not_audio"  # no decoder here recognises the format
UNREADABLE = "unreadable"  # recognised, but decoding failed (truncated, corrupt)
TOO_SHORT = "too_short"  # under `decode.MIN_SECONDS` of sound
SILENT = "silent"  # overall level under `extract.SILENCE_DBFS`


class UnusableAudio(ValueError):
    """A file skipped for `reason` (one of the constants above); `str()` says why in words."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason

    def __reduce__(self) -> tuple[type[UnusableAudio], tuple[str, str]]:
        # Raised in a worker process and re-raised in the parent: pickled with its reason.
        return (UnusableAudio, (self.reason, str(self)))
