"""The service loads artifacts only: its import closure holds no training library, and the
package's own requirements (`pip install encore`) name none."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
TRAINING_LIBRARIES = ("torch", "sklearn", "scipy", "matplotlib", "tqdm")
SERVING_MODULES = (
    "consumer.__main__",
    "consumer.app",
    "recommender.artifacts",
    "recommender.build",
)

CHECK = (
    "import importlib, sys; "
    f"[importlib.import_module(m) for m in {SERVING_MODULES!r}]; "
    f"loaded = sorted(m for m in {TRAINING_LIBRARIES!r} if m in sys.modules); "
    "assert not loaded, loaded"
)


def test_serving_imports_no_training_library():
    # A fresh interpreter: this test process has long imported them all.
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_package_requires_no_training_library_and_the_train_extra_adds_them():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = " ".join(project["dependencies"]).lower()
    named = {"torch": "torch", "sklearn": "scikit-learn", "scipy": "scipy"}
    names = [named.get(lib, lib) for lib in TRAINING_LIBRARIES]
    assert not [name for name in names if name in required]
    train = " ".join(project["optional-dependencies"]["train"]).lower()
    assert all(name in train for name in names)
