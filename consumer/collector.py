"""The service's use of Python's cyclic garbage collector: never inside a batch.

Reference counting frees a batch's objects as soon as the batch is done; the cyclic collector
only finds garbage in cycles, of which a batch makes little. Left to itself it starts
whenever 20,000 more containers are alive than at its last pass, which inside a batch means
walking every object the batch still holds (its messages, seeds, listener states and answers):
with listener state on, a pass of 20-30 ms in nearly every batch of a few thousand events, and
a walk of the older generation of over 100 ms every tenth (measured at 100,000 tracks, 10,000
listeners). Paused while a batch is handled, it runs after it, on what outlived it, on its own
generational schedule (`gc.set_threshold`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

YOUNGEST = 20_000  # net new containers between passes over the youngest generation (700)


def tune() -> None:
    """The models and the catalog are loaded: hide them from the collector (`gc.freeze`),
    and pass over the youngest generation every `YOUNGEST` net new containers, not 700 (the
    listener-state cache keeps ~20 containers per listener alive)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNGEST, 10, 10)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block; a pass due meanwhile runs at the next allocation after
    it. Leaves a collector someone else disabled alone."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
