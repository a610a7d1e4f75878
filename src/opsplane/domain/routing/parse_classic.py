"""The classic matcher parser: a port of ``pkg/labels/parse.go`` (Alertmanager <= 0.26).

It is tolerant, and quirky in ways that configs in the wild rely on:

- ``{`` and ``}`` around the list are optional, and only one of each is trimmed, so
  ``{foo=bar}}`` is ``foo="bar}"``.
- Matchers are split at commas outside double quotes; ``\\"`` does not open or close a quote.
- A value may be quoted or not. Inside it ``\\"``, ``\\n`` and ``\\\\`` are escapes; any other
  backslash is literal (``bar\\t`` stays ``bar\\t``). An unescaped ``"`` inside is an error.
- The label name must be a classic one (``[a-zA-Z_:][a-zA-Z0-9_:]*``).

This is what ``amtool`` 0.25 (Debian's) uses for its ``k=v`` arguments and for ``matchers:``
in the configuration, and what Alertmanager >= 0.27 still uses first in its default
"fallback" mode (see :mod:`opsplane.domain.routing.parsing`).
"""

from __future__ import annotations

import re

from opsplane.domain.routing.matchers import GO_WHITESPACE, Matcher, MatcherParseError, MatchType

_SPACE = "[\t\n\f\r ]"  # Go's \s (ASCII only, no \v)
_MATCHER = re.compile(
    rf"{_SPACE}*([a-zA-Z_:][a-zA-Z0-9_:]*){_SPACE}*(=~|=|!=|!~){_SPACE}*(.*?){_SPACE}*\Z",
    re.DOTALL,
)


def parse_matchers(text: str) -> list[Matcher]:
    """``labels.ParseMatchers``: a comma-separated list, optionally in braces.

    Raises:
        MatcherParseError: a matcher is malformed.
        GoRegexError: a regex value does not compile.
    """
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for ch in text:
        if ch == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if ch == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif ch == "\\":
            escaped = not escaped
        elif ch != ",":
            escaped = False
        token.append(ch)
    last = "".join(token).strip(GO_WHITESPACE)
    if last:
        tokens.append(last)
    return [parse_matcher(t) for t in tokens]


def parse_matcher(text: str) -> Matcher:
    """``labels.ParseMatcher``: one ``name op value``.

    Raises:
        MatcherParseError: the text is malformed.
        GoRegexError: a regex value does not compile.
    """
    found = _MATCHER.match(text)
    if found is None:
        raise MatcherParseError(f"bad matcher format: {text}")
    name, op, raw = found.group(1), found.group(2), found.group(3)
    op_type: MatchType = op  # type: ignore[assignment]  # the regex only captures the four
    return Matcher(op_type, name, _unescape(raw))


def _unescape(raw: str) -> str:
    """The value of a matcher: quotes removed, OpenMetrics escapes resolved."""
    expect_trailing_quote = raw.startswith('"')
    body = raw[1:] if expect_trailing_quote else raw
    out: list[str] = []
    escaped = False
    last = len(body) - 1
    for i, ch in enumerate(body):
        if escaped:
            escaped = False
            out.append({"n": "\n", '"': '"', "\\": "\\"}.get(ch, "\\" + ch))
        elif ch == "\\":
            if i < last:
                escaped = True
            else:  # a backslash as the last character is literal
                out.append("\\")
        elif ch == '"':
            if not expect_trailing_quote or i < last:
                raise MatcherParseError(f"matcher value contains unescaped double quote: {raw}")
            expect_trailing_quote = False
        else:
            out.append(ch)
    if expect_trailing_quote:
        raise MatcherParseError(f"matcher value contains unescaped double quote: {raw}")
    return "".join(out)
