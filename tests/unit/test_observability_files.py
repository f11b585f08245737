"""deploy/prometheus and deploy/grafana against the code: every query reads a metric the services
define, the rule and scrape files are valid for promtool, each alert fires as its tests say and
links a section of docs/runbook.md, and the scrape targets are the services' default ports."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import shared.observability.metrics  # noqa: F401  (defines the series)
from apps.stack.processes import SERVICES
from shared.observability.metrics_server import metrics_port_of
from shared.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
DASHBOARD = REPO_ROOT / "deploy" / "grafana" / "billing.json"
RUNBOOK = REPO_ROOT / "docs" / "runbook.md"
# Series Prometheus itself adds to every scrape.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds"})
KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
)
SAMPLE_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}


def defined_series() -> set[str]:
    """Every sample name the process's metrics can expose (a histogram's _bucket, _count, ...)."""
    names = set(PROMETHEUS_SERIES)
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in SAMPLE_SUFFIXES.get(family.type, ("",))}
    return names


def series_read_by(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (strings, matchers, ranges and label lists removed)."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", bare)
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    names = set()
    for word in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", bare):
        follows = bare[word.end() :].lstrip()
        if word.group() not in KEYWORDS and not follows.startswith("("):  # a function call
            names.add(word.group())
    return names


def promtool() -> str:
    found = REPO_ROOT / ".local" / "bin" / "promtool"
    path = str(found) if found.exists() else shutil.which("promtool")
    assert path, "promtool is missing: `make setup` extracts it into .local/bin"
    return path


def run_promtool(*args: str, cwd: Path = PROMETHEUS) -> None:
    done = subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def alert_rules() -> list[dict[str, Any]]:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yaml").read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[tuple[str, str]]:
    board = json.loads(DASHBOARD.read_text())
    return [(panel["title"], target["expr"]) for panel in board["panels"] for target in panel["targets"]]


def runbook_anchors() -> set[str]:
    """GitHub's anchors of the runbook's headings."""
    headings = re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in headings}


def test_the_query_parser_finds_metric_names_only() -> None:
    expr = 'sum by (le, provider) (rate(a_bucket{outcome="x y"}[5m])) / on(job) b > 1e3 and c offset 5m'
    assert series_read_by(expr) == {"a_bucket", "b", "c"}


def test_every_alert_reads_metrics_our_code_defines() -> None:
    defined = defined_series()
    for rule in alert_rules():
        unknown = series_read_by(rule["expr"]) - defined
        assert not unknown, (rule["alert"], unknown)


def test_the_alerts_an_sre_needs_exist() -> None:
    read = {rule["alert"]: series_read_by(rule["expr"]) for rule in alert_rules()}
    wanted = {
        "billing_consumer_lag_messages",
        "billing_dead_letter_depth",
        "billing_outbox_oldest_age_seconds",
        "billing_provider_call_errors_total",
        "billing_secret_age_seconds",
    }
    assert wanted <= set().union(*read.values())


def test_every_alert_has_a_severity_a_summary_and_its_runbook_section() -> None:
    anchors = runbook_anchors()
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert (page, anchor) == ("docs/runbook.md", rule["alert"].lower()), rule["alert"]
        assert anchor in anchors, f"docs/runbook.md has no section {rule['alert']}"


def test_promtool_accepts_the_rules_and_the_scrape_config() -> None:
    run_promtool("check", "rules", "alerts.yaml")
    run_promtool("check", "config", "prometheus.yaml")


def test_alerts_fire_on_the_series_their_tests_give() -> None:
    run_promtool("test", "rules", "alerts.test.yaml")


def test_the_scrape_config_reaches_each_service_on_its_default_port() -> None:
    config = yaml.safe_load((PROMETHEUS / "prometheus.yaml").read_text())
    targets = {
        job["job_name"]: [t for static in job["static_configs"] for t in static["targets"]]
        for job in config["scrape_configs"]
    }
    settings = Settings()
    ports = {"gateway": settings.gateway_port} | {
        service: metrics_port_of(settings, service) for service in SERVICES if service != "gateway"
    }
    assert targets == {f"billing-{service}": [f"127.0.0.1:{port}"] for service, port in ports.items()}


def test_default_metrics_ports_never_collide_in_billing_up() -> None:
    settings = Settings()
    ports = [settings.gateway_port, settings.revenuecat.sandbox_port] + [
        metrics_port_of(settings, service) for service in SERVICES if service != "gateway"
    ]
    assert all(ports) and len(set(ports)) == len(ports)


def test_metrics_port_overrides_every_consumer_port() -> None:
    settings = Settings(metrics_port=9100)
    assert {metrics_port_of(settings, s) for s in ("ingest", "worker", "catalog-sync")} == {9100}


def test_every_dashboard_panel_reads_metrics_our_code_defines() -> None:
    defined = defined_series()
    exprs = dashboard_exprs()
    for title, expr in exprs:
        unknown = series_read_by(expr) - defined
        assert series_read_by(expr) and not unknown, (title, unknown)
    shown = set().union(*(series_read_by(expr) for _, expr in exprs))
    assert {
        "billing_webhooks_received_total",
        "billing_webhook_accept_seconds_bucket",
        "billing_consumer_lag_messages",
        "billing_dead_letter_depth",
        "billing_outbox_oldest_age_seconds",
        "billing_provider_call_errors_total",
        "billing_checkouts_total",
    } <= shown


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each panel's query as a recording rule's expression."""
    rules = [
        {"record": f"dashboard:query_{n}", "expr": expr} for n, (_, expr) in enumerate(dashboard_exprs())
    ]
    (tmp_path / "dashboard.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    run_promtool("check", "rules", "dashboard.yaml", cwd=tmp_path)


@pytest.mark.parametrize("panel", json.loads(DASHBOARD.read_text())["panels"], ids=lambda p: p["title"])
def test_dashboard_panels_use_the_datasource_variable(panel: dict[str, Any]) -> None:
    assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
