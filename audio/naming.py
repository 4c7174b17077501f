"""A track's id from its content, and its name and artist from tags, else from its file name.

Tags come from mutagen (ID3 in MP3 and WAV, Vorbis comments, MP4 atoms), which reads what
libsndfile does not: libsndfile sees only RIFF INFO and Vorbis comments (`decode.Clip`),
and most taggers write ID3. A file name "Artist - Title.ext" gives both; any other gives
the title.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ID_PREFIX = "aud"  # 3 + 19 hex characters: 22, the length of a Spotify id
ID_DIGITS = 19


def content_id(path: Path) -> str:
    """A stable id from the file's bytes: the same file anywhere has the same id."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return ID_PREFIX + digest.hexdigest()[:ID_DIGITS]


def tagged_name(path: Path) -> tuple[str, str]:
    """(title, artist) from the file's tags; empty strings for what it does not say."""
    try:
        import mutagen
    except ImportError:  # the `audio` extra brings it; without it, libsndfile's view only
        return "", ""
    try:
        tagged = mutagen.File(path, easy=True)
    except Exception:  # a tag reader's failure must not cost the file its sound
        return "", ""
    tags = getattr(tagged, "tags", None)
    if tags is None:
        return "", ""
    return _first(tags, "title", "TIT2"), _first(tags, "artist", "TPE1")


def _first(tags: object, *keys: str) -> str:
    for key in keys:
        try:
            value = tags[key]  # type: ignore[index]
        except (KeyError, ValueError, TypeError):
            continue
        text = value.text if hasattr(value, "text") else value  # an ID3 frame, or a list
        if isinstance(text, list | tuple):
            text = text[0] if text else ""
        if str(text).strip():
            return str(text).strip()
    return ""


def name_from_file(file_name: str) -> tuple[str, str]:
    """`"Daft Punk - One More Time.wav"` -> ("One More Time", "Daft Punk"); else (stem, "")."""
    stem = Path(file_name).stem.strip()
    artist, sep, title = stem.partition(" - ")
    if sep and artist.strip() and title.strip():
        return title.strip(), artist.strip()
    return stem, ""


def track_name(tags: tuple[str, str], metadata: tuple[str, str], file_name: str) -> tuple[str, str]:
    """Title and artist, each from the first source that has it: the tags, the file's own
    metadata, then the file name."""
    from_file = name_from_file(file_name)
    title = tags[0] or metadata[0] or from_file[0]
    return title, tags[1] or metadata[1] or from_file[1]
