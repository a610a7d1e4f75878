"""The routing tree: inheritance, ``continue`` and identity (``route``), on domain types only."""

from __future__ import annotations

import pytest

from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.routing import Matcher, Route, RouteConfig
from opsplane.domain.routing.route import parse_group_by, parse_route_duration

TREE = RouteConfig(
    receiver="default",
    group_by=("alertname",),
    routes=(
        RouteConfig(
            receiver="pager",
            matchers=(Matcher("=", "severity", "page"),),
            continue_=True,
            group_wait=0,
            labels=(("tier", "1"),),
        ),
        RouteConfig(
            match=(("team", "db"),),
            group_by=(),
            repeat_interval=HOUR,
            labels=(("team", "db"),),
            routes=(
                RouteConfig(
                    receiver="db-prod",
                    match_re=(("env", "prod|production"),),
                    mute_time_intervals=("nights",),
                    labels=(("tier", "2"),),
                ),
            ),
        ),
        RouteConfig(receiver="catch-db", match=(("team", "db"),), group_by_all=True),
    ),
)
ROOT = Route.build(TREE)


def receivers(**labels: str) -> list[str]:
    return ROOT.receivers(labels)


ROUTING = [
    ("an alert no child matches goes to the root", {"team": "web"}, ["default"]),
    (
        "continue lets the next sibling match too",
        {"severity": "page", "team": "db"},
        ["pager", "default"],
    ),
    ("a child without a receiver inherits its parent's", {"team": "db"}, ["default"]),
    ("the deepest matching node wins", {"team": "db", "env": "production"}, ["db-prod"]),
    ("a match_re value is anchored", {"team": "db", "env": "preprod"}, ["default"]),
    (
        "after a match without continue, later siblings are not tried",
        {"team": "db", "env": "prod"},
        ["db-prod"],
    ),
    (
        "with only the continue route matching, the root does not match itself",
        {"severity": "page"},
        ["pager"],
    ),
]


@pytest.mark.parametrize(("sentence", "labels", "expected"), ROUTING, ids=[r[0] for r in ROUTING])
def test_routing(sentence: str, labels: dict[str, str], expected: list[str]) -> None:
    assert ROOT.receivers(labels) == expected, sentence


def test_options_are_inherited_and_overridden() -> None:
    pager, db, catch = ROOT.routes
    (db_prod,) = db.routes
    assert (pager.opts.group_wait, pager.opts.group_interval) == (0, 5 * MINUTE)
    assert pager.opts.group_by == frozenset({"alertname"})
    assert db.opts.group_by == frozenset()  # an explicit [] replaces the parent's labels
    assert db_prod.opts.repeat_interval == HOUR
    assert catch.opts.group_by_all
    assert ROOT.opts.repeat_interval == 4 * HOUR


def test_labels_merge_and_time_intervals_do_not_inherit() -> None:
    _, db, _ = ROOT.routes
    (db_prod,) = db.routes
    assert dict(db_prod.opts.labels) == {"team": "db", "tier": "2"}
    assert db_prod.opts.mute_time_intervals == ("nights",)
    assert db.opts.mute_time_intervals == ()


def test_keys_ids_and_post_order_indices() -> None:
    _, db, catch = ROOT.routes
    (db_prod,) = db.routes
    assert db_prod.key == '{}/{team="db"}/{env=~"^(?:prod|production)$"}'
    assert (db.key, catch.key) == ('{}/{team="db"}', '{}/{team="db"}')  # keys are not unique
    assert (db.id, catch.id) == ('{}/{team="db"}/1', '{}/{team="db"}/2')  # ids are
    assert [r.idx for r in ROOT.walk()] == [4, 0, 2, 1, 3]
    assert ROOT.find(db_prod.id) is db_prod


def test_group_labels_keep_only_the_grouping_labels() -> None:
    pager, _, catch = ROOT.routes
    labels = {"alertname": "Down", "severity": "page", "team": "db"}
    assert pager.opts.group_labels(labels) == {"alertname": "Down"}
    assert catch.opts.group_labels(labels) == labels


GROUP_BY = [
    ("['...'] groups by all labels", ["..."], (None, True)),
    ("[] is an explicit empty list", [], ((), False)),
    ("labels are kept in order", ["b", "a"], (("b", "a"), False)),
]


@pytest.mark.parametrize(("sentence", "names", "expected"), GROUP_BY, ids=[g[0] for g in GROUP_BY])
def test_group_by(
    sentence: str, names: list[str], expected: tuple[tuple[str, ...] | None, bool]
) -> None:
    assert parse_group_by(names) == expected, sentence


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["...", "a"], "cannot have wildcard group_by"),
        (["a", "a"], 'duplicated label "a" in group_by'),
        (["a-b"], 'invalid label name "a-b" in group_by list'),
    ],
    ids=["'...' cannot be mixed with labels", "a label once", "classic names in classic mode"],
)
def test_group_by_rules(names: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_group_by(names, "classic")


def test_route_durations_allow_zero() -> None:
    assert parse_route_duration("0s") == 0
    assert parse_route_duration("1h30m") == 90 * MINUTE
    with pytest.raises(ValueError, match="not a valid duration"):
        parse_route_duration("5x")
