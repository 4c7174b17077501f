"""The compose file and Dockerfile, checked statically (no Docker engine runs here)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from consumer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_kafka_topics_service_and_prometheus():
    services = COMPOSE["services"]
    assert set(services) >= {"kafka", "topics", "encore", "prometheus"}
    kafka = services["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert services["encore"]["build"] == "."
    assert (
        services["encore"]["depends_on"]["topics"]["condition"] == "service_completed_successfully"
    )


def test_compose_topics_match_the_service_defaults():
    script = "\n".join(COMPOSE["services"]["topics"]["command"])
    defaults = Settings()
    for topic in (defaults.input_topic, defaults.output_topic, defaults.dlq_topic):
        assert topic in script


def test_compose_service_reaches_kafka_and_is_scraped():
    env = COMPOSE["services"]["encore"]["environment"]
    listener = COMPOSE["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert f"PLAINTEXT://{env['ENCORE_BOOTSTRAP_SERVERS']}" in listener
    assert env["ENCORE_METRICS_HOST"] == "0.0.0.0"
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"encore:{env['ENCORE_METRICS_PORT']}"]


def test_dockerfile_copies_every_package_and_runs_the_service():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("consumer", "producer", "recommender", "schemas", "web", "audio"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert 'ENTRYPOINT ["python", "-m", "consumer"]' in dockerfile
    # The image is the serving install: no extra by default (so no torch), at most the
    # EXTRAS build argument's (compose gives the web image `audio`), no tests or benchmarks.
    runs = [line for line in dockerfile.splitlines() if line.startswith("RUN")]
    assert any('pip install --no-cache-dir ".${EXTRAS:+[$EXTRAS]}"' in line for line in runs)
    assert "ARG EXTRAS=\n" in dockerfile
    assert not [line for line in runs if "torch" in line or "train" in line]
    assert COMPOSE["services"]["web"]["build"]["args"] == {"EXTRAS": "audio"}
    assert "COPY tests" not in dockerfile and "COPY benchmarks" not in dockerfile


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_config_accepts_the_file():
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
