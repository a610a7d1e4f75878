"""The inhibition predicate agrees with Alertmanager's ``inhibit/inhibit_test.go``.

Each case of ``inhibit.json`` ingests its source alerts in order (a later alert with the same
label set replaces an earlier one), keeps those still active at ``now`` (``endsAt`` unset or
after ``now``), and asks :func:`mutes` about the target; ``has_equal`` cases ask whether an
active source has the same ``equal`` labels as the target.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from opsplane.domain.routing import mutes
from opsplane.spec.alertmanager_config import parse_alertmanager_config
from tests.domain.routing.vectors import load, require

VECTORS = load("inhibit.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])


def active_sources(case: dict[str, Any]) -> list[dict[str, str]]:
    now = datetime.fromisoformat(case["now"])
    latest: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for alert in case["source_alerts"]:
        latest[tuple(sorted(alert["labels"].items()))] = alert
    return [
        a["labels"]
        for a in latest.values()
        if a["endsAt"] is None or datetime.fromisoformat(a["endsAt"]) > now
    ]


def rules(case: dict[str, Any]) -> Any:
    config = {"route": {"receiver": "r"}, "receivers": [{"name": "r"}], **case["config"]}
    return parse_alertmanager_config(config, case["name"]).inhibit_rules


def test_every_inhibit_vector_is_collected() -> None:
    require("inhibit.json")
    assert VECTORS["format"] == "inhibit-cases/v1"
    assert len(CASES) == 35


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=lambda c: (
        f"{c['name']}: {'muted' if c['expected'].get('muted') else 'not muted'}"
        if c["check"] == "mutes"
        else f"{c['name']}: has_equal is {c['expected']['has_equal']}"
    ),
)
def test_inhibition_agrees_with_alertmanager(case: dict[str, Any]) -> None:
    sources = active_sources(case)
    if case["check"] == "mutes":
        assert mutes(rules(case), case["alert_labels"], sources) is case["expected"]["muted"]
    else:
        (rule,) = rules(case)
        found = any(rule.equal_labels_match(s, case["alert_labels"]) for s in sources)
        assert found is case["expected"]["has_equal"]
