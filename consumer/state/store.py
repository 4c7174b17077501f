"""The local store: one RocksDB (through rocksdict) per owned partition, under --state-dir.

One store per partition, as Kafka Streams keeps one per task: a partition's store is opened on
assignment and closed on revoke, so two instances on one machine can share a state directory
and a partition that comes back finds its store warm. Keys are user ids; a second column
family holds the store's own bookkeeping, written in the same batch as the states, so a crash
never leaves states and checkpoint apart:

    checkpoint   the changelog offset up to which the store holds every record
    listeners    how many listeners the store holds
    changelog    the changelog's topic id (Kafka's, unique to each topic made): a topic of
                 the same name made anew is another changelog, and the store is emptied
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator, Mapping
from pathlib import Path

from rocksdict import Options, Rdict, WriteBatch

_META = "meta"
_CHECKPOINT = b"checkpoint"
_LISTENERS = b"listeners"
_CHANGELOG = b"changelog"
_INT = struct.Struct(">q")


def _options() -> Options:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    return options


class PartitionStore:
    """The states of one partition's listeners. Not thread-safe: the run loop owns it."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = Rdict(str(path), _options(), column_families={_META: Options(raw_mode=True)})
        self._meta = self._db.get_column_family(_META)
        self._meta_handle = self._db.get_column_family_handle(_META)
        stored = self._meta.get(_LISTENERS)
        self.listeners = _INT.unpack(stored)[0] if stored is not None else 0

    @property
    def checkpoint(self) -> int | None:
        """The changelog offset to restore from; None for a new (cold) store."""
        stored = self._meta.get(_CHECKPOINT)
        return None if stored is None else int(_INT.unpack(stored)[0])

    @property
    def changelog_id(self) -> str | None:
        """The topic id of the changelog the store was restored from; None if not known (a
        new store, one written by a version that did not keep it, or a broker without ids)."""
        stored = self._meta.get(_CHANGELOG)
        return None if stored is None else bytes(stored).decode()

    def set_changelog_id(self, topic_id: str) -> None:
        self._meta[_CHANGELOG] = topic_id.encode()

    def get_many(self, keys: list[bytes]) -> list[bytes | None]:
        """One multi-get."""
        if not keys:
            return []
        found: list[bytes | None] = self._db.get(keys)  # type: ignore[arg-type,assignment]
        return found

    def write(
        self,
        changes: Mapping[bytes, bytes | None],
        existed: Mapping[bytes, bool],
        checkpoint: int | None = None,
    ) -> None:
        """One atomic write batch: puts, deletes (None), the listener count, the checkpoint.

        `existed` says which keys were in the store before (the caller read them)."""
        batch = WriteBatch(raw_mode=True)
        count = self.listeners
        for key, value in changes.items():
            was = existed.get(key, False)
            if value is None:
                batch.delete(key)
                count -= was
            else:
                batch.put(key, value)
                count += not was
        batch.put(_LISTENERS, _INT.pack(count), self._meta_handle)
        if checkpoint is not None:
            batch.put(_CHECKPOINT, _INT.pack(checkpoint), self._meta_handle)
        self._db.write(batch)
        self.listeners = count

    def set_checkpoint(self, offset: int) -> None:
        self.write({}, {}, offset)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        yield from self._db.items()

    def size_bytes(self) -> int:
        """On disk plus in memory tables: what the store costs, roughly."""
        db = self._db
        files = db.property_int_value("rocksdb.total-sst-files-size") or 0
        memory = db.property_int_value("rocksdb.cur-size-all-mem-tables") or 0
        return int(files + memory)

    def close(self) -> None:
        # Column family handles keep the database open: drop them first.
        del self._meta, self._meta_handle
        self._db.close()


class Stores:
    """The open stores of the partitions this instance owns, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[int, PartitionStore] = {}

    def open(self, partition: int) -> PartitionStore:
        store = self._open.get(partition)
        if store is None:
            store = self._open[partition] = PartitionStore(self.root / f"p{partition}")
        return store

    def wipe(self, partition: int) -> PartitionStore:
        """The partition's store, emptied: closed, deleted from disk and opened new."""
        store = self.open(partition)
        self.close(partition)
        shutil.rmtree(store.path, ignore_errors=True)
        return self.open(partition)

    def get(self, partition: int) -> PartitionStore | None:
        return self._open.get(partition)

    def close(self, partition: int) -> None:
        store = self._open.pop(partition, None)
        if store is not None:
            store.close()

    def close_all(self) -> None:
        for partition in list(self._open):
            self.close(partition)

    @property
    def partitions(self) -> list[int]:
        return sorted(self._open)

    def listeners(self) -> int:
        return sum(s.listeners for s in self._open.values())

    def size_bytes(self) -> int:
        return sum(s.size_bytes() for s in self._open.values())
