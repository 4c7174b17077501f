"""Header mapping: which column of an export plays which role, whatever the export calls it.

Headers are compared after folding (case, spaces and punctuation to `_`), then matched against
the synonyms below, first synonym first. A file that lacks a required role fails with a
`HeaderError` listing what is missing and the names each missing role accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from recommender.errors import HeaderError
from recommender.features import DERIVED_FROM, EXTRACTED_FEATURES, audio_features, source_role

# Role -> accepted (folded) header names, preferred first.
IDENTITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "track_id": ("track_id", "id", "spotify_id", "song_id", "track_uri", "uri", "spotify_uri"),
    "track_name": ("track_name", "name", "track", "title", "song", "song_name", "track_title"),
    "artist": (
        "artist",
        "track_artist",
        "artists",
        "artist_name",
        "artist_names",
        "artist_name_s",
        "artists_names",
    ),
}

FEATURE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "acousticness": ("acousticness", "acoustic", "acousticness_pct"),
    "danceability": ("danceability", "danceable"),
    "energy": ("energy",),
    "instrumentalness": ("instrumentalness", "instrumental"),
    "liveness": ("liveness", "live"),
    "loudness": ("loudness", "loudness_db", "loud"),
    "speechiness": ("speechiness", "speech"),
    "tempo": ("tempo", "bpm", "tempo_bpm"),
    # `variance` is what the seed project's exports called valence.
    "valence": ("valence", "positiveness", "positivity", "variance"),
    # Optional extras, encoded by `recommender.ingest.encoding` when present.
    "key": ("key", "track_key"),
    "mode": ("mode",),
    "popularity": ("popularity", "track_popularity", "song_popularity"),
    "explicit": ("explicit", "is_explicit"),
    "year": (
        "year",
        "release_year",
        "release_date",
        "track_album_release_date",
        "album_release_date",
    ),
    "duration_ms": ("duration_ms", "duration", "duration_s", "duration_sec", "duration_min"),
    "time_signature": ("time_signature", "time_sig", "timesignature"),
    # The features extracted from sound (`catalog from-audio`), under their own names.
    **{name: (name,) for name in EXTRACTED_FEATURES if name not in ("tempo", "loudness")},
}

# Columns whose values are labels: duplicates keep the union of them (see `cleaning`).
LABEL_HINTS: tuple[str, ...] = ("genre", "playlist_name", "playlist_id")

# Known exports, recognised by headers only they carry (for the report; mapping is generic).
KNOWN_SCHEMAS: tuple[tuple[str, frozenset[str]], ...] = (
    ("tidytuesday spotify_songs", frozenset({"track_artist", "playlist_genre"})),
    ("spotify tracks dataset (114k)", frozenset({"track_genre", "album_name", "artists"})),
    ("SpotifyFeatures", frozenset({"genre", "artist_name", "track_id"})),
    ("spotify data 1921-2020", frozenset({"id", "name", "artists", "year"})),
    ("hit predictor", frozenset({"uri", "track", "artist"})),
    ("encore", frozenset({"track_id", "track_name", "artist"})),
)

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold_header(header: object) -> str:
    """`' Artist Name(s) '` -> `'artist_name_s'`."""
    return _NOT_WORD.sub("_", str(header).strip().casefold()).strip("_")


@dataclass(frozen=True)
class HeaderMatch:
    """The detected schema: a name for the report and role -> source header."""

    name: str
    mapping: dict[str, str]

    @property
    def derives_ids(self) -> bool:
        return "track_id" not in self.mapping


def _find(folded: dict[str, str], synonyms: Sequence[str], taken: set[str]) -> str | None:
    for synonym in synonyms:
        header = folded.get(synonym)
        if header is not None and header not in taken:
            return header
    return None


def match_headers(headers: Iterable[object], features: Sequence[str]) -> HeaderMatch:
    """Map identity roles, the requested features and any optional extras to source headers.

    A derived feature (`key_sin`) requires its source role (`key`).
    """
    names = [str(h) for h in headers]
    folded: dict[str, str] = {}
    for header in names:
        folded.setdefault(fold_header(header), header)
    unknown = [f for f in features if source_role(f) not in FEATURE_SYNONYMS]
    if unknown:
        known = sorted({*FEATURE_SYNONYMS, *DERIVED_FROM})
        raise HeaderError(f"unknown features {unknown}; known: {known}")
    mapping: dict[str, str] = {}
    roles = {**IDENTITY_SYNONYMS, **FEATURE_SYNONYMS}
    for role, synonyms in roles.items():
        source = _find(folded, synonyms, set(mapping.values()))
        if source is not None:
            mapping[role] = source
    missing = list(dict.fromkeys(source_role(f) for f in features if source_role(f) not in mapping))
    if "track_id" not in mapping:
        missing += [r for r in ("track_name", "artist") if r not in mapping]
    if missing:
        raise HeaderError(_missing_message(missing, names))
    present = set(folded)
    name = next((n for n, needs in KNOWN_SCHEMAS if needs <= present), "generic")
    return HeaderMatch(name, mapping)


def audio_features_in(headers: Iterable[object]) -> tuple[str, ...]:
    """The audio features an export's headers carry: the nine Spotify ones, or the extracted
    ones (`recommender.features.audio_features`); the nine when it has neither, so that the
    error names what a Spotify export lacks."""
    folded = {fold_header(h) for h in headers}
    roles = [r for r, synonyms in FEATURE_SYNONYMS.items() if folded.intersection(synonyms)]
    return audio_features(roles)


def _missing_message(missing: Sequence[str], headers: Sequence[str]) -> str:
    roles = {**IDENTITY_SYNONYMS, **FEATURE_SYNONYMS}
    lines = [f"unknown catalog schema: missing columns {', '.join(missing)}"]
    for role in missing:
        lines.append(f"  {role}: accepts {', '.join(roles[role])}")
    if "track_name" in missing or "artist" in missing:
        lines.append("  (or a track id column: " + ", ".join(IDENTITY_SYNONYMS["track_id"]) + ")")
    lines.append(f"  found: {', '.join(headers)}")
    return "\n".join(lines)


def label_columns(headers: Iterable[str], mapping: dict[str, str]) -> list[str]:
    """Source headers that hold labels (genres, playlists), excluding mapped roles."""
    used = set(mapping.values())
    return [h for h in headers if h not in used and any(t in fold_header(h) for t in LABEL_HINTS)]
