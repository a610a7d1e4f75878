"""Matcher parsing and matching agree with Alertmanager's own tests (``matchers.json``).

- ``utf8_parse_matchers``/``utf8_parse_matcher``: ``matcher/parse/parse_test.go``.
- ``classic_parse_matchers``: ``pkg/labels/parse_test.go``.
- ``match_value``: ``pkg/labels/matcher_test.go`` (anchoring, ``.`` and newlines).
- ``silence_matcher_sets``: ``silence/silence_test.go`` TestQMatches (sets are ORed).

Error cases must fail; the vectors' error texts are upstream's, and ours match them except
where Go's regexp library words an error differently, so the text is compared where it is not
about a regexp.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsplane.domain.routing import (
    Matcher,
    MatcherParseError,
    matches_any_set,
    parse_classic,
    parse_utf8,
)
from tests.domain.routing.vectors import load, require

VECTORS = load("matchers.json")


def cases(section: str) -> list[dict[str, Any]]:
    return list(VECTORS.get(section, {}).get("cases", []))


def as_dicts(matchers: list[Matcher]) -> list[dict[str, str]]:
    return [{"name": m.name, "type": m.type, "value": m.value} for m in matchers]


def check(case: dict[str, Any], parse: Any, *, single: bool = False) -> None:
    if "error" in case:
        with pytest.raises(ValueError, match=r".") as caught:
            parse(case["input"])
        if "regexp" not in case["error"]:
            assert str(caught.value) == case["error"]
        return
    got = parse(case["input"])
    assert as_dicts([got] if single else got) == (
        [case["expected"]] if single else case["expected"]
    )


def test_every_matcher_vector_is_collected() -> None:
    require("matchers.json")
    counts = {k: len(cases(k)) for k in VECTORS if k != "format"}
    assert counts == {
        "utf8_parse_matchers": 45,
        "utf8_parse_matcher": 31,
        "classic_parse_matchers": 52,
        "match_value": 17,
        "silence_matcher_sets": 10,
    }


@pytest.mark.parametrize(
    "case", cases("utf8_parse_matchers"), ids=lambda c: f"UTF-8 parser reads {c['name']}"
)
def test_utf8_parser_reads_matcher_lists_as_upstream(case: dict[str, Any]) -> None:
    check(case, parse_utf8.parse_matchers)


@pytest.mark.parametrize(
    "case", cases("utf8_parse_matcher"), ids=lambda c: f"UTF-8 parser reads one {c['name']}"
)
def test_utf8_parser_reads_one_matcher_as_upstream(case: dict[str, Any]) -> None:
    check(case, parse_utf8.parse_matcher, single=True)


@pytest.mark.parametrize(
    "case",
    cases("classic_parse_matchers"),
    ids=lambda c: f"classic parser reads {c['input']!r}",
)
def test_classic_parser_reads_matcher_lists_as_upstream(case: dict[str, Any]) -> None:
    check(case, parse_classic.parse_matchers)


@pytest.mark.parametrize(
    "case",
    cases("match_value"),
    ids=lambda c: (
        f"{c['matcher']['type']}{c['matcher']['value']!r} on {c['value']!r} is {c['expected']}"
    ),
)
def test_matching_a_value_agrees_with_upstream(case: dict[str, Any]) -> None:
    matcher = Matcher(case["matcher"]["type"], "name", case["matcher"]["value"])
    assert matcher.matches(case["value"]) is case["expected"]


@pytest.mark.parametrize("case", cases("silence_matcher_sets"), ids=lambda c: f"{c['name']}")
def test_matcher_sets_are_ored_and_matchers_anded(case: dict[str, Any]) -> None:
    sets = [[Matcher(m["type"], m["name"], m["value"]) for m in s] for s in case["matcher_sets"]]
    assert matches_any_set(sets, case["alert_labels"]) is case["expected_silenced"]


def test_a_parse_error_is_a_value_error() -> None:
    with pytest.raises(MatcherParseError, match="bad matcher format"):
        parse_classic.parse_matcher("{foo}")
