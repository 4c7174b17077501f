"""POST /v1/evaluations and polling, with a stand-in evaluation; and the real subprocess once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from web_api import Api, problem

from recommender.catalog import BUNDLED_CATALOG
from recommender.features import AUDIO_FEATURES
from recommender.ingest import read_catalog
from web.contract import EvaluationRequest
from web.evaluations import Evaluations, EvaluationSetup, Job


def wait_for(api: Api, job_id: str, timeout_s: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = api.client.get(f"/v1/evaluations/{job_id}").json()
        if body["state"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_an_evaluation_runs_and_reports(api: Api) -> None:
    response = api.client.post("/v1/evaluations", json={"label_column": "genre", "k": 3})
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["state"] == "queued"
    body = wait_for(api, accepted["id"])
    assert body["state"] == "done" and body["progress"] == 1.0 and body["error"] is None
    assert body["report"]["models"]["knn"]["precision_at_k"] == [1.0, 0.5, 0.5]
    assert body["label_column"] == "genre" and body["models"] == ["knn"] and body["k"] == 3
    assert body["finished_at"] is not None
    listed = api.client.get("/v1/evaluations").json()["items"]
    assert [item["id"] for item in listed] == [accepted["id"]]


def test_newest_first_and_only_the_kept_ones(api: Api) -> None:
    ids = []
    for _ in range(4):  # kept = 3 in these tests
        job_id = api.client.post("/v1/evaluations", json={"label_column": "genre"}).json()["id"]
        wait_for(api, job_id)
        ids.append(job_id)
    listed = [item["id"] for item in api.client.get("/v1/evaluations").json()["items"]]
    assert listed == ids[::-1][:3]
    assert api.client.get(f"/v1/evaluations/{ids[0]}").status_code == 404


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"label_column": "mood"}, "no label column 'mood'"),
        ({"label_column": "genre", "models": ["nope"]}, "unknown model"),
        ({"label_column": "genre", "k": 0}, "k"),
        ({"label_column": "genre", "models": []}, "models"),
        ({}, "label_column"),
    ],
)
def test_bad_evaluations_are_422_before_anything_runs(
    api: Api, body: dict[str, object], words: str
) -> None:
    response = api.client.post("/v1/evaluations", json=body)
    assert response.status_code == 422
    assert words in problem(response)["detail"]
    assert api.client.get("/v1/evaluations").json()["items"] == []


def test_unknown_evaluation_is_404(api: Api) -> None:
    response = api.client.get("/v1/evaluations/nope")
    assert response.status_code == 404
    problem(response)


def test_the_real_evaluation_subprocess(tmp_path: Path) -> None:
    """`python -m recommender evaluate` on the bundled catalog: progress, then the report."""
    setup = EvaluationSetup(BUNDLED_CATALOG, AUDIO_FEATURES, tmp_path / "artifacts", ("knn",))
    jobs = Evaluations(setup, kept=2)
    try:
        catalog = read_catalog(BUNDLED_CATALOG)
        job: Job = jobs.submit(EvaluationRequest(label_column="genre", k=5, queries=40), catalog)
        deadline = time.monotonic() + 120
        while job.state not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert job.state == "done", job.error
        assert job.report is not None
        assert len(job.report["models"]["knn"]["precision_at_k"]) == 5
        assert job.report["protocol"]["queries"] == 40
    finally:
        jobs.close()
