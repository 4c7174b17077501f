"""`python -m web`: the HTTP API and the page on --host/--port (uvicorn)."""

from __future__ import annotations

import logging
import sys

import uvicorn
from prometheus_client import CollectorRegistry

from consumer.reload import ModelLoader
from consumer.settings import settings_from_args
from recommender.errors import run_command
from web.app import create_app
from web.catalog_live import kafka_catalog
from web.settings import WebSettings, build_web_parser
from web.state import ModelState


def serve(settings: WebSettings) -> int:
    """Listen at once (/readyz is 503 until the models are loaded); a catalog or model the
    user must fix stops the server and is raised here, so it exits 2 with one line."""
    loader = ModelLoader(settings)
    loader.check()  # unknown model names, missing artifacts: before listening
    failures: list[BaseException] = []
    server: uvicorn.Server | None = None

    def fatal(exc: BaseException) -> None:
        failures.append(exc)
        if server is not None:
            server.should_exit = True

    state = ModelState(loader.load, loader.reload, on_error=fatal)
    app = create_app(settings, CollectorRegistry(), model_state=state, catalog_live=kafka_catalog)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        # Open SSE streams never end by themselves: give them this long at shutdown.
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    finally:
        loader.close()
    if failures:
        raise failures[0]
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return run_command(
        lambda: serve(settings_from_args(argv, WebSettings, build_web_parser())), "encore-web"
    )


if __name__ == "__main__":
    sys.exit(main())
