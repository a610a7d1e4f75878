"""Which matcher parser reads a ``matchers:`` line: Alertmanager's compatibility modes.

Alertmanager >= 0.27 (``matcher/compat/parse.go``) has three modes, chosen by feature flag:

- ``classic``: only :mod:`~opsplane.domain.routing.parse_classic` (Alertmanager <= 0.26,
  and Debian's ``amtool`` 0.25).
- ``utf8``: only :mod:`~opsplane.domain.routing.parse_utf8` (``utf8-strict-mode``).
- ``fallback`` (the default): both run; where the classic parser succeeds its result is used
  (on disagreement too), otherwise the UTF-8 parser's. Only when both fail is it an error,
  with the classic parser's message.

``fallback`` therefore reads every input that the classic parser reads exactly as the classic
parser does (so opsplane agrees with ``amtool`` 0.25), and accepts UTF-8 label names on top.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

from opsplane.domain.routing import parse_classic, parse_utf8
from opsplane.domain.routing.matchers import Matcher, MatcherParseError, is_legacy_label_name

MatcherSyntax: TypeAlias = Literal["classic", "utf8", "fallback"]
"""Alertmanager's matcher parsing modes; ``fallback`` is its default."""


def parse_matchers(text: str, syntax: MatcherSyntax = "fallback") -> list[Matcher]:
    """One ``matchers:`` line (or a silence filter) as a list of matchers.

    Raises:
        MatcherParseError: the text is invalid in the chosen mode (a ``ValueError``; regexes
            that do not compile raise it too, or :class:`GoRegexError`, also a ``ValueError``).
    """
    if syntax == "classic":
        return parse_classic.parse_matchers(text)
    if syntax == "utf8":
        return parse_utf8.parse_matchers(text)
    try:
        return parse_classic.parse_matchers(text)
    except ValueError as classic_error:
        try:
            return parse_utf8.parse_matchers(text)
        except ValueError:
            raise classic_error from None


def parse_matcher(text: str, syntax: MatcherSyntax = "fallback") -> Matcher:
    """Exactly one matcher (``compat.Matcher``): an ``amtool`` label or filter argument.

    Raises:
        MatcherParseError: see :func:`parse_matchers`; in ``utf8`` and ``fallback`` mode braces
            around the matcher are rejected too.
    """
    if syntax == "classic":
        return parse_classic.parse_matcher(text)
    if text.startswith("{") or text.endswith("}"):
        raise MatcherParseError(f"unexpected open or close brace: {text}")
    if syntax == "utf8":
        return parse_utf8.parse_matcher(text)
    try:
        return parse_classic.parse_matcher(text)
    except ValueError as classic_error:
        try:
            return parse_utf8.parse_matcher(text)
        except ValueError:
            raise classic_error from None


def is_valid_label_name(name: str, syntax: MatcherSyntax = "fallback") -> bool:
    """``compat.IsValidLabelName``: classic names in ``classic`` mode, else any non-empty text."""
    if syntax == "classic":
        return is_legacy_label_name(name)
    return bool(name)
