"""Text folding for matching names: one song is one normalised name+artist."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def normalise_text(text: object) -> str:
    """Fold a name for matching: accents off, case folded, punctuation dropped, spaces collapsed."""
    if not isinstance(text, str):
        return ""
    if text.isascii():  # most names: no accents to take off, and casefold is lower
        folded = text.lower()
    else:
        folded = unicodedata.normalize("NFKD", text)
        folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def song_keys(track_ids: Iterable[Any], names: Iterable[Any], artists: Iterable[Any]) -> list[str]:
    """One key per song: normalised name+artist, or the track id where either is missing."""
    keys = []
    folded: dict[object, str] = {}  # an artist has many tracks: fold each spelling once
    for track_id, name, artist in zip(track_ids, names, artists, strict=True):
        n = normalise_text(name)
        a = folded.get(artist)
        if a is None:
            a = folded[artist] = normalise_text(artist)
        keys.append(f"{n}\x1f{a}" if n and a else f"\x00{track_id}")
    return keys
