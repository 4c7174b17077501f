"""`/docs` with Swagger UI served from the installed `swagger_ui_bundle` (no CDN), and the
OpenAPI document's error responses declared as `application/problem+json`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from web.problems import PROBLEM_TYPE, problem_response

ASSETS = "/docs/assets"


def _swagger_assets() -> Path | None:
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return None
    return Path(str(swagger_ui_path))


def install(app: FastAPI) -> None:
    assets = _swagger_assets()
    if assets is not None:
        app.mount(ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False, response_model=None)
    def docs() -> HTMLResponse:
        if assets is None:
            return problem_response(  # type: ignore[return-value]
                503, "interactive docs need the swagger-ui-bundle-v2 package; /openapi.json works"
            )
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = problems_as_problem_json(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def problems_as_problem_json(schema: dict[str, Any]) -> dict[str, Any]:
    """Every 4xx/5xx answers `Problem` as problem+json (FastAPI documents its own 422 shape)."""
    problem = {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            for code, response in operation.get("responses", {}).items():
                if code[:1] in ("4", "5"):
                    response["content"] = problem
                    if code == "422":
                        response["description"] = "Invalid input"
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
