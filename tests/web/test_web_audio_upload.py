"""`POST /v1/tracks/audio` and `GET /v1/tracks/{id}/audio` in process, on a catalog of
generated clips, the catalog topic replaced by a recording publisher (the broker's part is
tests/integration/test_audio_upload_live.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import soundfile as sf

pytest.importorskip("librosa")

from audio_clips import SR, STYLES
from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from web_api import FakePublisher, FakeReader, TestClient, make_api, problem

from audio.extract import extract_features
from audio.naming import ID_PREFIX
from consumer.serving import ModelSet
from recommender.catalog import Catalog
from recommender.features import EXTRACTED_FEATURES
from recommender.recommender import knn
from schemas import CatalogTrack
from web.app import create_app
from web.settings import WebSettings
from web.state import ModelState
from web.uploads import AudioUploads

ADMIN = "admin-s3cret"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PER_STYLE = 3


@dataclass
class RecordingPublisher:
    published: list[CatalogTrack] = field(default_factory=list)

    async def publish(self, key: str, value: bytes | None) -> None:
        assert value is not None  # uploads add tracks, they never remove one
        track = CatalogTrack.model_validate_json(value)
        assert key == track.track_id
        self.published.append(track)

    def close(self) -> None:
        pass


def clip_catalog() -> Catalog:
    rows = []
    for style, make in STYLES.items():
        for n in range(PER_STYLE):
            features = extract_features(make(3.0, 7000 + n))
            rows.append({"track_id": f"{style}-{n}", "track_name": f"{style} {n}",
                         "artist": f"{style} band {n}", "genre": style, **features})  # fmt: skip
    return Catalog.from_frame(pd.DataFrame(rows), EXTRACTED_FEATURES, extra_columns=["genre"])


def wav_bytes(style: str, seed: int, seconds: float = 3.0) -> bytes:
    out = io.BytesIO()
    sf.write(out, STYLES[style](seconds, seed), SR, format="WAV")
    return out.getvalue()


@dataclass
class Uploads:
    client: TestClient
    publisher: RecordingPublisher
    folder: Path


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Uploads]:
    catalog = clip_catalog()
    state = ModelState(lambda: ModelSet(catalog, [knn(catalog, version="knn-clips")]))
    state.load_now()
    folder = tmp_path_factory.mktemp("uploads")
    settings = WebSettings(admin_token=SecretStr(ADMIN), upload_dir=folder, max_upload_mb=0.5, k=3)
    publisher = RecordingPublisher()
    # Forked from this process, which has librosa loaded: no second start-up (`python -m
    # web` spawns its worker; tests/integration/test_audio_upload_live.py runs that one).
    store = AudioUploads(folder, 512 << 10, publisher, start_method="fork")
    app = create_app(
        settings,
        CollectorRegistry(),
        model_state=state,
        live=lambda s, m, f: (FakePublisher(), FakeReader()),
        uploads=store,
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Uploads(client, publisher, folder)


def post(uploads: Uploads, body: bytes, name: str = "clip.wav", headers=AUTH, **form: str):  # type: ignore[no-untyped-def]
    files = {"file": (name, body, "audio/wav")}
    return uploads.client.post("/v1/tracks/audio", files=files, data=form, headers=headers)


def test_an_upload_is_published_kept_and_recommendable_at_once(uploads: Uploads) -> None:
    body = wav_bytes("chiptune", 99)
    answer = post(uploads, body, "Synth X - Bleeps.wav")
    assert answer.status_code == 202, answer.text
    data = answer.json()
    track = CatalogTrack.model_validate(data["track"])
    assert track.track_id.startswith(ID_PREFIX) and len(track.track_id) == 22
    assert (track.track_name, track.artist) == ("Bleeps", "Synth X")
    assert set(track.features) == {*EXTRACTED_FEATURES, "duration_ms"}
    assert data["topic"] == "encore.catalog" and data["seconds_analysed"] == pytest.approx(3.0)
    assert uploads.publisher.published[-1] == track
    # The stored file plays back byte for byte.
    audio = uploads.client.get(data["audio_url"])
    assert audio.status_code == 200 and audio.content == body
    assert audio.headers["content-type"] == "audio/wav"
    part = uploads.client.get(data["audio_url"], headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == body[:10]
    # Its features are a feature seed: songs like it, before the catalog topic is applied.
    recs = uploads.client.post("/v1/recommendations", json={"features": track.features, "k": 3})
    assert recs.status_code == 200, recs.text
    assert [i["track_id"].split("-")[0] for i in recs.json()["items"]] == ["chiptune"] * 3
    # The same file again is the same track; the form may name it.
    again = post(uploads, body, "other.wav", track_name="Renamed", artist="Someone")
    assert again.json()["track"]["track_id"] == track.track_id
    assert again.json()["track"]["track_name"] == "Renamed"


def test_uploads_need_the_admin_token(uploads: Uploads) -> None:
    body = wav_bytes("techno", 1)
    assert problem(post(uploads, body, headers={}))["status"] == 401
    wrong = post(uploads, body, headers={"Authorization": "Bearer nope"})
    assert problem(wrong)["status"] == 403 and problem(wrong)["detail"] == "wrong admin token"


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "empty"), (b"just some text, no sound" * 40, "not_audio")],
)
def test_an_unusable_file_is_422_with_its_reason(
    uploads: Uploads, body: bytes, reason: str
) -> None:
    answer = post(uploads, body)
    assert answer.status_code == 422 and reason in problem(answer)["detail"]


def test_a_file_over_the_limit_is_413(uploads: Uploads) -> None:
    answer = post(uploads, wav_bytes("ambient", 2, seconds=20.0))  # 0.9 MB > 0.5 MB
    assert problem(answer)["status"] == 413


def test_no_audio_for_an_unknown_track(uploads: Uploads) -> None:
    assert problem(uploads.client.get("/v1/tracks/aud0000/audio"))["status"] == 404
    assert problem(uploads.client.get("/v1/tracks/..%2Fsecret/audio"))["status"] == 404


def test_without_upload_dir_uploads_are_off() -> None:
    client, _ = make_api()
    with client:
        files = {"file": ("clip.wav", wav_bytes("techno", 3), "audio/wav")}
        assert problem(client.post("/v1/tracks/audio", files=files))["status"] == 401
        answer = client.post("/v1/tracks/audio", files=files, headers=AUTH)
        assert problem(answer)["status"] == 403
        assert problem(client.get("/v1/tracks/x/audio"))["status"] == 404


def test_a_catalog_of_spotify_features_refuses_uploads(tmp_path: Path) -> None:
    import asyncio

    from recommender.features import AUDIO_FEATURES
    from web.problems import ProblemError

    store = AudioUploads(tmp_path, 1 << 20, RecordingPublisher())
    with pytest.raises(ProblemError) as refused:
        asyncio.run(store.accept(None, AUDIO_FEATURES))  # type: ignore[arg-type]
    assert refused.value.status == 409 and "from-audio" in refused.value.detail
