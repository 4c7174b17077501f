"""A bounded LRU of encoded recommendation lists for catalog seeds.

For a given model version the neighbours of a catalog track never change, and listeners pick
popular songs again and again: a hit skips the search and the encoding. Each model set has
its own caches, so a hot reload starts them empty.
"""

from __future__ import annotations

from collections import OrderedDict

# Seed row, k, with_features, and whether the answer went through the rules stage (v2).
Key = tuple[int, int, bool] | tuple[int, int, bool, str]


class AnswerCache:
    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> bytes | None:
        body = self._entries.get(key)
        if body is not None:
            self._entries.move_to_end(key)
        return body

    def put(self, key: Key, body: bytes) -> None:
        self._entries[key] = body
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
