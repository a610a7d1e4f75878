"""``Route.match``, keys, ids and inheritance agree with Alertmanager's ``dispatch/route_test.go``.

Every case of ``routes.json``: the config's ``route:`` is read by the spec layer (without the
whole-file checks, since some upstream trees have no root receiver), built into a tree, and the
alert's matched routes are compared field by field, in order.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from opsplane.domain.duration import format_duration
from opsplane.domain.routing import Route
from opsplane.spec.alertmanager_config import parse_route_tree
from tests.domain.routing.vectors import load, require

VECTORS = load("routes.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])
TREE_CASES: list[dict[str, Any]] = VECTORS.get("tree_cases", [])


def tree(case: dict[str, Any]) -> Route:
    return Route.build(parse_route_tree(case["config"]["route"], case["name"]))


def observed(route: Route, labels: dict[str, str]) -> dict[str, Any]:
    """A matched route in the vectors' vocabulary."""
    opts = route.opts
    return {
        "receiver": opts.receiver,
        "group_by": sorted(opts.group_by),
        "group_by_all": opts.group_by_all,
        "group_wait": format_duration(opts.group_wait),
        "group_interval": format_duration(opts.group_interval),
        "repeat_interval": format_duration(opts.repeat_interval),
        "key": route.key,
        "route_labels": dict(opts.labels),
        "group_labels": opts.group_labels(labels),
    }


def test_every_route_vector_is_collected() -> None:
    require("routes.json")
    assert VECTORS["format"] == "route-cases/v1"
    assert len(CASES) == 45
    assert len(TREE_CASES) == 3


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c['name']}: the alert reaches the upstream routes in order"
)
def test_matched_routes_agree_with_alertmanager(case: dict[str, Any]) -> None:
    labels = case["alert_labels"]
    expected = case["expected"]["routes"]
    got = [observed(r, labels) for r in tree(case).match(labels)]
    if case.get("partial"):  # upstream asserts only some fields (route labels)
        got = [{k: g[k] for k in e} for g, e in zip(got, expected, strict=False)]
    assert got == expected


def _by_path(root: Route, path: str) -> Route:
    node = root
    for index in re.findall(r"\[(\d+)\]", path):
        node = node.routes[int(index)]
    return node


@pytest.mark.parametrize("case", TREE_CASES, ids=lambda c: f"{c['name']}: the tree agrees")
def test_tree_properties_agree_with_alertmanager(case: dict[str, Any]) -> None:
    root = tree(case)
    if case["check"] == "walk_receivers":
        assert [r.opts.receiver for r in root.walk()] == case["expected"]
    elif case["check"] == "route_ids":
        assert [r.id for r in root.walk()] == case["expected"]
        assert len({r.id for r in root.walk()}) == len(case["expected"])
    else:
        assert case["check"] == "group_by_all_by_path"
        got = {path: _by_path(root, path).opts.group_by_all for path in case["expected"]}
        assert got == case["expected"]
