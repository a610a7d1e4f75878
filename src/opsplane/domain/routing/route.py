"""The routing tree, with the semantics of Alertmanager's ``dispatch/route.go``.

:class:`RouteConfig` is one ``route:`` node as written (Go's ``config.Route``);
:meth:`Route.build` turns the tree of them into :class:`Route` nodes (Go's ``NewRoute``):

- Options are inherited: a node starts from its parent's options (the root from
  ``DefaultRouteOpts``: group_wait 30s, group_interval 5m, repeat_interval 4h, no grouping)
  and overrides what it sets. ``receiver: ""`` keeps the parent's receiver.
- ``group_by`` replaces the parent's labels when it is set, even to ``[]``. ``['...']``
  groups by all labels; a child that sets its own ``group_by`` turns that off again.
- ``labels:`` are merged parent -> child. ``mute_time_intervals`` and ``active_time_intervals``
  are *not* inherited: each node carries only its own.
- Matchers: legacy ``match`` (``=``), legacy ``match_re`` (``=~`` on the value anchored as
  ``^(?:value)$``, which is how it prints in keys) and ``matchers``, sorted by name, value,
  operator.

:meth:`Route.match` is ``Route.Match``: a depth-first, left-to-right search. A node that
matches returns the matches of its children, stopping after the first child that matched
unless that child has ``continue: true``; when no child matched it returns itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from opsplane.domain.duration import HOUR, MINUTE, parse_duration
from opsplane.domain.routing.matchers import (
    Matcher,
    format_matchers,
    go_quote,
    legacy_matchers,
    sort_matchers,
)
from opsplane.domain.routing.parsing import MatcherSyntax, is_valid_label_name
from opsplane.types import Labels, Millis

DEFAULT_GROUP_WAIT: Millis = 30_000
"""``DefaultRouteOpts.GroupWait`` in ``dispatch/route.go``."""
DEFAULT_GROUP_INTERVAL: Millis = 5 * MINUTE
"""``DefaultRouteOpts.GroupInterval``."""
DEFAULT_REPEAT_INTERVAL: Millis = 4 * HOUR
"""``DefaultRouteOpts.RepeatInterval``."""
GROUP_BY_ALL = "..."
"""The ``group_by`` entry that groups by every label."""
_ZERO_DURATION = re.compile(r"0|(?:0+(?:y|w|d|h|m|s|ms))+")


def parse_route_duration(text: str) -> Millis:
    """A ``model.Duration`` (``30s``, ``1h30m``); unlike SLO periods, ``0s`` is allowed.

    Raises:
        ValueError: not a Prometheus duration (``model.ParseDuration``'s message).
    """
    if not text:
        raise ValueError("empty duration string")
    if text != text.strip():
        raise ValueError(f'not a valid duration string: "{text}"')
    if _ZERO_DURATION.fullmatch(text):
        return 0
    try:
        return parse_duration(text)
    except ValueError:
        raise ValueError(f'not a valid duration string: "{text}"') from None


def parse_group_by(
    names: Sequence[str], syntax: MatcherSyntax = "fallback"
) -> tuple[tuple[str, ...] | None, bool]:
    """``group_by`` as ``(labels or None, group_by_all)``, checked as ``config.Route`` does.

    ``['...']`` is ``(None, True)``; ``[]`` is ``((), False)``: an explicit empty list still
    replaces the parent's labels.

    Raises:
        ValueError: an invalid or repeated label name, or ``...`` mixed with labels.
    """
    labels = [n for n in names if n != GROUP_BY_ALL]
    group_by_all = len(labels) != len(names)
    for name in labels:
        if not is_valid_label_name(name, syntax):
            raise ValueError(f"invalid label name {go_quote(name)} in group_by list")
    if labels and group_by_all:
        raise ValueError("cannot have wildcard group_by (`...`) and other labels at the same time")
    for i, name in enumerate(labels):
        if name in labels[:i]:
            raise ValueError(f"duplicated label {go_quote(name)} in group_by")
    if group_by_all:
        return None, True
    return tuple(labels), False


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """One ``route:`` node as configured; ``None`` means "not set, inherit".

    Attributes:
        receiver: The receiver name; ``""`` inherits the parent's.
        group_by: The labels to group by; ``None`` inherits, ``()`` groups everything together.
        group_by_all: ``group_by: ['...']``.
        match: Legacy ``match:`` pairs (equality).
        match_re: Legacy ``match_re:`` pairs, the regex as written (it is anchored here).
        matchers: Parsed ``matchers:`` lines.
        continue_: ``continue:``; siblings after this node are tried even when it matched.
        group_wait: Milliseconds, or ``None``.
        group_interval: Milliseconds, or ``None``.
        repeat_interval: Milliseconds, or ``None``.
        mute_time_intervals: Names of time intervals during which this node is muted.
        active_time_intervals: Names of time intervals outside which this node is muted.
        labels: ``labels:`` pairs attached to notifications of this node and its children.
        routes: The child nodes, in order.
    """

    receiver: str = ""
    group_by: tuple[str, ...] | None = None
    group_by_all: bool = False
    match: tuple[tuple[str, str], ...] = ()
    match_re: tuple[tuple[str, str], ...] = ()
    matchers: tuple[Matcher, ...] = ()
    continue_: bool = False
    group_wait: Millis | None = None
    group_interval: Millis | None = None
    repeat_interval: Millis | None = None
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    routes: tuple[RouteConfig, ...] = ()

    def all_matchers(self) -> tuple[Matcher, ...]:
        """``match``, ``match_re`` and ``matchers`` as one sorted list, as ``NewRoute`` builds it.

        Raises:
            GoRegexError: a ``match_re`` value does not compile.
        """
        return sort_matchers([*legacy_matchers(self.match, self.match_re), *self.matchers])


@dataclass(frozen=True, slots=True)
class RouteOpts:
    """The resolved options of a node (``RouteOpts``), after inheritance."""

    receiver: str = ""
    group_by: frozenset[str] = frozenset()
    group_by_all: bool = False
    group_wait: Millis = DEFAULT_GROUP_WAIT
    group_interval: Millis = DEFAULT_GROUP_INTERVAL
    repeat_interval: Millis = DEFAULT_REPEAT_INTERVAL
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def group_labels(self, labels: Labels) -> dict[str, str]:
        """``getGroupLabels``: the alert's labels that name its group (missing ones are absent)."""
        if self.group_by_all:
            return dict(labels)
        return {k: v for k, v in labels.items() if k in self.group_by}

    def inherit(self, config: RouteConfig) -> RouteOpts:
        """The options of a child configured as ``config`` under a node with these options."""
        labels = self.labels
        if config.labels:
            labels = tuple(sorted({**dict(self.labels), **dict(config.labels)}.items()))
        group_by, group_by_all = self.group_by, self.group_by_all
        if config.group_by is not None:
            group_by, group_by_all = frozenset(config.group_by), False
        elif config.group_by_all:
            group_by_all = True
        return RouteOpts(
            receiver=config.receiver or self.receiver,
            group_by=group_by,
            group_by_all=group_by_all,
            group_wait=_either(config.group_wait, self.group_wait),
            group_interval=_either(config.group_interval, self.group_interval),
            repeat_interval=_either(config.repeat_interval, self.repeat_interval),
            mute_time_intervals=config.mute_time_intervals,
            active_time_intervals=config.active_time_intervals,
            labels=labels,
        )


def _either(value: Millis | None, inherited: Millis) -> Millis:
    return inherited if value is None else value


@dataclass(frozen=True, slots=True)
class Route:
    """A node of the routing tree (``dispatch.Route``).

    Attributes:
        opts: The resolved options.
        matchers: What an alert must satisfy to enter this node (sorted).
        continue_: Whether siblings after this node are tried when it matched.
        routes: The children, in order.
        key: ``Route.Key()``: the parent's key, ``/``, then the matchers, e.g.
            ``{}/{owner="team-A"}``. Not unique: siblings may share it.
        id: ``Route.ID()``: like the key with each node's position among its siblings,
            e.g. ``{}/{foo="bar"}/0``. Unique within the tree.
        idx: ``Route.Idx``: the position in a post-order walk (children before parents).
    """

    opts: RouteOpts
    matchers: tuple[Matcher, ...]
    continue_: bool
    routes: tuple[Route, ...]
    key: str
    id: str
    idx: int

    @classmethod
    def build(cls, config: RouteConfig) -> Route:
        """The tree for a root configuration (``dispatch.NewRoute(cr, nil)``).

        Raises:
            GoRegexError: a legacy ``match_re`` value does not compile.
        """
        return _build(config, RouteOpts(), None, None, [0])

    def match(self, labels: Labels) -> list[Route]:
        """``Route.Match``: the nodes an alert with ``labels`` is routed to, in order.

        Empty when this node's own matchers do not hold; the root has none, so from the root
        the result always has at least one node.
        """
        for m in self.matchers:
            if not m.matches(labels.get(m.name, "")):
                return []
        found: list[Route] = []
        for child in self.routes:
            matched = child.match(labels)
            found.extend(matched)
            if matched and not child.continue_:
                break
        return found or [self]

    def receivers(self, labels: Labels) -> list[str]:
        """The receiver of every matched node, in order (what ``amtool`` prints)."""
        return [route.opts.receiver for route in self.match(labels)]

    def walk(self) -> Iterator[Route]:
        """``Route.Walk``: this node, then each subtree depth-first."""
        yield self
        for child in self.routes:
            yield from child.walk()

    def find(self, route_id: str) -> Route | None:
        """The node whose :attr:`id` is ``route_id``."""
        return next((r for r in self.walk() if r.id == route_id), None)


def _build(
    config: RouteConfig,
    parent: RouteOpts,
    parent_key: tuple[str, str] | None,
    position: int | None,
    counter: list[int],
) -> Route:
    """``newRoute``: options, matchers and identity of one node, then its subtree."""
    opts = parent.inherit(config)
    matchers = config.all_matchers()
    text = format_matchers(matchers)
    key = text if parent_key is None else f"{parent_key[0]}/{text}"
    route_id = text if parent_key is None else f"{parent_key[1]}/{text}/{position}"
    children = tuple(
        _build(child, opts, (key, route_id), i, counter) for i, child in enumerate(config.routes)
    )
    idx = counter[0]
    counter[0] += 1
    return Route(opts, matchers, config.continue_, children, key, route_id, idx)
