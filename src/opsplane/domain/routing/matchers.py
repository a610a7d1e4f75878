"""Alertmanager label matchers: ``name=value``, ``!=``, ``=~`` and ``!~``.

A port of ``pkg/labels/matcher.go`` in prometheus/alertmanager:

- A regex matcher is fully anchored: Go compiles ``^(?:value)$`` and searches with it, so
  ``team-.*`` never matches ``xteam-a``. The Go syntax is translated by
  :mod:`opsplane.domain.routing.goregex`.
- A label the alert does not have has the value ``""``: ``env!="prod"`` and ``env=""`` match
  an alert without ``env``, ``env=~".+"`` does not.
- Several matchers are ANDed (``Matchers.Matches``); several matcher *sets* (a silence may have
  more than one) are ORed (``MatcherSet.Matches``).
- ``str(matcher)`` and :func:`format_matchers` print what Go's ``String()`` prints; route keys
  and ids are built from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from opsplane.domain.routing.goregex import compile_go
from opsplane.types import Labels

MatchType: TypeAlias = Literal["=", "!=", "=~", "!~"]
"""The four operators, written as in the YAML (Go's ``MatchType.String()``)."""

MATCH_TYPES: tuple[MatchType, ...] = ("=", "!=", "=~", "!~")
"""In Go's enum order (``MatchEqual`` .. ``MatchNotRegexp``), which breaks sort ties."""

_TYPE_ORDER = {t: i for i, t in enumerate(MATCH_TYPES)}
_LEGACY_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# pkg/labels/matcher.go isReserved: a name with one of these is printed quoted
_RESERVED = re.compile(r"[\s{}!=~,\\\"'`]")
_GO_QUOTE_ESCAPES = {
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
    '"': '\\"',
    "\\": "\\\\",
}


GO_WHITESPACE = (
    "\t\n\v\f\r \x85\xa0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + ("\u2028\u2029\u202f\u205f\u3000")
)
"""Go's ``unicode.IsSpace`` (``strings.TrimSpace``); ``str.isspace`` adds ``\\x1c``-``\\x1f``."""


class MatcherParseError(ValueError):
    """The text is not a valid matcher (list); the message follows Alertmanager's."""


def is_legacy_label_name(name: str) -> bool:
    """``model.LabelNameRE``: the classic Prometheus label name, ``[a-zA-Z_][a-zA-Z0-9_]*``."""
    return _LEGACY_LABEL_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher, as ``labels.NewMatcher(type, name, value)`` builds it.

    Raises:
        GoRegexError: (a ``ValueError``) for a regex matcher whose value does not compile.
    """

    type: MatchType
    name: str
    value: str
    _regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.type in ("=~", "!~"):
            object.__setattr__(self, "_regex", compile_go("^(?:" + self.value + ")$"))

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` for a missing label) satisfies this matcher."""
        kind = self.type
        if kind == "=":
            return value == self.value
        if kind == "!=":
            return value != self.value
        assert self._regex is not None  # set for both regex types in __post_init__
        found = self._regex.search(value) is not None
        return found if kind == "=~" else not found

    def matches_labels(self, labels: Labels) -> bool:
        """Whether the label set satisfies this matcher."""
        return self.matches(labels.get(self.name, ""))

    def sort_key(self) -> tuple[str, str, int]:
        """``Matchers.Less``: by name, then value, then operator (Go's enum order)."""
        return (self.name, self.value, _TYPE_ORDER[self.type])

    def __str__(self) -> str:
        """``Matcher.String()``: ``name="value"`` with OpenMetrics escaping of the value.

        A name that only the UTF-8 parser accepts (it holds a space, quote, brace, ...) is
        printed quoted, and so is the value then, with Go's ``strconv.Quote``.
        """
        if _RESERVED.search(self.name):
            return f"{go_quote(self.name)}{self.type}{go_quote(self.value)}"
        return f'{self.name}{self.type}"{open_metrics_escape(self.value)}"'


def open_metrics_escape(text: str) -> str:
    """``openMetricsEscape``: only backslash, newline and double quote are escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def go_quote(text: str) -> str:
    """Go's ``strconv.Quote`` for valid UTF-8 text."""
    out = []
    for ch in text:
        if ch in _GO_QUOTE_ESCAPES:
            out.append(_GO_QUOTE_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def sort_matchers(matchers: Iterable[Matcher]) -> tuple[Matcher, ...]:
    """The matchers in ``sort.Sort(labels.Matchers)`` order."""
    return tuple(sorted(matchers, key=Matcher.sort_key))


def legacy_matchers(
    match: Iterable[tuple[str, str]], match_re: Iterable[tuple[str, str]]
) -> list[Matcher]:
    """Matchers for the deprecated ``match:`` and ``match_re:`` maps (``NewRoute``).

    ``match_re`` values are anchored as ``^(?:value)$`` first, as the configuration's
    ``Regexp`` type does, so that is how they print in route keys.

    Raises:
        GoRegexError: a ``match_re`` value does not compile.
    """
    equal = [Matcher("=", name, value) for name, value in match]
    return equal + [Matcher("=~", name, f"^(?:{value})$") for name, value in match_re]


def matches_all(matchers: Sequence[Matcher], labels: Labels) -> bool:
    """``Matchers.Matches``: every matcher holds (true for no matchers)."""
    return all(m.matches(labels.get(m.name, "")) for m in matchers)


def matches_any_set(matcher_sets: Sequence[Sequence[Matcher]], labels: Labels) -> bool:
    """``MatcherSet.Matches``: at least one set matches in full (silences with several sets)."""
    return any(matches_all(matchers, labels) for matchers in matcher_sets)


def format_matchers(matchers: Sequence[Matcher]) -> str:
    """``Matchers.String()``: ``{a="1",b=~"x.*"}``, in the order given."""
    return "{" + ",".join(str(m) for m in matchers) + "}"
