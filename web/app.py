"""`create_app`: the API wired from settings and a metrics registry, no globals.

Tests pass their own model state, publisher and reader (the Kafka edges); `python -m web`
passes the real ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from prometheus_client import CollectorRegistry
from starlette.staticfiles import StaticFiles

from consumer.reload import ModelLoader
from recommender.catalog import BUNDLED_CATALOG
from web import docs, problems
from web.catalog_live import CatalogPublisher
from web.context import ApiContext, Catalog, Publisher, Reader, TrackPublisher
from web.derived import Derived
from web.evaluations import Evaluations, EvaluationSetup
from web.fanout import Listeners
from web.live import KafkaPublisher, OutputReader
from web.metrics import WebMetrics
from web.middleware import BodyLimit, RequestMetrics
from web.recommend import DirectAnswers
from web.routes import (
    audio,
    catalog,
    evaluations,
    feedback,
    listeners,
    models,
    operations,
    recommendations,
    tracks,
)
from web.settings import WebSettings
from web.state import ModelState
from web.uploads import AudioUploads

STATIC = Path(__file__).parent / "static"

LiveFactory = Callable[[WebSettings, WebMetrics, Listeners], tuple[Publisher, Reader]]
CatalogFactory = Callable[
    [WebSettings, WebMetrics, ModelState], tuple[TrackPublisher | None, Catalog]
]


def kafka_live(
    settings: WebSettings, metrics: WebMetrics, fanout: Listeners
) -> tuple[Publisher, Reader]:
    publisher = KafkaPublisher(settings, metrics)
    return publisher, OutputReader(settings, metrics, fanout.listening, fanout.deliver)


def default_evaluations(settings: WebSettings) -> Evaluations:
    setup = EvaluationSetup(
        catalog_path=settings.catalog or BUNDLED_CATALOG,
        features=tuple(settings.features),
        artifacts=settings.artifacts,
        default_models=tuple(settings.models),
    )
    return Evaluations(setup, settings.evaluations_kept)


def audio_uploads(
    settings: WebSettings, metrics: WebMetrics, publisher: TrackPublisher | None
) -> AudioUploads | None:
    """Uploads when `--upload-dir` is set, publishing to the catalog topic (through the API's
    catalog publisher, or one of their own when the API does not follow the topic)."""
    if settings.upload_dir is None:
        return None
    max_bytes = int(settings.max_upload_mb * (1 << 20))
    return AudioUploads(
        settings.upload_dir, max_bytes, publisher or CatalogPublisher(settings, metrics)
    )


def create_app(
    settings: WebSettings,
    registry: CollectorRegistry,
    *,
    model_state: ModelState | None = None,
    live: LiveFactory = kafka_live,
    jobs: Evaluations | None = None,
    keepalive_s: float = 15.0,
    uploads: AudioUploads | None = None,
    catalog_live: CatalogFactory | None = None,
) -> FastAPI:
    """`catalog_live`: the catalog topic's edges (`web.catalog_live.kafka_catalog` in
    `python -m web`); without them the API serves the catalog file only."""
    metrics = WebMetrics(registry)
    if model_state is None:
        loader = ModelLoader(settings)
        model_state = ModelState(loader.load, loader.reload)
    fanout = Listeners(settings.listener_queue, on_drop=metrics.dropped.inc)
    publisher, reader = live(settings, metrics, fanout)
    catalog_publisher, follower = (
        catalog_live(settings, metrics, model_state) if catalog_live else (None, None)
    )
    ctx = ApiContext(
        settings=settings,
        metrics=metrics,
        models=model_state,
        derived=Derived(),
        direct=DirectAnswers(settings.k, settings.max_event_bytes),
        evaluations=jobs or default_evaluations(settings),
        listeners=fanout,
        publisher=publisher,
        reader=reader,
        keepalive_s=keepalive_s,
        catalog_publisher=catalog_publisher,
        catalog=follower,
    )
    uploads = uploads or audio_uploads(settings, metrics, catalog_publisher)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        fanout.bind(asyncio.get_running_loop())
        if follower is not None:
            follower.start(asyncio.get_running_loop())
        if not model_state.ready:
            model_state.start()
        reader.start()
        if uploads is not None:
            uploads.start()
        try:
            yield
        finally:
            if uploads is not None:
                uploads.close()
            reader.stop()
            if follower is not None:
                follower.stop()
            if catalog_publisher is not None:
                catalog_publisher.close()
            publisher.close()
            ctx.evaluations.close()
            model_state.stop()

    app = FastAPI(
        title="Encore",
        version="1",
        description="Song recommendations over HTTP: the contract is docs/api.md.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.encore = ctx
    app.state.uploads = uploads
    problems.install(app)
    docs.install(app)
    routers = (
        audio,
        catalog,
        tracks,
        recommendations,
        feedback,
        listeners,
        models,
        evaluations,
        operations,
    )
    for module in routers:
        app.include_router(module.router)
    _page(app)
    # The last added is the outermost: metrics count every answer, 413s included.
    # An upload may be larger than a JSON body: its own limit, plus room for the multipart.
    upload_limit = {"/v1/tracks/audio": int(settings.max_upload_mb * (1 << 20)) + (64 << 10)}
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, per_path=upload_limit)
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app


def _page(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
