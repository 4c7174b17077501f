"""`python -m recommender catalog from-audio` end to end on a folder of generated clips; the
catalog it writes trains, serves and evaluates like any other."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from fakes.kafka import consumed

pytest.importorskip("librosa")

from audio_clips import STYLES, style_folder, write

from audio.naming import content_id
from consumer.batch import BatchProcessor
from consumer.reload import ModelLoader
from consumer.settings import Settings
from recommender.__main__ import main
from recommender.features import EXTRACTED_FEATURES
from schemas import Recommendations

PER_STYLE = 4
MODELS = ("knn", "knn-cosine", "pca", "autoencoder", "supervised")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(folder, catalog CSV, the command's stderr): 16 clips in 4 style folders, plus an
    empty, a corrupt, a non-audio file and a copy of a clip."""
    root = tmp_path_factory.mktemp("clips")
    paths = style_folder(root, PER_STYLE, seconds=3.0)
    (root / "techno" / "empty.wav").write_bytes(b"")
    (root / "ambient" / "readme.ogg").write_text("these are generated clips\n" * 20)
    (root / "ballad" / "broken.wav").write_bytes(paths[0].read_bytes()[:44] + b"\x00" * 100)
    shutil.copy(paths[1], root / "chiptune" / "copy.wav")
    write(root / "techno" / "quiet.wav", 0.0 * STYLES["techno"](2.0, 1))
    out = root.parent / f"{root.name}.csv"
    capture = root.parent / f"{root.name}.stderr"
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        assert main(["catalog", "from-audio", str(root), "--out", str(out), "--jobs", "2"]) == 0
    capture.write_text(stderr.getvalue())
    return root, out, stderr.getvalue()


def test_every_clip_is_a_row_and_every_bad_file_is_reported(extracted) -> None:
    root, out, stderr = extracted
    frame = pd.read_csv(out)
    assert len(frame) == PER_STYLE * len(STYLES)
    assert list(frame.columns[:6]) == [
        "track_id",
        "track_name",
        "artist",
        "genre",
        "duration_ms",
        "file",
    ]
    assert list(frame.columns[6:]) == list(EXTRACTED_FEATURES)
    assert sorted(frame["genre"].unique()) == sorted(STYLES)
    first = frame.iloc[0]
    assert first["track_id"] == content_id(root / first["file"])
    assert first["artist"].startswith("Synth ")
    assert first["duration_ms"] == pytest.approx(3000, abs=1)
    expected = {"empty.wav": "empty", "readme.ogg": "not_audio", "copy.wav": "duplicate",
                "quiet.wav": "silent", "broken.wav": ""}  # fmt: skip
    for name, reason in expected.items():
        line = next((line for line in stderr.splitlines() if name in line), "")
        assert line.startswith("skipped ") and reason in line, (name, stderr)


@pytest.mark.parametrize("model", MODELS)
def test_every_model_trains_and_serves_a_feature_seed_on_it(
    extracted, tmp_path: Path, model: str
) -> None:
    _, out, _ = extracted
    artifacts = tmp_path / "artifacts"
    argv = ["train", "--model", model, "--catalog", str(out), "--out", str(artifacts)]
    argv += ["--clusters", "4"] + (
        ["--epochs", "5"] if model in ("autoencoder", "supervised") else []
    )
    assert main(argv) == 0
    settings = Settings(catalog=out, models=[model], artifacts=artifacts)
    models = ModelLoader(settings).load()
    # A song outside the catalog, given by its extracted features: a techno clip's, moved.
    frame = pd.read_csv(out)
    seed = frame[frame["genre"] == "techno"].iloc[0]
    features = {name: float(seed[name]) for name in EXTRACTED_FEATURES}
    features["tempo"] += 1.0
    features["duration_ms"] = 3000.0
    event = {"event_id": "e1", "user_id": "u1", "features": features, "k": 3}
    result = BatchProcessor(models, 10, 64 * 1024).process([consumed(json.dumps(event).encode())])
    assert not result.dead_letters, result.dead_letters
    (answer,) = [Recommendations.model_validate_json(v) for _, v in result.recommendations]
    assert len(answer.items) == 3
    genres = dict(zip(frame["track_id"], frame["genre"], strict=True))
    if model in ("knn", "knn-cosine", "pca"):
        assert genres[answer.items[0].track_id] == "techno"


def test_a_seed_with_only_tempo_and_loudness_is_answered(extracted) -> None:
    _, out, _ = extracted
    models = ModelLoader(Settings(catalog=out, models=["knn"])).load()
    event = {"event_id": "e2", "user_id": "u1", "features": {"tempo": 126.0, "loudness": -12.0}}
    result = BatchProcessor(models, 5, 64 * 1024).process([consumed(json.dumps(event).encode())])
    (answer,) = [Recommendations.model_validate_json(v) for _, v in result.recommendations]
    assert len(answer.items) == 5 and "mfcc_1_mean" in (answer.imputed or [])


def test_evaluate_scores_it_by_genre(extracted, tmp_path: Path) -> None:
    _, out, _ = extracted
    argv = ["evaluate", "--catalog", str(out), "--label-column", "genre", "--models", "knn"]
    argv += ["--k", "3", "--queries", "16", "--no-plots"]
    assert main([*argv, "--out", str(tmp_path / "report")]) == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    knn = report["models"]["knn"]  # 4 styles: chance is 0.25
    assert knn["precision_at_k"][0] >= 0.75 and knn["mrr"] >= 0.75, knn
