"""Settings of `python -m web`: the service's settings plus what an HTTP server needs."""

from __future__ import annotations

import argparse
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from consumer.settings import Settings, build_parser


class WebSettings(Settings):
    """The service's flags and ENCORE_* variables (same catalog, models, topics) plus the API's."""

    host: str = Field("127.0.0.1", description="HTTP bind address (0.0.0.0 in a container)")
    port: int = Field(8000, ge=0, le=65535, description="HTTP port")
    api_token: SecretStr | None = Field(
        None, description="When set, POST endpoints need `Authorization: Bearer <token>`"
    )
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token of catalog changes (POST and DELETE /v1/tracks, POST "
        "/v1/tracks/audio); unset: they answer 403",
    )
    max_body_bytes: int = Field(64 * 1024, ge=256, description="Larger request bodies get 413")
    publish_timeout_s: float = Field(
        5.0, gt=0, le=60, description="Longest wait for the broker to take a selection (then 503)"
    )
    listener_queue: int = Field(
        100, ge=1, description="Answers buffered per SSE stream; a slow client loses the oldest"
    )
    evaluations_kept: int = Field(
        20, ge=1, description="Evaluation jobs kept (queued, running and finished)"
    )
    upload_dir: Path | None = Field(
        None, description="Uploaded audio is kept here; without it, audio uploads are off"
    )
    max_upload_mb: float = Field(20.0, gt=0, le=1024, description="Larger audio uploads get 413")

    @field_validator("api_token", "admin_token", "upload_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        """docker compose passes ENCORE_API_TOKEN, ENCORE_ADMIN_TOKEN and ENCORE_UPLOAD_DIR
        through empty when the user set none: that is no value (POST endpoints open, catalog
        changes and uploads off), not a token "" or the folder "."."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("upload_dir")
    @classmethod
    def _uploads_need_a_token(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and info.data.get("admin_token") is None:
            raise ValueError("needs --admin-token: audio uploads are token-protected")
        if value is not None and not info.data.get("catalog_topic"):
            raise ValueError("needs --catalog-topic: uploads are published to the catalog topic")
        return value


def build_web_parser() -> argparse.ArgumentParser:
    return build_parser(
        WebSettings,
        prog="python -m web",
        description="Encore's HTTP API and page over the same catalog and models as the service.",
    )
