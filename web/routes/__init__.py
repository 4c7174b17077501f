"""The endpoints of docs/api.md, one module per section."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from web.problems import Problem


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems an endpoint can answer (see `web.docs`)."""
    return {code: {"model": Problem, "description": HTTPStatus(code).phrase} for code in codes}
