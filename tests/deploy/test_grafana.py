"""The Grafana dashboard and its provisioning, checked against the metrics the code exports."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client import CollectorRegistry

from consumer.metrics import Metrics
from web.metrics import WebMetrics

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
PROVISIONING = GRAFANA / "provisioning"
DASHBOARD = json.loads((GRAFANA / "dashboards" / "encore.json").read_text())
DATASOURCES = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yml").read_text())
PROVIDERS = yaml.safe_load((PROVISIONING / "dashboards" / "encore.yml").read_text())
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

_AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset",
    "and", "or", "unless", "atan2", "inf", "nan",
}  # fmt: skip
_OVER_TIME = {"avg", "min", "max", "sum", "count", "quantile", "stddev", "stdvar", "last",
              "present", "mad"}  # fmt: skip
_FUNCTIONS = {
    "abs", "absent", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "day_of_month",
    "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp", "floor",
    "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
    "histogram_stddev", "histogram_stdvar", "histogram_sum", "holt_winters",
    "double_exponential_smoothing", "hour", "idelta", "increase", "irate", "label_join",
    "label_replace", "ln", "log2", "log10", "minute", "month", "predict_linear", "rate",
    "resets", "round", "scalar", "sgn", "sort", "sort_desc", "sort_by_label",
    "sort_by_label_desc", "sqrt", "time", "timestamp", "vector", "year", "pi", "deg", "rad",
    "acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan",
    "tanh",
} | {f"{name}_over_time" for name in _OVER_TIME}  # fmt: skip
_NOT_METRICS = _AGGREGATIONS | _KEYWORDS | _FUNCTIONS

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_LABEL_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
# Not after a digit, dot or letter: keeps `5m`, `1e3` and `0x1f` from looking like names.
_IDENTIFIER = re.compile(r"(?<![\w.:])[A-Za-z_:][\w:]*")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: what is left once strings, Grafana
    variables, label matchers, ranges and label lists are cut out, minus functions and keywords.
    """
    text = _STRING.sub('""', expr)
    text = _GRAFANA_VARIABLE.sub("", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub(r"\1", text)
    return {name for name in _IDENTIFIER.findall(text) if name not in _NOT_METRICS}


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}


def exported_names(registry: CollectorRegistry) -> set[str]:
    """Sample names the registry exposes. A labelled metric with no children yet has no samples,
    so for a family without samples the names follow from its type, as exposition names them."""
    names: set[str] = set()
    for family in registry.collect():
        if family.samples:
            names |= {sample.name for sample in family.samples}
        else:
            names |= {family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",))}
    return names


@pytest.fixture(scope="module")
def exported() -> set[str]:
    service, web = CollectorRegistry(), CollectorRegistry()
    Metrics(service)
    WebMetrics(web)
    return exported_names(service) | exported_names(web)


def unknown_metrics(exprs: list[str], exported: set[str]) -> dict[str, set[str]]:
    found = {expr: metric_names(expr) - exported for expr in exprs}
    return {expr: names for expr, names in found.items() if names}


def panels() -> Iterator[dict[str, Any]]:
    for panel in DASHBOARD["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def data_panels() -> list[dict[str, Any]]:
    return [panel for panel in panels() if panel["type"] != "row"]


def expressions() -> list[str]:
    return [target["expr"] for panel in data_panels() for target in panel["targets"]]


def test_the_tokenizer_finds_metric_names_and_nothing_else():
    expr = (
        "histogram_quantile(0.99, sum by (route, le) (rate(encore_http_request_duration_seconds"
        '_bucket{route=~"/v1/.*", method="GET"}[$__rate_interval] offset 5m))) '
        "/ on (instance) group_left (version) max_over_time(encore_model_info[1h]) > bool 1e3"
    )
    assert metric_names(expr) == {
        "encore_http_request_duration_seconds_bucket",
        "encore_model_info",
    }
    assert metric_names("time() - max(encore_last_answer_timestamp_seconds > 0)") == {
        "encore_last_answer_timestamp_seconds"
    }


def test_the_checker_rejects_a_metric_nobody_exports(exported):
    bogus = "sum(rate(encore_selections_consumd_total[5m])) / sum(up)"
    assert unknown_metrics([bogus], exported) == {bogus: {"encore_selections_consumd_total", "up"}}
    # A histogram's base name is not a series: only _bucket, _sum and _count are.
    assert unknown_metrics(["rate(encore_processing_latency_seconds[5m])"], exported)


def test_labelled_metrics_without_children_still_count_as_exported(exported):
    assert {
        "encore_recommendations_published_total",
        "encore_consumer_lag",
        "encore_model_info",
        "encore_http_requests_total",
        "encore_http_request_duration_seconds_bucket",
    } <= exported


def test_every_panel_queries_something():
    for panel in data_panels():
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert metric_names(target["expr"]), (panel["title"], target["expr"])


def test_every_query_parses_as_promql():
    """Prometheus's grammar (Grafana's interval variables given a value), so a query with a
    stray bracket or a misplaced `by` fails here and not on an operator's screen."""
    for expr in expressions():
        concrete = _GRAFANA_VARIABLE.sub("5m", expr)
        promql_parser.parse(concrete)  # raises on a syntax error
    with pytest.raises(ValueError):
        promql_parser.parse("sum by (variant) (rate(encore_feedback_total[5m])")


def test_every_metric_the_dashboard_names_is_exported(exported):
    assert unknown_metrics(expressions(), exported) == {}


def test_the_dashboard_shows_what_operators_asked_for():
    named = set().union(*map(metric_names, expressions()))
    assert named >= {
        "encore_selections_consumed_total",
        "encore_recommendations_published_total",
        "encore_dead_letters_total",
        "encore_end_to_end_latency_seconds_bucket",
        "encore_processing_latency_seconds_bucket",
        "encore_consumer_lag",
        "encore_last_answer_timestamp_seconds",
        "encore_model_info",
        "encore_http_requests_total",
        "encore_http_request_duration_seconds_bucket",
    }
    quantiles = [e for e in expressions() if e.startswith("histogram_quantile(")]
    for series in ("end_to_end_latency", "processing_latency", "http_request_duration"):
        asked = {e.split(",")[0] for e in quantiles if f"encore_{series}_seconds_bucket" in e}
        assert asked == {"histogram_quantile(0.5", "histogram_quantile(0.99"}, series
    assert any("by (model)" in e for e in expressions() if "published" in e)
    assert any("by (reason)" in e for e in expressions() if "dead_letters" in e)
    assert any("partition" in e for e in expressions() if "consumer_lag" in e)


def test_like_and_skip_rates_per_variant_show_beside_the_state_metrics():
    """Issue 13: like and skip rates per variant on the dashboard, and the state's health."""
    rates = [e for e in expressions() if "encore_feedback_total" in e and " / " in e]
    for action in ("like", "skip"):
        [ratio] = [e for e in rates if f'action="{action}"' in e]
        numerator, denominator = ratio.split(" / ")
        assert numerator.startswith("sum by (variant)"), ratio
        assert denominator.startswith("sum by (variant)"), ratio
        assert "encore_recommendations_published_total" in denominator, ratio
    assert any("by (variant, le)" in e for e in expressions() if "processing_latency" in e)
    named = set().union(*map(metric_names, expressions()))
    assert named >= {
        "encore_state_listeners",
        "encore_state_bytes",
        "encore_state_restore_seconds",
        "encore_state_errors_total",
        "encore_state_expired_total",
    }


def test_the_dashboard_is_well_formed():
    assert DASHBOARD["uid"] and DASHBOARD["title"]
    assert 36 <= DASHBOARD["schemaVersion"] <= 41
    ids = [panel["id"] for panel in panels()]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in panels():
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area


def test_the_dashboard_uses_the_provisioned_datasource():
    (datasource,) = DATASOURCES["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["uid"] == "prometheus"
    for panel in data_panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == datasource["uid"]


def test_the_datasource_points_at_the_compose_prometheus():
    (datasource,) = DATASOURCES["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    assert "9090:9090" in COMPOSE["services"]["prometheus"]["ports"]


def _mounts(service: str) -> dict[str, str]:
    """Container path -> host path of a compose service's bind mounts."""
    mounts = {}
    for volume in COMPOSE["services"][service]["volumes"]:
        host, container, *_ = volume.split(":")
        mounts[container] = host
    return mounts


def test_the_dashboard_provider_reads_the_folder_compose_mounts():
    (provider,) = PROVIDERS["providers"]
    assert provider["type"] == "file"
    host = _mounts("grafana")[provider["options"]["path"]]
    assert (ROOT / host).resolve() == (GRAFANA / "dashboards").resolve()
    assert (ROOT / host / "encore.json").is_file()
