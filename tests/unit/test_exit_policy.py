"""Every command turns a user's error into one line on stderr and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

BAD_CALLS = {
    "service, missing catalog": ["consumer", "--catalog", "/nonexistent.csv"],
    "service, bad number": ["consumer", "--k", "0"],
    "service, unknown model": ["consumer", "--models", "nosuch", "--bootstrap-servers", "x:1"],
    "evaluate, missing catalog": [
        "recommender", "evaluate", "--catalog", "/nonexistent.csv",
        "--label-column", "g", "--out", "/tmp/encore-x",
    ],
    "evaluate, unknown label column": [
        "recommender", "evaluate", "--label-column", "nosuch", "--out", "/tmp/encore-x",
        "--catalog", "recommender/data/catalog.csv.gz", "--queries", "10",
    ],
    "train, missing catalog": [
        "recommender", "train", "--model", "pca", "--catalog", "/nonexistent.csv",
        "--out", "/tmp/encore-x",
    ],
    "train, impossible option": [
        "recommender", "train", "--model", "pca", "--components", "1.5", "--out", "/tmp/encore-x",
    ],
    "inspect, not a catalog": ["recommender", "catalog", "inspect", "pyproject.toml"],
}  # fmt: skip


@pytest.mark.parametrize("argv", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_a_user_error_is_one_line_and_exit_2(argv):
    done = subprocess.run(
        [sys.executable, "-m", *argv], capture_output=True, text=True, timeout=120
    )
    errors = [line for line in done.stderr.splitlines() if "error" in line.lower()]
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert len(errors) == 1, done.stderr
