"""The Grafana dashboard under deploy/grafana/ queries only metrics that a live server's /v1/metrics exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from conftest import ROOT, Live

DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))
# The server's metric names all start with `triggers_` (its namespace); labels and functions never do.
_NAME = re.compile(r"\b(triggers_[a-z0-9_]+)\b")
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def expressions(dashboard: Path) -> list[str]:
    doc: dict[str, Any] = json.loads(dashboard.read_text())
    return [target["expr"] for panel in doc["panels"] for target in panel.get("targets", [])]


def exported(exposition: str) -> dict[str, str]:
    """Metric family name -> type, from the `# TYPE` lines (present even before a labelled series has a sample)."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", exposition, flags=re.MULTILINE))


def is_exported(name: str, families: dict[str, str]) -> bool:
    if name in families:
        return True
    histogram = (name.removesuffix(suffix) for suffix in _HISTOGRAM_SERIES if name.endswith(suffix))
    return any(families.get(base) == "histogram" for base in histogram)


def test_every_dashboard_expression_names_only_exported_metrics(live: Live) -> None:
    assert DASHBOARDS, "no dashboard under deploy/grafana/"
    response = live.api.get("/metrics")
    assert response.status_code == 200, response.text
    families = exported(response.text)
    assert "triggers_events_ingested_total" in families  # the exposition was really read
    for dashboard in DASHBOARDS:
        exprs = expressions(dashboard)
        assert len(exprs) >= 10, dashboard.name
        for expr in exprs:
            names = set(_NAME.findall(expr))
            assert names, f"{dashboard.name}: {expr!r} names no triggers_ metric"
            missing = sorted(name for name in names if not is_exported(name, families))
            assert missing == [], f"{dashboard.name}: {expr!r} names metrics /metrics does not export: {missing}"


def test_a_misspelt_metric_would_be_caught() -> None:
    families = {"triggers_ingest_latency_seconds": "histogram", "triggers_dlq_depth": "gauge"}
    assert is_exported("triggers_ingest_latency_seconds_bucket", families)
    assert not is_exported("triggers_dlq_depth_bucket", families)
    assert not is_exported("triggers_dlq_dept", families)
