"""Alert routing benchmark: alerts/s through ``Route.match`` on a 50-route tree (target 10,000/s).

The tree is what a mid-sized organisation runs: a pager route with ``continue`` for every
critical alert, then 12 teams matched by regex (``team=~"payments|billing"``), each with
routes per environment (``env=~"prod|production"``), a severity route and a regex on the
service name, plus legacy ``match``/``match_re`` routes and catch-alls; 50 routes in all. The
alerts are 50,000 seeded random label sets with 7 labels each, about half of them matching a
team.

Printed beside it, measured in the same run:

- naive: the same routing where every node re-parses its ``matchers:`` lines and recompiles
  its regexes for every alert (what a router without a built tree would do), on 2,000 alerts;
- amtool: ``amtool config routes test`` on the same configuration, one process per alert (its
  only interface), amortised per alert over 30 runs. This includes process start and config
  loading, so it measures amtool as a tool, not Alertmanager's in-process dispatcher.

Every alert is routed identically by the three (checked on the naive subset and the amtool runs).

Usage: python bench/alerting.py [N_ALERTS]
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from opsplane.domain.routing import Route, matches_all, parse_matchers
from opsplane.domain.routing.matchers import legacy_matchers
from opsplane.spec.alertmanager_config import load_alertmanager_config

TARGET_PER_SECOND = 10_000
TEAMS = [
    "payments|billing",
    "checkout",
    "search|discovery",
    "identity",
    "platform-.*",
    "data",
    "mobile",
    "web",
    "ml|ai",
    "security",
    "growth",
    "support",
]
ENVS = ("prod", "production", "staging", "dev", "qa")
SEVERITIES = ("critical", "warning", "info")
NAIVE_ALERTS = 2_000
AMTOOL_RUNS = 30


def team_route(i: int, team: str) -> dict[str, Any]:
    """Four routes: the team, then prod, staging and its own services below it."""
    return {
        "matchers": [f'team=~"{team}"'],
        "receiver": f"team-{i}",
        "group_by": ["alertname", "service"],
        "routes": [
            {
                "matchers": ['env=~"prod|production"', 'severity="critical"'],
                "receiver": f"team-{i}-pager",
            },
            {
                "matchers": ['env=~"staging|qa"'],
                "receiver": f"team-{i}-staging",
                "group_wait": "1m",
            },
            {
                "matchers": [f'service=~"svc-{i}[0-9]+"', 'severity!="info"'],
                "receiver": f"team-{i}-svc",
            },
        ],
    }


def config() -> dict[str, Any]:
    """The 50-route tree: root, pager, 11 teams x 4, legacy ``match`` routes, a catch-all."""
    routes: list[dict[str, Any]] = [
        {
            "matchers": ['severity="critical"', 'env=~"prod.*"'],
            "receiver": "pager",
            "continue": True,
        }
    ]
    routes += [team_route(i, team) for i, team in enumerate(TEAMS)]
    routes[-1] = {  # legacy match/match_re routes
        "match": {"team": "support"},
        "receiver": "support",
        "routes": [{"match_re": {"severity": "critical|warning"}, "receiver": "support-urgent"}],
    }
    routes[-2]["routes"].append({"match_re": {"env": "prod|production"}, "receiver": "growth-prod"})
    routes.append({"matchers": ['alertname=~"Watchdog|InfoInhibitor"'], "receiver": "null"})
    receivers = {"default"}
    for node in _walk({"routes": routes}):
        receivers.add(node.get("receiver", "default"))
    return {
        "route": {"receiver": "default", "group_by": ["alertname"], "routes": routes},
        "receivers": [{"name": r} for r in sorted(receivers)],
    }


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("routes", []):
        out += _walk(child)
    return out


def alerts(n: int, rng: random.Random) -> list[dict[str, str]]:
    """``n`` label sets; a team label from the tree half of the time."""
    teams = [
        "payments",
        "billing",
        "checkout",
        "search",
        "identity",
        "platform-core",
        "data",
        "mobile",
        "web",
        "ai",
        "security",
        "growth",
        "support",
        "unowned",
        "legacy",
    ]
    return [
        {
            "alertname": rng.choice(
                ["HighErrorRate", "HighLatency", "Down", "Watchdog", "DiskFull"]
            ),
            "team": rng.choice(teams),
            "env": rng.choice(ENVS),
            "severity": rng.choice(SEVERITIES),
            "service": f"svc-{rng.randrange(12)}{rng.randrange(100)}",
            "cluster": f"c{rng.randrange(8)}",
            "instance": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}:9100",
        }
        for _ in range(n)
    ]


def naive_receivers(node: dict[str, Any], labels: dict[str, str], inherited: str) -> list[str]:
    """``Route.Match`` over the raw config, parsing and compiling matchers at every visit."""
    matchers = [m for line in node.get("matchers", []) for m in parse_matchers(line)]
    matchers += legacy_matchers(node.get("match", {}).items(), node.get("match_re", {}).items())
    if not matches_all(matchers, labels):
        return []
    receiver = node.get("receiver") or inherited
    found: list[str] = []
    for child in node.get("routes", []):
        matched = naive_receivers(child, labels, receiver)
        found += matched
        if matched and not child.get("continue", False):
            break
    return found or [receiver]


def measure(root: Route, batch: list[dict[str, str]]) -> tuple[float, list[list[str]]]:
    started = time.perf_counter()
    results = [[r.opts.receiver for r in root.match(labels)] for labels in batch]
    return time.perf_counter() - started, results


def amtool_per_alert(path: Path, batch: list[dict[str, str]], root: Route) -> float | None:
    """Seconds per ``amtool config routes test`` call; checks each answer against ours."""
    binary = shutil.which("amtool")
    if binary is None:
        return None
    started = time.perf_counter()
    for labels in batch:
        args = [f"{k}={v}" for k, v in labels.items()]
        out = subprocess.run(  # noqa: S603  # amtool from PATH, our own arguments
            [binary, "config", "routes", "test", f"--config.file={path}", *args],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out == ",".join(root.receivers(labels)) + "\n", (labels, out)
    return (time.perf_counter() - started) / len(batch)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "alertmanager.yml"
        raw = config()
        path.write_text(yaml.safe_dump(raw), encoding="utf-8")
        routing = load_alertmanager_config(path)
        root = routing.route
        routes = sum(1 for _ in root.walk())
        assert routes == 50, routes
        batch = alerts(n, random.Random(5))
        measure(root, batch[:1000])  # warm up
        elapsed, results = measure(root, batch)
        rate = n / elapsed
        sample = batch[:NAIVE_ALERTS]
        started = time.perf_counter()
        naive = [naive_receivers(raw["route"], labels, "") for labels in sample]
        naive_rate = len(sample) / (time.perf_counter() - started)
        assert naive == results[: len(sample)], "the naive router disagrees"
        amtool = amtool_per_alert(path, batch[:AMTOOL_RUNS], root)
    fanout = sum(len(r) for r in results) / n
    print(f"routing tree: {routes} routes, {n:,} alerts, {fanout:.2f} receivers per alert")
    print(f"Route.match:           {rate:12,.0f} alerts/s  (target >= {TARGET_PER_SECOND:,})")
    print(f"naive re-parse router: {naive_rate:12,.0f} alerts/s  ({rate / naive_rate:.0f}x slower)")
    if amtool is None:
        print("amtool:                not installed (apt-get install prometheus-alertmanager)")
    else:
        print(
            f"amtool, per process:   {1 / amtool:12,.0f} alerts/s  "
            f"({amtool * 1000:.1f} ms per call; same receivers for all {AMTOOL_RUNS} alerts)"
        )
    print("PASS" if rate >= TARGET_PER_SECOND else "FAIL: below target")
    if rate < TARGET_PER_SECOND:
        sys.exit(1)


if __name__ == "__main__":
    main()
