"""An array that grows by doubling, so appending a few rows costs O(rows), not O(n).

`view()` is the first `len` rows of the current buffer. A view taken earlier keeps its own
length and stays valid when the buffer grows (it then keeps the old buffer), so an object
built on a view never sees rows appended after it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Growable"]

_MIN_SPARE = 1024


class Growable:
    def __init__(self, initial: np.ndarray, dtype: Any = None) -> None:
        initial = np.asarray(initial, dtype=dtype)
        n = len(initial)
        self._data = np.empty((n + max(_MIN_SPARE, n // 8), *initial.shape[1:]), initial.dtype)
        self._data[:n] = initial
        self._length = n

    def __len__(self) -> int:
        return self._length

    @property
    def capacity(self) -> int:
        return len(self._data)

    def append(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        need = self._length + len(values)
        if need > len(self._data):
            grown = np.empty(
                (max(need, 2 * len(self._data)), *self._data.shape[1:]), self._data.dtype
            )
            grown[: self._length] = self._data[: self._length]
            self._data = grown
        self._data[self._length : need] = values
        self._length = need

    def set(self, rows: int | np.ndarray, values: object) -> None:
        """Overwrite existing rows in place (seen by every view of the current buffer)."""
        self._data[rows] = values

    def __getitem__(self, rows: int | np.ndarray | list[int]) -> Any:
        return self._data[: self._length][rows]

    def view(self) -> np.ndarray:
        view: np.ndarray = self._data[: self._length]
        return view
