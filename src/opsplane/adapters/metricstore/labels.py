"""Series labels, label matchers and the inverted index that resolves selectors to series.

Semantics follow Prometheus 2.42 (``model/labels``, ``tsdb/querier.go``):

- A label with an empty value is the same as an absent label (``labels.Labels`` drops them on
  ingest), so a series is stored under its sorted non-empty labels.
- Matchers ``=``, ``!=``, ``=~``, ``!~``; regexes are fully anchored, ``^(?:re)$``
  (``labels.NewFastRegexMatcher``). Python's ``re`` stands in for RE2: the two agree on the
  syntax selectors use, and POSIX classes such as ``[[:alpha:]]`` are translated.
- ``PostingsForMatchers`` (tsdb/querier.go): matchers that do not match the empty string
  intersect the postings of the label values they match; matchers that match it subtract the
  postings of the values they reject, so series without the label are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

LabelTuple: TypeAlias = tuple[tuple[str, str], ...]
MatchOp: TypeAlias = Literal["=", "!=", "=~", "!~"]

METRIC_NAME = "__name__"
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# RE2 POSIX classes (https://github.com/google/re2/wiki/Syntax) that Python's re lacks.
_POSIX_CLASSES = {
    "[:alnum:]": "0-9A-Za-z",
    "[:alpha:]": "A-Za-z",
    "[:ascii:]": "\\x00-\\x7f",
    "[:blank:]": "\\t ",
    "[:cntrl:]": "\\x00-\\x1f\\x7f",
    "[:digit:]": "0-9",
    "[:graph:]": "!-~",
    "[:lower:]": "a-z",
    "[:print:]": " -~",
    "[:punct:]": "!-/:-@\\[-`{-~",
    "[:space:]": "\\t\\n\\v\\f\\r ",
    "[:upper:]": "A-Z",
    "[:word:]": "0-9A-Za-z_",
    "[:xdigit:]": "0-9A-Fa-f",
}


def canonical_labels(pairs: Iterable[tuple[str, str]]) -> LabelTuple:
    """Sorted labels without empty values; raises ``ValueError`` on invalid or repeated names."""
    out: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(name, str) or not isinstance(value, str):
            msg = f"label names and values must be strings, got {name!r}={value!r}"
            raise ValueError(msg)
        if not _LABEL_NAME.fullmatch(name):
            msg = f"invalid label name {name!r}"
            raise ValueError(msg)
        if name in out:
            msg = f"label {name!r} appears twice"
            raise ValueError(msg)
        out[name] = value
    metric = out.get(METRIC_NAME)
    if metric is not None and not _METRIC_NAME.fullmatch(metric):
        msg = f"invalid metric name {metric!r}"
        raise ValueError(msg)
    return tuple(sorted((k, v) for k, v in out.items() if v))


def without_name(labels: LabelTuple) -> LabelTuple:
    """The labels minus ``__name__``: what ``rate()`` returns (engine.go ``dropMetricName``)."""
    return tuple(p for p in labels if p[0] != METRIC_NAME)


def _re2_to_python(pattern: str) -> str:
    for posix, chars in _POSIX_CLASSES.items():
        pattern = pattern.replace(posix, chars)
    return pattern


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label matcher of a vector selector."""

    name: str
    op: MatchOp
    value: str
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: MatchOp, value: str) -> Matcher:
        """A matcher; ``ValueError`` when a regex does not compile."""
        regex = None
        if op in ("=~", "!~"):
            try:
                regex = re.compile(f"(?:{_re2_to_python(value)})")
            except re.error as exc:
                msg = f"invalid regex {value!r} in matcher {name}{op}: {exc}"
                raise ValueError(msg) from exc
        return cls(name, op, value, regex)

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` for an absent label) satisfies the matcher."""
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        assert self._regex is not None
        hit = self._regex.fullmatch(value) is not None
        return hit if self.op == "=~" else not hit


class SeriesIndex:
    """Series ids, their labels, and postings per label value."""

    def __init__(self) -> None:
        self.labels: list[LabelTuple] = []
        self._ids: dict[LabelTuple, int] = {}
        self._postings: dict[str, dict[str, set[int]]] = {}

    def __len__(self) -> int:
        return len(self.labels)

    def get(self, labels: LabelTuple) -> int | None:
        """The id of a series by its canonical labels."""
        return self._ids.get(labels)

    def add(self, gid: int, labels: LabelTuple) -> None:
        """Register series ``gid``; ids must be added in order (0, 1, 2, ...)."""
        if gid != len(self.labels):
            msg = f"series id {gid} out of sequence (expected {len(self.labels)})"
            raise ValueError(msg)
        self.labels.append(labels)
        self._ids[labels] = gid
        for name, value in labels:
            self._postings.setdefault(name, {}).setdefault(value, set()).add(gid)

    def select(self, matchers: Sequence[Matcher]) -> list[int]:
        """Ids of the series that satisfy every matcher, ascending."""
        result: set[int] | None = None
        for m in sorted(matchers, key=lambda m: m.matches("")):
            values = self._postings.get(m.name, {})
            if not m.matches(""):
                hit = _union(values, m, want=True)
                result = hit if result is None else result & hit
            else:
                miss = _union(values, m, want=False)
                base = set(range(len(self.labels))) if result is None else result
                result = base - miss
            if not result:
                return []
        return sorted(result or ())


def _union(values: dict[str, set[int]], m: Matcher, *, want: bool) -> set[int]:
    """Series whose value of ``m.name`` does (``want``) or does not satisfy ``m``."""
    if m.op == "=" and want:
        return set(values.get(m.value, ()))
    if m.op == "!=" and not want:
        return set(values.get(m.value, ()))
    out: set[int] = set()
    for value, ids in values.items():
        if m.matches(value) == want:
            out |= ids
    return out
