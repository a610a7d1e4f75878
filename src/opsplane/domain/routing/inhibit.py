"""Inhibition rules: the data and the pure predicate, from Alertmanager's ``inhibit/inhibit.go``.

An :class:`InhibitRule` mutes a *target* alert while an active *source* alert exists such that:

1. the target satisfies the rule's target matchers,
2. the source satisfies the source matchers,
3. every label in ``equal`` has the same value on both (a label missing on both sides counts
   as equal: both are ``""``), and
4. not both of "the target also satisfies the source matchers" and "the source also
   satisfies the target matchers" (``hasEqual(..., excludeTwoSidedMatch)``): an alert that
   could be either side never inhibits its own kind.

:meth:`InhibitRule.inhibits` is that predicate for one pair; :func:`mutes` applies a list of
rules to a target and the active sources, as ``Inhibitor.Mutes`` does. Which alerts are
active (``endsAt`` in the future) and how sources are indexed is the engine's concern.

Upstream keeps one source alert per ``equal``-label fingerprint and rule; scanning all sources,
as :func:`mutes` does, differs only when several active sources share those values and only
some of them match the target matchers too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from opsplane.domain.routing.matchers import Matcher, legacy_matchers, matches_all
from opsplane.types import Labels


@dataclass(frozen=True, slots=True)
class InhibitRule:
    """One entry of ``inhibit_rules:`` (``NewInhibitRule``).

    Attributes:
        source_matchers: Legacy ``source_match``/``source_match_re`` and ``source_matchers``.
        target_matchers: Legacy ``target_match``/``target_match_re`` and ``target_matchers``.
        equal: Labels that must have the same value on the source and the target.
        name: The optional ``name:``.
    """

    source_matchers: tuple[Matcher, ...] = ()
    target_matchers: tuple[Matcher, ...] = ()
    equal: tuple[str, ...] = ()
    name: str = ""

    @classmethod
    def build(
        cls,
        *,
        source_match: Iterable[tuple[str, str]] = (),
        source_match_re: Iterable[tuple[str, str]] = (),
        source_matchers: Iterable[Matcher] = (),
        target_match: Iterable[tuple[str, str]] = (),
        target_match_re: Iterable[tuple[str, str]] = (),
        target_matchers: Iterable[Matcher] = (),
        equal: Iterable[str] = (),
        name: str = "",
    ) -> InhibitRule:
        """A rule from its configuration keys; legacy ``*_match_re`` regexes are anchored.

        Raises:
            GoRegexError: a ``*_match_re`` value does not compile.
        """
        return cls(
            source_matchers=(*legacy_matchers(source_match, source_match_re), *source_matchers),
            target_matchers=(*legacy_matchers(target_match, target_match_re), *target_matchers),
            equal=tuple(equal),
            name=name,
        )

    def matches_source(self, labels: Labels) -> bool:
        """Whether an alert with ``labels`` can be a source of this rule."""
        return matches_all(self.source_matchers, labels)

    def matches_target(self, labels: Labels) -> bool:
        """Whether an alert with ``labels`` can be muted by this rule."""
        return matches_all(self.target_matchers, labels)

    def equal_labels_match(self, source: Labels, target: Labels) -> bool:
        """Every ``equal`` label has the same value on both (missing is ``""``)."""
        return all(source.get(n, "") == target.get(n, "") for n in self.equal)

    def inhibits(self, source: Labels, target: Labels) -> bool:
        """Whether an active alert with labels ``source`` mutes one with labels ``target``."""
        if not (self.matches_target(target) and self.matches_source(source)):
            return False
        if not self.equal_labels_match(source, target):
            return False
        return not (self.matches_source(target) and self.matches_target(source))


def mutes(rules: Sequence[InhibitRule], target: Labels, active_sources: Iterable[Labels]) -> bool:
    """``Inhibitor.Mutes``: some rule and some active source alert inhibit ``target``."""
    sources = list(active_sources)
    return any(rule.inhibits(source, target) for rule in rules for source in sources)
