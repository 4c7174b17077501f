"""Shared test setup. This folder is on sys.path, so tests import `cases` directly."""

from __future__ import annotations

from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def real_songs() -> Path:
    """The real TidyTuesday export beside the repo; tests that need it skip without it."""
    path = REAL_DATA / "spotify_songs.csv"
    if not path.exists():
        pytest.skip(f"real data not present at {path}")
    return path
