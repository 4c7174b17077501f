"""Audio uploads: the file kept under `--upload-dir`, its features extracted in a worker
process (never on the event loop), the track published to the catalog topic.

A file is stored under its content id (`<track_id>.<format>`), so uploading the same file
twice is the same track. `audio` (librosa) is imported only by the worker process and only
when uploads are on: a service without `--upload-dir` never loads it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from recommender.features import EXTRACTED_FEATURES, is_audio_feature
from schemas import CatalogTrack
from web.context import TrackPublisher
from web.problems import ProblemError

if TYPE_CHECKING:
    from fastapi import UploadFile

    from audio.analyse import TrackAnalysis

INCOMING = ".incoming"
MAX_PENDING = 4  # uploads being stored or analysed at once; more get 429
CHUNK = 1 << 20
MEDIA_TYPES = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "mp3": "audio/mpeg",
    "aiff": "audio/aiff",
}
_TRACK_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Uploaded:
    track: CatalogTrack
    audio_url: str
    seconds_analysed: float
    extraction_seconds: float


def _analyse(path: Path, file_name: str) -> TrackAnalysis:
    from audio.analyse import analyse_file  # in the worker process

    return analyse_file(path, file_name=file_name)


def _warm() -> None:
    from audio.batch import warm_up

    warm_up()


class AudioUploads:
    """Everything `POST /v1/tracks/audio` and `GET /v1/tracks/{id}/audio` need."""

    def __init__(
        self,
        directory: Path,
        max_bytes: int,
        publisher: TrackPublisher,
        start_method: str = "spawn",
    ) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.publisher = publisher
        # spawn: the API process runs Kafka client threads, which a fork would not carry.
        self.start_method = start_method
        self._executor: ProcessPoolExecutor | None = None
        self._pending = 0

    def start(self) -> None:
        """Make the folders and a worker; it loads librosa now, not on the first upload."""
        (self.directory / INCOMING).mkdir(parents=True, exist_ok=True)
        context = multiprocessing.get_context(self.start_method)
        self._executor = ProcessPoolExecutor(1, mp_context=context)
        self._executor.submit(_warm)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        self.publisher.close()

    def audio_file(self, track_id: str) -> Path | None:
        """The stored file of an uploaded track, or None."""
        if not _TRACK_ID.match(track_id):
            return None
        found = sorted(p for p in self.directory.glob(f"{track_id}.*") if p.is_file())
        return found[0] if found else None

    async def accept(
        self,
        upload: UploadFile,
        catalog_features: tuple[str, ...],
        track_name: str | None = None,
        artist: str | None = None,
    ) -> Uploaded:
        """Store, analyse, keep and publish one uploaded file."""
        foreign = [
            f for f in catalog_features if is_audio_feature(f) and f not in EXTRACTED_FEATURES
        ]
        if foreign:
            raise ProblemError(
                409,
                "this instance serves a catalog of other audio features "
                f"({', '.join(foreign[:3])}, ...): audio uploads need a catalog made by "
                "`python -m recommender catalog from-audio`",
            )
        if self._pending >= MAX_PENDING:
            raise ProblemError(
                429, "too many uploads in progress; try again shortly", {"Retry-After": "5"}
            )
        self._pending += 1
        try:
            analysis = await self._stored_and_analysed(upload)
        finally:
            self._pending -= 1
        track = CatalogTrack(
            track_id=analysis.track_id,
            track_name=(track_name or analysis.track_name)[:1024],
            artist=(artist or analysis.artist)[:1024],
            features={**analysis.features, "duration_ms": analysis.duration_ms},
            updated_at=time.time_ns() // 1_000_000,
        )
        await self.publisher.publish(track.track_id, track.model_dump_json().encode())
        return Uploaded(
            track=track,
            audio_url=f"/v1/tracks/{track.track_id}/audio",
            seconds_analysed=round(analysis.seconds_analysed, 3),
            extraction_seconds=round(analysis.seconds_taken, 3),
        )

    async def _stored_and_analysed(self, upload: UploadFile) -> TrackAnalysis:
        from audio.errors import UnusableAudio

        incoming = self.directory / INCOMING / uuid.uuid4().hex
        try:
            await self._store(upload, incoming)
            try:
                analysis = await self._run(_analyse, incoming, upload.filename or "upload")
            except UnusableAudio as exc:
                raise ProblemError(
                    422, f"{upload.filename or 'the file'}: {exc} ({exc.reason})"
                ) from None
            kept = self.directory / f"{analysis.track_id}.{analysis.format.lower() or 'audio'}"
            os.replace(incoming, kept)
            return analysis
        finally:
            incoming.unlink(missing_ok=True)

    async def _store(self, upload: UploadFile, path: Path) -> None:
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise ProblemError(413, f"audio file larger than {self.max_bytes} bytes")
                out.write(chunk)

    async def _run(self, function: Callable[..., TrackAnalysis], *args: object) -> TrackAnalysis:
        if self._executor is None:
            raise ProblemError(503, "audio uploads are starting", {"Retry-After": "2"})
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except BrokenProcessPool:
            self.start()  # the worker died (a decoder crash): the next upload gets a new one
            raise ProblemError(422, "the audio decoder crashed on this file") from None
