"""`Stop`: the one request to finish that a command's loop checks; SIGTERM and SIGINT set it.

A signal handler only sets a flag: the loop sees it between batches (or between waits), so
the work in hand is finished, flushed and committed instead of interrupted mid-call.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import time
from collections.abc import Iterator
from types import FrameType

__all__ = ["Stop"]

log = logging.getLogger(__name__)

# `wait` sleeps in slices this long, so a stop set by a signal or a thread is seen promptly.
_SLICE_S = 0.05


class Stop:
    """Set once, from a signal handler, another thread or the loop itself; never cleared.

    Deliberately not a `threading.Event`: its `set()` takes a lock, and a signal handler that
    interrupts the main thread inside `Event.wait()` can deadlock on it.
    """

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """Sleep until set or `timeout` seconds passed; returns `is_set()`."""
        deadline = time.monotonic() + timeout
        while not self._set and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, _SLICE_S))
        return self._set

    @contextlib.contextmanager
    def on_signals(self, *signals: signal.Signals) -> Iterator[Stop]:
        """Within the block, these signals (default SIGTERM and SIGINT) set the stop; the
        previous handlers come back after."""
        signals = signals or (signal.SIGTERM, signal.SIGINT)

        def handle(signum: int, _frame: FrameType | None) -> None:
            log.info("%s: finishing the work in hand", signal.Signals(signum).name)
            self.set()

        previous = {sig: signal.signal(sig, handle) for sig in signals}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
