"""Search the catalog by song name or artist, with case, accents and punctuation folded.

Names and artists are folded once (`normalise_text`) at start. Tiers, best first, each in a
stable order, one row per song:

1. the name or the artist starts with the query (alphabetical, so an exact match comes first):
   two binary searches over the sorted folded names and artists, no scan;
2. a later word of either starts with it, 3. it is anywhere in either (catalog order): one
   `bytes.find` scan each, in C, over all rows as one UTF-8 string `\\n<name>\\t<artist>...`
   (UTF-8 is self-synchronising, so a byte match is a character match), stopping as soon as
   `limit` rows are found;
4. for a query of several words: every word starts a word of the name or artist, any order.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterator

from recommender.catalog import Catalog
from recommender.text import normalise_text

_ROW, _FIELD, _SPACE = b"\n", b"\t", b" "
_PAST = b"\xff"  # never in UTF-8: every string starting with q sorts below q + _PAST


class _Sorted:
    """Folded strings in sorted order with their rows: prefix ranges by binary search."""

    def __init__(self, folded: list[bytes]) -> None:
        order = sorted(range(len(folded)), key=folded.__getitem__)
        self.keys = [folded[i] for i in order]
        self.rows = order

    def starting_with(self, q: bytes) -> Iterator[tuple[bytes, int]]:
        start = bisect.bisect_left(self.keys, q)
        stop = bisect.bisect_left(self.keys, q + _PAST, lo=start)
        keys, rows = self.keys, self.rows
        return ((keys[i], rows[i]) for i in range(start, stop))


class TrackSearch:
    def __init__(self, catalog: Catalog) -> None:
        names = [normalise_text(v).encode() for v in catalog.names.tolist()]
        folded: dict[str, bytes] = {}  # artists repeat: fold each once
        artists = [
            folded.get(v) or folded.setdefault(v, normalise_text(v).encode())
            for v in catalog.artists.tolist()
        ]
        self._names, self._artists = _Sorted(names), _Sorted(artists)
        starts, position = [], 0
        for name, artist in zip(names, artists, strict=True):
            starts.append(position)
            position += len(name) + len(artist) + 2
        self._starts = starts
        self._text = b"".join(b"\n%s\t%s" % pair for pair in zip(names, artists, strict=True))
        self._text += _ROW
        self._songs: list[int] = catalog.song_ids.tolist()

    def search(self, query: str, limit: int) -> list[int]:
        """Catalog rows matching `query`, best first, at most `limit`, one row per song."""
        q = normalise_text(query).encode()
        if not q or limit < 1:
            return []
        found: list[int] = []
        songs: set[int] = set()
        tiers = [self._prefix(q), self._find(_SPACE + q), self._find(q)]
        words = q.split(_SPACE)
        if len(words) > 1:
            tiers.append(self._every_word(words))
        for tier in tiers:
            for row in tier:
                if self._songs[row] not in songs:
                    songs.add(self._songs[row])
                    found.append(row)
                    if len(found) >= limit:
                        return found
        return found

    def _prefix(self, q: bytes) -> Iterator[int]:
        merged = heapq.merge(self._names.starting_with(q), self._artists.starting_with(q))
        return (row for _, row in merged)

    def _row_of(self, position: int) -> int:
        return bisect.bisect_right(self._starts, position) - 1

    def _find(self, needle: bytes) -> Iterator[int]:
        """Rows holding `needle`, ascending, each once."""
        text, start, last = self._text, 0, -1
        while (at := text.find(needle, start)) >= 0:
            row = self._row_of(at)
            if row != last:
                yield row
                last = row
            start = self._starts[row + 1] if row + 1 < len(self._starts) else len(text)

    def _every_word(self, words: list[bytes]) -> Iterator[int]:
        """Rows where each word starts a word of the name or artist (any order), in catalog
        order: rows where the rarest word (counted in C) starts a word, from lazy scans, each
        then checked for the others; at most `_WORD_CANDIDATES` rows are checked, which
        bounds the time of a query of very common short words."""
        rarest = min(dict.fromkeys(words[:4]), key=self._text.count)
        starts = _merged(*(self._find(b + rarest) for b in (_ROW, _FIELD, _SPACE)))
        for row in itertools.islice(starts, _WORD_CANDIDATES):
            end = self._starts[row + 1] if row + 1 < len(self._starts) else len(self._text)
            chunk = self._text[self._starts[row] : end].replace(_ROW, _SPACE)
            chunk = chunk.replace(_FIELD, _SPACE)
            if all(_SPACE + word in chunk for word in words):
                yield row


_WORD_CANDIDATES = 5_000


def _merged(*ascending: Iterator[int]) -> Iterator[int]:
    last = -1
    for row in heapq.merge(*ascending):
        if row != last:
            yield row
            last = row
