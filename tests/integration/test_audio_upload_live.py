"""Audio in, on the real broker: an upload through `python -m web` lands on the catalog topic
as a CatalogTrack keyed by its id, its file plays back, its features find clips of its
style (through the API and on the page, in headless Chromium); and the service answers a
feature seed of extracted features from the same catalog."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import httpx
import pandas as pd
import pytest
import soundfile as sf
from chromium import MISSING, NOT_INSTALLED, chromium

pytest.importorskip("librosa")

from audio_clips import SR, STYLES, style_folder
from harness import answered, produce, read_topic, wait_until

from recommender.__main__ import main
from recommender.features import EXTRACTED_FEATURES
from schemas import CatalogTrack

ADMIN = "live-admin-token"


@pytest.fixture(scope="module")
def clip_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("live-clips")
    style_folder(root, per_style=3, seconds=3.0)
    out = root.parent / "live-clips.csv"
    assert main(["catalog", "from-audio", str(root), "--out", str(out), "--jobs", "1"]) == 0
    return out


@pytest.fixture(autouse=True)
def upload_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, clip_catalog: Path
) -> dict[str, str]:
    """What `web` (the conftest fixture, started after this one) reads from the environment."""
    settings = {
        "ENCORE_CATALOG": str(clip_catalog),
        "ENCORE_UPLOAD_DIR": str(tmp_path / "uploads"),
        "ENCORE_ADMIN_TOKEN": ADMIN,
        "ENCORE_CATALOG_TOPIC": f"catalog-{uuid.uuid4().hex[:8]}",
        "ENCORE_ARTIFACTS": str(tmp_path / "artifacts"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings


def test_an_upload_lands_on_the_catalog_topic(broker, web: str, upload_settings) -> None:
    buffer = io.BytesIO()
    sf.write(buffer, STYLES["techno"](3.0, 424242), SR, format="WAV")
    body = buffer.getvalue()
    answer = httpx.post(
        f"{web}/v1/tracks/audio",
        files={"file": ("Live Synth - Upload.wav", body, "audio/wav")},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=90,  # the first upload may wait for the worker to load librosa
    )
    assert answer.status_code == 202, answer.text
    track = CatalogTrack.model_validate(answer.json()["track"])
    topic = upload_settings["ENCORE_CATALOG_TOPIC"]
    landed = read_topic(broker.bootstrap_servers, topic, expected=1, timeout_s=20)
    assert [m.key() for m in landed] == [track.track_id.encode()]
    assert CatalogTrack.model_validate_json(landed[0].value()) == track
    assert httpx.get(f"{web}{answer.json()['audio_url']}").content == body
    body = {"features": track.features, "k": 3, "max_per_artist": 0}  # one artist per style
    recs = httpx.post(f"{web}/v1/recommendations", json=body)
    # The API follows the catalog topic: the upload itself may be among them already.
    genres = {**_genres(Path(upload_settings["ENCORE_CATALOG"])), track.track_id: "techno"}
    assert [genres[i["track_id"]] for i in recs.json()["items"]] == ["techno"] * 3, recs.text


def test_the_service_answers_extracted_features_for_a_song_outside_the_catalog(
    broker, service_factory, topics, upload_settings
) -> None:
    catalog = Path(upload_settings["ENCORE_CATALOG"])
    frame = pd.read_csv(catalog)
    seed = frame[frame["genre"] == "ambient"].iloc[0]
    features = {name: float(seed[name]) for name in EXTRACTED_FEATURES}
    features["tempo"] += 0.5  # a song near it, not in the catalog
    features["mfcc_2_mean"] += 0.1
    event = {"event_id": "audio-1", "user_id": "u1", "features": features, "k": 2}
    with service_factory("--catalog", str(catalog)):
        produce(broker.bootstrap_servers, topics[0], [(b"u1", json.dumps(event).encode())])
        counts = answered(broker.bootstrap_servers, topics[1], {"audio-1"}, 30)
        assert counts["audio-1"] == 1
        (message,) = [
            m
            for m in read_topic(broker.bootstrap_servers, topics[1], 1, 10)
            if json.loads(m.value())["event_id"] == "audio-1"
        ]
    items = json.loads(message.value())["items"]
    genres = _genres(catalog)
    assert [genres[i["track_id"]] for i in items] == ["ambient", "ambient"]


def test_an_uploaded_clip_is_recommended_by_the_service_within_seconds(
    broker, web: str, service_factory, topics, upload_settings
) -> None:
    """Upload -> catalog topic -> every service instance: the new clip is among the answers
    for a catalog clip of its style."""
    catalog = Path(upload_settings["ENCORE_CATALOG"])
    frame = pd.read_csv(catalog)
    seed = str(frame[frame["genre"] == "techno"].iloc[0]["track_id"])
    servers = broker.bootstrap_servers
    buffer = io.BytesIO()
    sf.write(buffer, STYLES["techno"](3.0, 777001), SR, format="WAV")
    with service_factory("--catalog", str(catalog)):
        answer = httpx.post(
            f"{web}/v1/tracks/audio",
            files={"file": ("Live Synth - Served.wav", buffer.getvalue(), "audio/wav")},
            headers={"Authorization": f"Bearer {ADMIN}"},
            timeout=90,
        )
        assert answer.status_code == 202, answer.text
        uploaded = answer.json()["track"]["track_id"]
        sent: list[str] = []

        def recommended() -> bool:
            # A new listener each time: listener state would withhold songs already shown.
            event_id = f"served-{len(sent)}"
            sent.append(event_id)
            event = {"event_id": event_id, "user_id": event_id, "track_id": seed, "k": 5,
                     "max_per_artist": 0, "schema_version": 2}  # fmt: skip
            produce(servers, topics[0], [(event_id.encode(), json.dumps(event).encode())])
            answers = read_topic(servers, topics[1], len(sent), timeout_s=15)
            return any(
                uploaded in [item["track_id"] for item in json.loads(m.value())["items"]]
                for m in answers
            )

        wait_until(recommended, 60, f"{uploaded} among the answers for {seed}", step_s=0.2)


def _genres(catalog: Path) -> dict[str, str]:
    frame = pd.read_csv(catalog)
    return dict(zip(frame["track_id"], frame["genre"], strict=True))


@pytest.mark.skipif(bool(MISSING), reason=NOT_INSTALLED)
def test_the_page_uploads_plays_and_recommends(web: str, tmp_path: Path, upload_settings) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    clip = tmp_path / "Page Synth - Page Upload.wav"
    sf.write(clip, STYLES["chiptune"](3.0, 515151), SR)
    driver = chromium(tmp_path / "chromium", "--autoplay-policy=no-user-gesture-required")
    try:
        driver.get(f"{web}/#admin={ADMIN}")
        wait = WebDriverWait(driver, 90, poll_frequency=0.1)  # the worker may still be starting
        wait.until(lambda d: d.find_element(By.ID, "model").is_enabled())
        driver.find_element(By.ID, "audio-upload").send_keys(str(clip))
        items = "#uploaded-recommendations [data-track-id]"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, items))
        player = driver.find_element(By.ID, "uploaded-audio")
        assert player.get_attribute("src").endswith("/audio")
        # The browser fetched and decoded the stored file: it knows its duration.
        duration = "return document.getElementById('uploaded-audio').duration"
        wait.until(lambda d: (d.execute_script(duration) or 0) > 2.9)
        genres = _genres(Path(upload_settings["ENCORE_CATALOG"]))
        shown = [
            e.get_attribute("data-track-id") for e in driver.find_elements(By.CSS_SELECTOR, items)
        ]
        # The API follows the catalog topic, so the module's earlier uploads may be among the
        # neighbours too; the nearest catalog songs are what the style is judged by.
        known = [t for t in shown if t in genres]
        assert [genres[t] for t in known[:2]] == ["chiptune", "chiptune"], shown
        assert "Page Upload" in driver.find_element(By.ID, "uploaded-name").text
    finally:
        driver.quit()
