"""Every supported export, as a tiny file with its real headers, through `load_catalog`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from recommender.features import AUDIO_FEATURES
from recommender.ingest import HeaderError, LoadResult, load_catalog

FEATURES = dict(
    zip(AUDIO_FEATURES, (0.1, 0.5, 0.6, 0.0, 0.12, -6.5, 0.05, 120.0, 0.4), strict=True)
)
TIDYTUESDAY = (
    "track_id,track_name,track_artist,track_popularity,track_album_id,track_album_name,"
    "track_album_release_date,playlist_name,playlist_id,playlist_genre,playlist_subgenre,"
    "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,"
    "liveness,valence,tempo,duration_ms"
)
TRACKS_114K = (
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,"
    "tempo,time_signature,track_genre"
)
SPOTIFY_FEATURES = (
    "genre,artist_name,track_name,track_id,popularity,acousticness,danceability,duration_ms,"
    "energy,instrumentalness,key,liveness,loudness,mode,speechiness,tempo,time_signature,valence"
)
DATA_1921_2020 = (
    "acousticness,artists,danceability,duration_ms,energy,explicit,id,instrumentalness,key,"
    "liveness,loudness,mode,name,popularity,release_date,speechiness,tempo,valence,year"
)
HIT_PREDICTOR = (
    "track,artist,uri,danceability,energy,key,loudness,mode,speechiness,acousticness,"
    "instrumentalness,liveness,valence,tempo,duration_ms,time_signature,chorus_hit,sections,"
    "target,decade"
)


def _load(
    tmp_path: Path,
    headers: str | list[str],
    rows: list[dict[str, object]],
    features: Iterable[str] = AUDIO_FEATURES,
) -> LoadResult:
    """Write the rows under the headers (features default to valid values), then load."""
    names = headers.split(",") if isinstance(headers, str) else headers
    lines = [",".join(names)]
    for row in rows:
        lines.append(",".join(_quote(row.get(h, FEATURES.get(h.lower(), ""))) for h in names))
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    return load_catalog(path, feature_names=tuple(features))


def _quote(value: object) -> str:
    text = str(value)
    return f'"{text}"' if "," in text or '"' in text else text


# fmt: off
def test_tidytuesday_spotify_songs(tmp_path: Path) -> None:
    rows = [
        {"track_id": "a1", "track_name": "Hello", "track_artist": "Adele", "key": 5, "mode": 0,
         "playlist_genre": "pop", "track_popularity": 70, "track_album_release_date": "2015-10-23"},
        {"track_id": "a1", "track_name": "Hello", "track_artist": "Adele", "key": 5,
         "playlist_genre": "r&b", "track_popularity": 70, "track_album_release_date": "2015"},
    ]
    result = _load(tmp_path, TIDYTUESDAY, rows, (*AUDIO_FEATURES, "popularity", "year", "key"))
    assert result.schema.name == "tidytuesday spotify_songs"
    assert result.schema.mapping["artist"] == "track_artist"
    assert len(result.catalog) == 1
    assert result.catalog.labels("playlist_genre").tolist() == ["pop|r&b"]
    assert result.catalog.features[0, -3:].tolist() == [70.0, 2015.0, 5.0]


def test_spotify_tracks_dataset_114k(tmp_path: Path) -> None:
    rows = [
        {"": 0, "track_id": "x1", "artists": "Gen Hoshino;Daichi", "track_name": "Comedy",
         "explicit": "False", "track_genre": "acoustic", "duration_ms": 230666},
        {"": 1, "track_id": "x2", "artists": "Ben Woodward", "track_name": "Ghost",
         "explicit": "True", "track_genre": "acoustic", "duration_ms": 149610},
    ]
    result = _load(tmp_path, TRACKS_114K, rows, (*AUDIO_FEATURES, "explicit", "duration_ms"))
    assert result.schema.name == "spotify tracks dataset (114k)"
    assert result.catalog.artists.tolist() == ["Gen Hoshino, Daichi", "Ben Woodward"]
    assert result.catalog.features[:, -2].tolist() == [0.0, 1.0]
    assert "track_genre" in result.label_columns


def test_spotify_features_csv_with_letter_keys(tmp_path: Path) -> None:
    rows = [
        {"genre": "Movie", "artist_name": "Henri Salvador", "track_name": "C'est beau",
         "track_id": "0BRjO6ga9RKCKjfDqeFgWV", "key": "C#", "mode": "Major"},
        {"genre": "Movie", "artist_name": "Martin & les fées", "track_name": "Perdu",
         "track_id": "0BjC1NfoEOOusryehmNudP", "key": "F#", "mode": "Minor"},
    ]
    result = _load(tmp_path, SPOTIFY_FEATURES, rows, (*AUDIO_FEATURES, "key", "mode"))
    assert result.schema.name == "SpotifyFeatures"
    assert result.catalog.features[:, -2:].tolist() == [[1.0, 1.0], [6.0, 0.0]]


def test_data_1921_2020_with_artist_list_literal(tmp_path: Path) -> None:
    rows = [{"artists": "['Sergei Rachmaninoff', 'James Levine']", "id": "4BJqT0PrAfrxzMOxytFOIz",
             "name": "Piano Concerto No. 3", "explicit": 0, "year": 1921}]
    result = _load(tmp_path, DATA_1921_2020, rows, (*AUDIO_FEATURES, "year"))
    assert result.schema.name == "spotify data 1921-2020"
    assert result.catalog.artists.tolist() == ["Sergei Rachmaninoff, James Levine"]
    assert result.catalog.features[0, -1] == 1921.0


def test_hit_predictor_uri_becomes_track_id(tmp_path: Path) -> None:
    rows = [{"track": "Jealous Kind Of Fella", "artist": "Garland Green", "target": 1,
             "uri": "spotify:track:1dtKN6wwlolkM8XZy2y9C1", "decade": 1960}]
    result = _load(tmp_path, HIT_PREDICTOR, rows)
    assert result.schema.name == "hit predictor"
    assert result.catalog.track_ids.tolist() == ["1dtKN6wwlolkM8XZy2y9C1"]
    assert result.catalog.names.tolist() == ["Jealous Kind Of Fella"]


def test_capitalised_headers_without_id_get_stable_ids(tmp_path: Path) -> None:
    headers = ["Track Name", "Artist Name(s)", "Genre", *(f.capitalize() for f in AUDIO_FEATURES)]
    headers[headers.index("Valence")] = "Positiveness"
    rows = [
        {"Track Name": "  Hey   Jude ", "Artist Name(s)": "The Beatles", "Genre": "rock"},
        {"Track Name": "hey jude!", "Artist Name(s)": "the beatles", "Genre": "pop"},
        {"Track Name": "Yesterday", "Artist Name(s)": "The Beatles", "Genre": "rock"},
    ]
    rows = [{**row, "Positiveness": 0.7} for row in rows]
    first, again = _load(tmp_path, headers, rows), _load(tmp_path, headers, rows)
    assert first.schema.derives_ids
    assert first.schema.mapping["valence"] == "Positiveness"
    assert first.catalog.track_ids.tolist() == again.catalog.track_ids.tolist()
    # Same normalised name+artist -> same derived id -> one row with both labels.
    assert len(first.catalog) == 2
    assert first.catalog.names[0] == "Hey Jude"
    assert sorted(first.catalog.labels("Genre")[0].split("|")) == ["pop", "rock"]
# fmt: on


def test_seed_variance_column_is_valence(tmp_path: Path) -> None:
    headers = ["id", "name", "artist", *AUDIO_FEATURES[:-1], "variance"]
    row = {"id": "s1", "name": "A", "artist": "B", "variance": 0.33}
    catalog = _load(tmp_path, headers, [row]).catalog
    assert np.isclose(catalog.features[0, -1], 0.33)


def test_unknown_schema_lists_missing_columns_and_accepted_names(tmp_path: Path) -> None:
    with pytest.raises(HeaderError) as error:
        _load(tmp_path, "song,singer,danceability", [{}])
    message = str(error.value)
    assert "missing columns" in message
    assert "energy: accepts energy" in message
    assert "valence: accepts valence, positiveness" in message
    assert "artist: accepts artist, track_artist" in message
