"""The API in process on a tiny catalog, with fakes for its Kafka edges and evaluations.

A module of its own (not conftest.py): test folders are not packages, so a `conftest` import
would find whichever conftest came first."""

from __future__ import annotations

import json
import sys
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from model_catalogs import grouped_catalog
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from consumer.serving import ModelSet
from recommender.catalog import Catalog
from recommender.clusters import fit_clusters
from recommender.embeddings import Identity
from recommender.recommender import Recommender, knn
from recommender.scaling import Standardizer
from web.app import create_app
from web.evaluations import Evaluations, EvaluationSetup, Job
from web.fanout import Listeners
from web.live import RateWindow
from web.metrics import WebMetrics
from web.problems import ProblemError
from web.settings import WebSettings
from web.state import ModelState

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 for its TestClient and warns once, on import, with httpx.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NAMES = ["Café del Mar", "Bohemian Rhapsody", "Don't Stop Me Now", "Ça plane pour moi", "Hey Jude"]
ARTISTS = ["Energy 52", "Queen", "Queen", "Plastic Bertrand", "The Beatles"]
TOKEN = "s3cret-token"


def catalog_with_names() -> Catalog:
    """60 tracks in 6 tight groups (`genre`); the first five carry real-looking names."""
    base = grouped_catalog(groups=6, per_group=10, seed=3)
    frame = pd.DataFrame(base.features, columns=list(base.feature_names))
    names, artists = list(base.names), list(base.artists)
    names[: len(NAMES)], artists[: len(ARTISTS)] = NAMES, ARTISTS
    names[5], artists[5] = "Bohemian Rhapsody", "Queen"  # a re-release: one song to the search
    frame.insert(0, "track_id", list(base.track_ids))
    frame.insert(1, "track_name", names)
    frame.insert(2, "artist", artists)
    frame["genre"] = base.labels("genre")
    return Catalog.from_frame(frame, extra_columns=["genre"])


def model_set(catalog: Catalog) -> ModelSet:
    """`knn` (no clusters, the default) and `knn-cosine` trained with clusters."""
    plain = knn(catalog, version="knn-test")
    scaler = Standardizer.fit(catalog.features)
    clustered = Recommender(
        "knn-cosine",
        catalog,
        scaler,
        Identity(),
        "cosine",
        "cosine-test",
        clusters=fit_clusters(scaler.transform(catalog.features), 6),
    )
    return ModelSet(catalog, [plain, clustered], answer_cache=100)


@dataclass
class FakePublisher:
    """What was published, as (topic, key, value); `down` answers 503 as the real one does."""

    published: list[tuple[str, str, bytes]] = field(default_factory=list)
    down: bool = False

    async def publish(self, topic: str, key: str, value: bytes) -> None:
        if self.down:
            raise ProblemError(503, "Kafka did not acknowledge within 5 s")
        self.published.append((topic, key, value))

    def close(self) -> None:
        pass


@dataclass
class FakeTrackPublisher:
    """The catalog topic's publisher: what was published, as (key, value or None)."""

    published: list[tuple[str, bytes | None]] = field(default_factory=list)

    async def publish(self, key: str, value: bytes | None) -> None:
        self.published.append((key, value))

    def close(self) -> None:
        pass


@dataclass
class FakeReader:
    reachable: bool = True
    answers_seen: int = 0
    window: RateWindow = field(default_factory=RateWindow)
    started: bool = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False


@dataclass
class Api:
    client: TestClient
    publisher: FakePublisher
    reader: FakeReader
    models: ModelSet
    listeners: Listeners


FAKE_EVALUATE = textwrap.dedent(
    """
    import json, sys, pathlib
    out = pathlib.Path(sys.argv[1])
    (out / "progress.json").write_text(json.dumps({"done": 1, "total": 1}))
    report = {"protocol": {"label_column": "genre", "k": 3, "queries": 10},
              "models": {"knn": {"precision_at_k": [1.0, 0.5, 0.5], "mrr": 1.0}}}
    (out / "report.json").write_text(json.dumps(report))
    """
)


def fake_command(job: Job, out: Path) -> list[str]:
    return [sys.executable, "-c", FAKE_EVALUATE, str(out)]


def make_api(token: str | None = None, **settings: object) -> tuple[TestClient, Api]:
    catalog = catalog_with_names()
    models = model_set(catalog)
    state = ModelState(lambda: models)
    state.load_now()
    publisher, reader = FakePublisher(), FakeReader()
    fanout: list[Listeners] = []

    def live(
        s: WebSettings, m: WebMetrics, listeners: Listeners
    ) -> tuple[FakePublisher, FakeReader]:
        fanout.append(listeners)
        return publisher, reader

    web_settings = WebSettings(
        api_token=SecretStr(token) if token else None,
        k=5,
        **settings,  # type: ignore[arg-type]
    )
    setup = EvaluationSetup(Path("catalog.csv"), catalog.feature_names, Path("artifacts"), ("knn",))
    jobs = Evaluations(setup, kept=3, command=fake_command)
    app = create_app(
        web_settings, CollectorRegistry(), model_state=state, live=live, jobs=jobs, keepalive_s=0.2
    )
    client = TestClient(app, raise_server_exceptions=False)
    return client, Api(client, publisher, reader, models, fanout[0])


def problem(response) -> dict:  # type: ignore[no-untyped-def]
    """The body of a problem answer, checked for its shape."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = json.loads(response.text)
    assert set(body) == {"type", "title", "status", "detail"}
    assert body["status"] == response.status_code and body["detail"]
    return body


def rows(catalog: Catalog, ids: list[str]) -> np.ndarray:
    return np.array([catalog.index[i] for i in ids])
