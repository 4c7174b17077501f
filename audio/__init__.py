"""Sound in: audio files decoded, their features extracted with librosa, named and given ids.

Used by `python -m recommender catalog from-audio` (a catalog from a folder of files) and by
`POST /v1/tracks/audio` in `web` (one uploaded file). Needs the `audio` extra (librosa,
soundfile, mutagen); nothing of the service imports it unless uploads are enabled.
"""

from __future__ import annotations

from audio.errors import UnusableAudio

__all__ = ["UnusableAudio"]
