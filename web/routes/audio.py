"""`POST /v1/tracks/audio` (an audio file in, a catalog track out) and
`GET /v1/tracks/{track_id}/audio` (the uploaded file, for the page's player)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from schemas import CatalogTrack
from web.context import Context, require_admin
from web.problems import ProblemError
from web.routes import problems
from web.uploads import MEDIA_TYPES, AudioUploads

router = APIRouter(tags=["catalog"])


class AudioUploadAnswer(BaseModel):
    """The track as published to the catalog topic, and where its audio is."""

    track: CatalogTrack = Field(description="Its `features` are a feature seed as they are")
    topic: str = Field(description="The catalog topic it was published to")
    audio_url: str = Field(description="GET it to play the uploaded file")
    seconds_analysed: float = Field(description="Seconds of audio the features describe")
    extraction_seconds: float = Field(description="Time to decode and extract them")


def uploads(request: Request) -> AudioUploads:
    found: AudioUploads | None = request.app.state.uploads
    if found is None:
        raise ProblemError(
            404, "audio uploads are off on this instance (start it with --upload-dir)"
        )
    return found


Uploads = Annotated[AudioUploads, Depends(uploads)]


@router.post(
    "/v1/tracks/audio",
    status_code=202,
    response_model=AudioUploadAnswer,
    responses=problems(401, 403, 404, 409, 413, 422, 429, 503),
    dependencies=[Depends(require_admin)],
)
async def upload_audio(
    ctx: Context,
    store: Uploads,
    file: Annotated[UploadFile, File(description="WAV, FLAC, OGG or MP3")],
    track_name: Annotated[str | None, Form(max_length=1024)] = None,
    artist: Annotated[str | None, Form(max_length=1024)] = None,
) -> AudioUploadAnswer:
    """Extract the file's audio features and publish it as a track on the catalog topic.

    202 once the broker acknowledged it: every instance applying the topic makes it
    recommendable within seconds. Name and artist come from the form, else the file's tags,
    else its name ("Artist - Title.wav"); the id from its content. An unusable file (empty,
    not audio, corrupt, silent, under a second) is 422 with the reason.
    """
    catalog = ctx.models.current().models.catalog
    done = await store.accept(file, tuple(catalog.feature_names), track_name, artist)
    return AudioUploadAnswer(
        track=done.track,
        topic=ctx.settings.catalog_topic,
        audio_url=done.audio_url,
        seconds_analysed=done.seconds_analysed,
        extraction_seconds=done.extraction_seconds,
    )


@router.get(
    "/v1/tracks/{track_id}/audio",
    response_class=FileResponse,
    responses={200: {"content": {t: {} for t in MEDIA_TYPES.values()}}, **problems(404, 422)},
)
def track_audio(
    store: Uploads, track_id: Annotated[str, Path(min_length=1, max_length=256)]
) -> FileResponse:
    """The uploaded audio file of a track (byte ranges supported, for seeking)."""
    path = store.audio_file(track_id)
    if path is None:
        raise ProblemError(404, f"no uploaded audio for track {track_id!r}")
    media_type = MEDIA_TYPES.get(path.suffix.lstrip("."), "application/octet-stream")
    return FileResponse(path, media_type=media_type)
