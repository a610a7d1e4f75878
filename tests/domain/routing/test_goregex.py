"""Go (RE2) regexes keep their Go meaning on Python's ``re`` (``goregex``).

Regex matchers are anchored as ``^(?:value)$`` and matched as Go would: the table lists
constructs that Python reads differently and the result Go gives (checked against Go's
``regexp`` documentation and ``regexp/syntax``); the second table lists what Go rejects.
"""

from __future__ import annotations

import pytest

from opsplane.domain.routing import GoRegexError, Matcher, compile_go

MATCHES = [
    # (pattern, value, Go's answer, why)
    ("team-.*", "team-a", True, "a regex matcher matches the whole value"),
    ("team", "xteam", False, "the match is anchored at the start"),
    ("team", "team\n", False, "$ is the end of the text, not before a final newline"),
    ("a.b", "a\nb", False, ". does not match a newline"),
    ("(?s)a.b", "a\nb", True, "(?s) lets . match a newline"),
    ("x(?s)a.b", "xa\nb", True, "a flag may appear mid-pattern"),
    ("a(?i)b|c", "C", True, "a mid-pattern flag lasts to the end of the group, across |"),
    ("a(?i)b|c", "AB", False, "it does not reach back before itself"),
    ("(?i:a)b", "AB", False, "a flag group scopes the flag"),
    ("(?i)[a-c]+", "ABC", True, "case-insensitive classes"),
    ("(?m)a$\nb", "a\nb", True, "(?m) makes $ match before a newline"),
    (r"\d+", "١٢", False, r"\d is ASCII only"),
    (r"\w", "é", False, r"\w is ASCII only"),
    (r"\W", "é", True, r"\W is everything else"),
    (r"[\W]", "é", True, r"\W inside a class too"),
    (r"\s", "\v", False, r"\s has no vertical tab"),
    (r"é\b", "é", False, r"\b is an ASCII word boundary"),
    (r"a\b", "a", True, r"\b at the end of a word"),
    ("[[:alpha:]]+", "abC", True, "POSIX classes"),
    ("[[:^digit:]]", "a", True, "negated POSIX classes"),
    ("[^a]", "\n", True, "a negated class matches a newline"),
    ("[]a]", "]", True, "] first in a class is literal"),
    ("[a-]", "-", True, "- last in a class is literal"),
    (r"[\d-z]", "-", True, "- after a class escape is literal"),
    ("[--/]", ".", True, "a range starting at -, without Python's set-operation warning"),
    ("[[]", "[", True, "[ inside a class is literal, without Python's nested-set warning"),
    ("x{,3}", "x{,3}", True, "{,n} is a literal in Go"),
    ("x{2}", "xx", True, "{n} repeats"),
    ("x{2,}", "xxx", True, "{n,} repeats"),
    ("a{", "a{", True, "an unfinished { is a literal"),
    (r"\Qa.b\E", "a.b", True, r"\Q...\E quotes"),
    (r"\Qa.b\E", "axb", False, r"... so . is literal there"),
    (r"\Qab\E*", "abbb", True, r"a repetition after \E applies to the last character"),
    (r"\x41\x{1F642}", "A🙂", True, "hex escapes"),
    (r"\101", "A", True, "octal escapes"),
    ("^*a", "a", True, "an assertion may be repeated"),
    ("(?U)a+", "aaa", True, "ungreedy mode changes nothing about a full match"),
    ("(?P<n>a)(?<m>b)", "ab", True, "named groups"),
    ("a|", "", True, "an empty alternative"),
    ("", "", True, "the empty pattern matches the empty value"),
    ("a)|(b", "b", True, "Go anchors by concatenation: ^(?:a)|(b)$ matches a b at the end"),
    ("a)|(b", "xb", True, "... anywhere before the end"),
]

REJECTED = [
    ("invalid[regexp", "missing closing ]"),
    ("a**", "invalid nested repetition operator"),
    ("a++", "invalid nested repetition operator"),
    ("*a", "missing argument to repetition operator"),
    ("(?=a)", "invalid or unsupported Perl syntax"),
    ("(?<=a)b", "invalid named capture"),  # Go >= 1.22 reads (?< as a named group
    ("(?>a)", "invalid or unsupported Perl syntax"),
    (r"(a)\1", "invalid escape sequence"),
    (r"\e", "invalid escape sequence"),
    (r"\Z", "invalid escape sequence"),
    ("a{1001}", "invalid repeat count"),
    ("x{3,2}", "invalid repeat count"),
    ("(?P<>a)", "invalid named capture"),
    ("(?)", "invalid or unsupported Perl syntax"),
    ("(a", "missing closing )"),
    ("a)", "unexpected )"),
    ("[[:foo:]]", "invalid character class range"),
    ("[z-a]", "invalid character class range"),
    (r"\pL", "unsupported Unicode class"),
    ("a\\", "trailing backslash"),
]


@pytest.mark.parametrize(
    ("pattern", "value", "expected", "why"), MATCHES, ids=[row[3] for row in MATCHES]
)
def test_a_regex_matcher_matches_as_go_does(
    pattern: str, value: str, expected: bool, why: str
) -> None:
    assert Matcher("=~", "l", pattern).matches(value) is expected, why
    assert Matcher("!~", "l", pattern).matches(value) is not expected


@pytest.mark.parametrize(
    ("pattern", "message"), REJECTED, ids=[f"Go rejects {p!r}" for p, _ in REJECTED]
)
def test_what_go_rejects_is_rejected(pattern: str, message: str) -> None:
    with pytest.raises(GoRegexError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_go(pattern)


def test_a_matcher_with_an_invalid_regex_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="error parsing regexp"):
        Matcher("=~", "job", "api-(")
