"""The import contracts of `make lint` cover every module, and they hold (import-linter)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = {"training", "evaluation", "commands", "__main__"}


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_every_module_of_recommender_is_core_or_offline():
    core = {str(m).removeprefix("recommender.") for m in _contracts()[0]["source_modules"]}
    modules = {
        p.stem if p.is_file() else p.name
        for p in (ROOT / "recommender").iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    }
    unclassified = modules - core - OFFLINE
    assert not unclassified, f"add {sorted(unclassified)} to the serving-core contract or OFFLINE"


def test_the_contracts_hold():
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:]
