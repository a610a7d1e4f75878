"""Matcher parsing modes, printing and ordering (``parsing``, ``matchers``).

Alertmanager's default ``fallback`` mode reads an input as the classic parser does whenever the
classic parser accepts it, and only otherwise as the UTF-8 parser does (``matcher/compat``).
"""

from __future__ import annotations

import pytest

from opsplane.domain.routing import (
    Matcher,
    MatcherParseError,
    format_matchers,
    matches_all,
    parse_matcher,
    parse_matchers,
)
from opsplane.domain.routing.matchers import sort_matchers
from opsplane.domain.routing.parsing import MatcherSyntax, is_valid_label_name

M = Matcher

MODES: list[tuple[str, str, MatcherSyntax, list[Matcher] | str]] = [
    # (sentence, input, mode, matchers or an error fragment)
    (
        "fallback keeps the classic reading of {foo=bar}}",
        "{foo=bar}}",
        "fallback",
        [M("=", "foo", "bar}")],
    ),
    ("utf8 rejects an unbalanced brace", "{foo=bar}}", "utf8", "expected end of input"),
    ("fallback keeps classic's literal \\t", r"foo=bar\t", "fallback", [M("=", "foo", "bar\\t")]),
    (
        "fallback reads a UTF-8 name classic rejects",
        '"fo o"="x"',
        "fallback",
        [M("=", "fo o", "x")],
    ),
    ("classic rejects a quoted name", '"foo"="x"', "classic", "bad matcher format"),
    (
        "fallback reports classic's error when both fail",
        "foo",
        "fallback",
        "bad matcher format: foo",
    ),
    (
        "several lines' worth of matchers in braces",
        '{a="1", b=~"x|y",}',
        "fallback",
        [M("=", "a", "1"), M("=~", "b", "x|y")],
    ),
    ("the empty string has no matchers", "", "fallback", []),
    ("a comma inside quotes is not a separator", 'a="x,y"', "classic", [M("=", "a", "x,y")]),
    (
        "an escaped quote does not end a value",
        r'a="say \"hi\""',
        "fallback",
        [M("=", "a", 'say "hi"')],
    ),
    (
        "whitespace around tokens is ignored",
        ' a = "1" , b != 2 ',
        "fallback",
        [M("=", "a", "1"), M("!=", "b", "2")],
    ),
]


@pytest.mark.parametrize(
    ("sentence", "text", "mode", "expected"), MODES, ids=[row[0] for row in MODES]
)
def test_parsing_modes(
    sentence: str, text: str, mode: MatcherSyntax, expected: list[Matcher] | str
) -> None:
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected.replace("{", r"\{")):
            parse_matchers(text, mode)
    else:
        assert parse_matchers(text, mode) == expected, sentence


def test_one_matcher_in_fallback_mode_may_not_have_braces() -> None:
    with pytest.raises(MatcherParseError, match="unexpected open or close brace"):
        parse_matcher("{a=b}")
    assert parse_matcher('a="b"') == M("=", "a", "b")


def test_classic_single_matcher_rejects_braces_by_its_name_rule() -> None:
    with pytest.raises(MatcherParseError, match="bad matcher format"):
        parse_matcher("{a=b}", "classic")


PRINTED = [
    ("a value is quoted", M("=", "job", "api"), 'job="api"'),
    ("a regex prints as written", M("=~", "env", "prod|staging"), 'env=~"prod|staging"'),
    ("quote, backslash and newline are escaped", M("!=", "q", 'a"b\\c\nd'), 'q!="a\\"b\\\\c\\nd"'),
    ("a tab is not (OpenMetrics escaping)", M("!~", "t", "a\tb"), 't!~"a\tb"'),
    ("a UTF-8 name is quoted, value too", M("=", "fo o", "x\ty"), '"fo o"="x\\ty"'),
]


@pytest.mark.parametrize(("sentence", "matcher", "text"), PRINTED, ids=[row[0] for row in PRINTED])
def test_a_matcher_prints_as_go_does(sentence: str, matcher: Matcher, text: str) -> None:
    assert str(matcher) == text, sentence


def test_matchers_sort_by_name_then_value_then_operator() -> None:
    unsorted = [M("!~", "b", "x"), M("=", "b", "x"), M("=", "a", "z"), M("=~", "b", "a")]
    assert format_matchers(sort_matchers(unsorted)) == '{a="z",b=~"a",b="x",b!~"x"}'
    assert format_matchers([]) == "{}"


def test_a_missing_label_has_the_empty_value() -> None:
    labels = {"job": "api"}
    assert matches_all([M("=", "env", "")], labels)
    assert matches_all([M("!=", "env", "prod")], labels)
    assert not matches_all([M("=~", "env", ".+")], labels)
    assert matches_all([], labels)


@pytest.mark.parametrize(
    ("name", "mode", "valid"),
    [
        ("job", "classic", True),
        ("_x1", "classic", True),
        ("1x", "classic", False),
        ("föö", "classic", False),
        ("föö", "fallback", True),
        ("", "fallback", False),
    ],
    ids=repr,
)
def test_label_names_follow_the_mode(name: str, mode: MatcherSyntax, valid: bool) -> None:
    assert is_valid_label_name(name, mode) is valid
