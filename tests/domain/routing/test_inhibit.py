"""The inhibition predicate (``inhibit``): when an active source alert mutes a target."""

from __future__ import annotations

import pytest

from opsplane.domain.routing import InhibitRule, Matcher, mutes

CRITICAL_MUTES_WARNING = InhibitRule.build(
    source_matchers=[Matcher("=", "severity", "critical")],
    target_match_re=[("severity", "warning|info")],
    equal=["cluster"],
)

PAIRS = [
    (
        "a critical alert mutes a warning in its cluster",
        {"severity": "critical", "cluster": "a"},
        {"severity": "warning", "cluster": "a"},
        True,
    ),
    (
        "not one in another cluster",
        {"severity": "critical", "cluster": "a"},
        {"severity": "warning", "cluster": "b"},
        False,
    ),
    (
        "a label missing on both sides is equal",
        {"severity": "critical"},
        {"severity": "info"},
        True,
    ),
    (
        "missing on one side is not",
        {"severity": "critical", "cluster": "a"},
        {"severity": "info"},
        False,
    ),
    (
        "the target must match the target matchers",
        {"severity": "critical"},
        {"severity": "page"},
        False,
    ),
    ("a legacy match_re is anchored", {"severity": "critical"}, {"severity": "warnings"}, False),
    (
        "the source must match the source matchers",
        {"severity": "warning"},
        {"severity": "warning"},
        False,
    ),
]


@pytest.mark.parametrize(
    ("sentence", "source", "target", "expected"), PAIRS, ids=[p[0] for p in PAIRS]
)
def test_inhibits(
    sentence: str, source: dict[str, str], target: dict[str, str], expected: bool
) -> None:
    assert CRITICAL_MUTES_WARNING.inhibits(source, target) is expected, sentence


def test_an_alert_that_could_be_either_side_never_inhibits_its_kind() -> None:
    rule = InhibitRule.build(source_match=[("alertname", "X")], target_match=[("alertname", "X")])
    assert not rule.inhibits({"alertname": "X", "i": "1"}, {"alertname": "X", "i": "2"})


def test_mutes_asks_every_rule_about_every_active_source() -> None:
    other = InhibitRule.build(source_match=[("alertname", "Maintenance")])
    sources = [{"severity": "critical", "cluster": "b"}, {"alertname": "Maintenance"}]
    assert mutes([CRITICAL_MUTES_WARNING, other], {"severity": "warning", "cluster": "a"}, sources)
    assert not mutes([CRITICAL_MUTES_WARNING], {"severity": "warning", "cluster": "a"}, sources)
    assert not mutes([other], {"alertname": "x"}, [])
