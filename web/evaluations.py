"""Offline evaluations run for the API: `python -m recommender evaluate` in a subprocess.

The evaluation is offline code the API may not import, and CPU-heavy: in its own process it
cannot stall the API's GIL, and it runs at a lower priority. One runs at a time; at most
`kept` jobs are remembered (the oldest finished ones are forgotten first).
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from recommender.catalog import Catalog
from recommender.registry import MODEL_NAMES
from recommender.snapshot import SUFFIX
from web.contract import Evaluation, EvaluationRequest, State
from web.problems import ProblemError

log = logging.getLogger(__name__)


@dataclass
class Job:
    id: str
    label_column: str
    models: list[str]
    k: int
    queries: int
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    state: State = "queued"
    progress: float = 0.0
    report: dict[str, Any] | None = None
    error: str | None = None
    finished_at: datetime | None = None

    def view(self) -> Evaluation:
        return Evaluation(
            id=self.id,
            state=self.state,
            progress=self.progress,
            report=self.report,
            error=self.error,
            label_column=self.label_column,
            models=self.models,
            k=self.k,
            queries=self.queries,
            created_at=self.created_at,
            finished_at=self.finished_at,
        )


@dataclass(frozen=True)
class EvaluationSetup:
    """What every job evaluates against: the API's catalog file, features and artifacts."""

    catalog_path: Path
    features: tuple[str, ...]
    artifacts: Path
    default_models: tuple[str, ...]
    python: str = sys.executable


class Evaluations:
    POLL_S = 0.25

    def __init__(
        self,
        setup: EvaluationSetup,
        kept: int,
        command: Callable[[Job, Path], list[str]] | None = None,
    ) -> None:
        self.setup = setup
        self.kept = kept
        self._command = command or self.command
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = False
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._work, name="encore-web-eval", daemon=True)
        self._thread.start()

    def submit(self, request: EvaluationRequest, catalog: Catalog) -> Job:
        columns = list(catalog.extra.columns)
        if request.label_column not in columns:
            have = ", ".join(columns) or "none"
            raise ProblemError(
                422, f"the catalog has no label column {request.label_column!r} (it has: {have})"
            )
        models = list(request.models or self.setup.default_models)
        unknown = [m for m in models if m not in MODEL_NAMES]
        if unknown:
            raise ProblemError(
                422, f"unknown model(s) {unknown}; choose from {', '.join(MODEL_NAMES)}"
            )
        if self.setup.catalog_path.name.endswith(SUFFIX):
            raise ProblemError(
                422, "the API was started on a compiled catalog snapshot; evaluation reads a CSV"
            )
        job = Job(uuid.uuid4().hex[:12], request.label_column, models, request.k, request.queries)
        with self._lock:
            self._make_room()
            self._jobs[job.id] = job
            self._wake.notify()
        return job

    def _make_room(self) -> None:
        while len(self._jobs) >= self.kept:
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            if not finished:
                raise ProblemError(
                    429, f"{len(self._jobs)} evaluations are queued or running; try again later"
                )
            del self._jobs[finished[0].id]

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ProblemError(404, f"no evaluation {job_id!r}")
        return job

    def newest_first(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def close(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify()
            if self._process is not None and self._process.poll() is None:
                self._process.terminate()
        self._thread.join(10)

    def _next(self) -> Job | None:
        with self._lock:
            while not self._stopping:
                queued = [j for j in self._jobs.values() if j.state == "queued"]
                if queued:
                    queued[0].state = "running"
                    return queued[0]
                self._wake.wait()
        return None

    def _work(self) -> None:
        while (job := self._next()) is not None:
            out = Path(tempfile.mkdtemp(prefix=f"encore-eval-{job.id}-"))
            try:
                self._run(job, out)
            except Exception as exc:  # the job fails, the API goes on
                log.exception("evaluation %s failed", job.id)
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            finally:
                job.finished_at = datetime.now(UTC)
                shutil.rmtree(out, ignore_errors=True)

    def command(self, job: Job, out: Path) -> list[str]:
        s = self.setup
        command = [s.python, "-m", "recommender", "evaluate"]
        command += ["--catalog", str(s.catalog_path), "--label-column", job.label_column]
        command += ["--models", ",".join(job.models), "--k", str(job.k)]
        command += ["--queries", str(job.queries), "--out", str(out), "--no-plots"]
        command += ["--progress-file", str(out / "progress.json")]
        command += ["--features", ",".join(s.features), "--artifacts", str(s.artifacts)]
        nice = shutil.which("nice")
        return [nice, "-n", "10", *command] if nice else command

    def _run(self, job: Job, out: Path) -> None:
        with (out / "log.txt").open("wb") as output, self._lock:
            if self._stopping:
                return
            self._process = subprocess.Popen(
                self._command(job, out), stdout=output, stderr=subprocess.STDOUT
            )
        process = self._process
        while process.poll() is None:
            try:
                process.wait(self.POLL_S)
            except subprocess.TimeoutExpired:
                job.progress = read_progress(out / "progress.json")
        if process.returncode == 0:
            report = json.loads((out / "report.json").read_text())
            protocol = report.get("protocol", {})
            job.report = {
                **report,
                **{k: protocol.get(k) for k in ("label_column", "k", "queries")},
            }
            job.progress, job.state = 1.0, "done"
        else:
            job.state = "failed"
            job.error = last_line(out / "log.txt") or f"exit status {process.returncode}"


def read_progress(path: Path) -> float:
    try:
        data = json.loads(path.read_text())
        return min(1.0, max(0.0, data["done"] / data["total"])) if data["total"] else 0.0
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def last_line(path: Path) -> str:
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""
