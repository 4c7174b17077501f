"""docker-compose.yml beyond tests/unit/test_deploy.py: the HTTP API, Prometheus and Grafana."""

from __future__ import annotations

from pathlib import Path

import yaml

from consumer.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PROMETHEUS = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())


def _targets(job: str) -> list[str]:
    (config,) = [c for c in PROMETHEUS["scrape_configs"] if c["job_name"] == job]
    return [target for static in config["static_configs"] for target in static["targets"]]


def _published(service: str) -> set[str]:
    """Container ports a service publishes on the host at the same number."""
    pairs = (str(port).split(":") for port in SERVICES[service]["ports"])
    return {container for host, container in pairs if host == container}


def test_web_runs_the_api_from_the_service_image():
    web = SERVICES["web"]
    # The same Dockerfile, with audio uploads' extra.
    assert web["build"] == {"context": SERVICES["encore"]["build"], "args": {"EXTRAS": "audio"}}
    assert web["entrypoint"] == ["python", "-m", "web"]
    assert web["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_web_reaches_kafka_and_listens_beyond_loopback():
    env = SERVICES["web"]["environment"]
    assert (
        env["ENCORE_BOOTSTRAP_SERVERS"]
        == SERVICES["encore"]["environment"]["ENCORE_BOOTSTRAP_SERVERS"]
    )
    assert env["ENCORE_HOST"] == "0.0.0.0"
    assert env["ENCORE_MODELS"] == "knn"
    assert env["ENCORE_PORT"] in _published("web")
    assert env["ENCORE_PORT"] in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_web_settings_are_service_settings_or_the_api_extras():
    extras = {"host", "port", "api_token", "admin_token", "upload_dir"}
    for key in SERVICES["web"]["environment"]:
        name = key.removeprefix("ENCORE_").lower()
        assert key.startswith("ENCORE_") and (name in Settings.model_fields or name in extras)


def test_web_takes_tokens_and_uploads_from_the_shell_else_keeps_them_unset():
    env = SERVICES["web"]["environment"]
    for key in ("ENCORE_API_TOKEN", "ENCORE_ADMIN_TOKEN", "ENCORE_UPLOAD_DIR"):
        assert env[key] == f"${{{key}:-}}"  # empty when unset: WebSettings reads it as None


def test_prometheus_scrapes_the_service_and_the_api():
    assert _targets("encore") == ["encore:9100"]
    assert _targets("web") == [f"web:{SERVICES['web']['environment']['ENCORE_PORT']}"]
    assert {"encore", "web"} <= set(SERVICES["prometheus"]["depends_on"])


def test_grafana_serves_the_provisioned_dashboard_to_anonymous_viewers():
    grafana = SERVICES["grafana"]
    assert grafana["image"].startswith(("grafana/grafana-oss:1", "grafana/grafana:1"))
    assert "3000" in _published("grafana")
    env = grafana["environment"]
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    mounts = {}
    for volume in grafana["volumes"]:
        host, container, *_ = volume.split(":")
        mounts[container] = (ROOT / host).resolve()
    assert mounts["/etc/grafana/provisioning"] == (ROOT / "deploy/grafana/provisioning").resolve()
    home = Path(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert (mounts[str(home.parent)] / home.name).is_file()
    assert "prometheus" in grafana["depends_on"]
