"""Alertmanager-compatible routing: matchers, the route tree, time intervals, inhibit rules.

Pure ports of the parts of prometheus/alertmanager that decide *where* an alert goes (and
*whether* it is muted), so that a configuration behaves in opsplane exactly as in Alertmanager
and ``opsplane alerts route`` prints what ``amtool config routes test`` prints:

- :mod:`.matchers`, :mod:`.goregex`: ``pkg/labels/matcher.go`` with Go regex semantics.
- :mod:`.parse_classic`, :mod:`.parse_utf8`, :mod:`.parsing`: the two matcher parsers and
  Alertmanager's compatibility modes (``matcher/compat``).
- :mod:`.route`: ``dispatch/route.go``.
- :mod:`.timeintervals`: ``timeinterval/timeinterval.go``.
- :mod:`.inhibit`: the rule predicate of ``inhibit/inhibit.go``.
- :mod:`.config`: the validated configuration as a whole.
"""

from __future__ import annotations

from opsplane.domain.routing.config import AlertmanagerConfig, Receiver
from opsplane.domain.routing.goregex import GoRegexError, compile_go
from opsplane.domain.routing.inhibit import InhibitRule, mutes
from opsplane.domain.routing.matchers import (
    Matcher,
    MatcherParseError,
    MatchType,
    format_matchers,
    is_legacy_label_name,
    matches_all,
    matches_any_set,
)
from opsplane.domain.routing.parsing import MatcherSyntax, parse_matcher, parse_matchers
from opsplane.domain.routing.route import Route, RouteConfig, RouteOpts
from opsplane.domain.routing.timeintervals import (
    InclusiveRange,
    TimeInterval,
    TimeRange,
    active_intervals,
)

__all__ = [
    "AlertmanagerConfig",
    "GoRegexError",
    "InclusiveRange",
    "InhibitRule",
    "MatchType",
    "Matcher",
    "MatcherParseError",
    "MatcherSyntax",
    "Receiver",
    "Route",
    "RouteConfig",
    "RouteOpts",
    "TimeInterval",
    "TimeRange",
    "active_intervals",
    "compile_go",
    "format_matchers",
    "is_legacy_label_name",
    "matches_all",
    "matches_any_set",
    "mutes",
    "parse_matcher",
    "parse_matchers",
]
