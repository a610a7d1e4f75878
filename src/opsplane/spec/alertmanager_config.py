"""Alertmanager's configuration file -> :class:`~opsplane.domain.routing.AlertmanagerConfig`.

The checks are those of Alertmanager's ``config.Load`` (``config/config.go``, ``config/common``,
``timeinterval``) with its wording, but every problem is reported as ``FILE:PATH: message``:
unknown or repeated keys (Go decodes strictly), the root route's rules (a receiver; no matchers,
``continue`` or time intervals), undefined or duplicate receiver and time interval names,
``group_by`` rules, durations. Scalars are read as their text where Go reads a string
(``match: {on: yes}`` is ``"yes"``) and ``null`` is an absent key, as in Go. ``matchers:`` lines
use Alertmanager's default ``fallback`` parser mode unless told otherwise. ``templates`` and
``global`` are ignored; receivers keep their ``*_configs`` raw, as YAML types them.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import ConfigDict, Field

from opsplane.domain.routing import timeintervals as ti
from opsplane.domain.routing.config import INTEGRATIONS, AlertmanagerConfig, Receiver
from opsplane.domain.routing.goregex import compile_go
from opsplane.domain.routing.inhibit import InhibitRule
from opsplane.domain.routing.matchers import (
    Matcher,
    go_quote,
    is_legacy_label_name,
    legacy_matchers,
)
from opsplane.domain.routing.parsing import MatcherSyntax, is_valid_label_name, parse_matchers
from opsplane.domain.routing.route import (
    Route,
    RouteConfig,
    parse_group_by,
    parse_route_duration,
)
from opsplane.errors import Problem, SpecError
from opsplane.spec.documents import Document
from opsplane.spec.edge import Strict, parse_model

_Loc = tuple[str | int, ...]


class _TypedLoader(yaml.SafeLoader):
    """YAML as PyYAML types it, but dates stay text, a repeated key is an error and ``null``
    values are dropped (Go leaves such a field at its zero value: the same as leaving it out).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                msg = f"mapping key {key!r} already defined at line {seen[key]}"
                raise yaml.constructor.ConstructorError(None, None, msg, key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep)
        return {k: v for k, v in mapping.items() if v is not None}


class _TextLoader(_TypedLoader):
    """Booleans and numbers stay text too: Go's decoder reads them into strings verbatim."""


def _as_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_TypedLoader.add_constructor("tag:yaml.org,2002:timestamp", _as_text)
for _tag in ("bool", "int", "float"):
    _TextLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _as_text)


class _Route(Strict):
    receiver: str = ""
    group_by: list[str] | None = None
    match: dict[str, str] = Field(default_factory=dict)
    match_re: dict[str, str] = Field(default_factory=dict)
    matchers: list[str] = Field(default_factory=list)
    mute_time_intervals: list[str] = Field(default_factory=list)
    active_time_intervals: list[str] = Field(default_factory=list)
    continue_: bool = Field(False, alias="continue")
    routes: list[_Route] = Field(default_factory=list)
    group_wait: str | None = None
    group_interval: str | None = None
    repeat_interval: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class _InhibitRule(Strict):
    name: str = ""
    source_match: dict[str, str] = Field(default_factory=dict)
    source_match_re: dict[str, str] = Field(default_factory=dict)
    source_matchers: list[str] = Field(default_factory=list)
    target_match: dict[str, str] = Field(default_factory=dict)
    target_match_re: dict[str, str] = Field(default_factory=dict)
    target_matchers: list[str] = Field(default_factory=list)
    equal: list[str] = Field(default_factory=list)


class _TimeRange(Strict):
    start_time: str = ""
    end_time: str = ""


class _TimeInterval(Strict):
    times: list[_TimeRange] | None = None
    weekdays: list[str] | None = None
    days_of_month: list[str] | None = None
    months: list[str] | None = None
    years: list[str] | None = None
    location: str | None = None


class _NamedInterval(Strict):
    name: str = ""
    time_intervals: list[_TimeInterval] = Field(default_factory=list)


class _Receiver(Strict):
    """A receiver; each ``*_configs`` key is kept raw (checked against :data:`INTEGRATIONS`)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __pydantic_extra__: dict[str, list[Any]] = Field(init=False)
    name: str = ""
    labels: dict[str, str] = Field(default_factory=dict)


class _Config(Strict):
    global_: dict[str, Any] = Field(default_factory=dict, alias="global")
    route: _Route | None = None
    inhibit_rules: list[_InhibitRule] = Field(default_factory=list)
    receivers: list[_Receiver] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    mute_time_intervals: list[_NamedInterval] = Field(default_factory=list)
    time_intervals: list[_NamedInterval] = Field(default_factory=list)
    tracing: dict[str, Any] = Field(default_factory=dict)
    event_recorder: dict[str, Any] = Field(default_factory=dict)


def load_alertmanager_config(
    path: str | Path, *, syntax: MatcherSyntax = "fallback"
) -> AlertmanagerConfig:
    """Read and check an Alertmanager configuration file (else :class:`SpecError`)."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(name, "", f"cannot read file: {exc}")]) from exc
    try:
        data = yaml.load(text, Loader=_TextLoader)  # noqa: S506  # a SafeLoader subclass
        typed = yaml.load(text, Loader=_TypedLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError([Problem(name, where, f"invalid YAML: {reason}")]) from exc
    return parse_alertmanager_config(data, name, syntax=syntax, typed=typed)


def parse_alertmanager_config(
    data: Any, file: str = "<config>", *, syntax: MatcherSyntax = "fallback", typed: Any = None
) -> AlertmanagerConfig:
    """Check loaded YAML (``typed``: the same with YAML's types, for receivers; else text).

    Raises:
        SpecError: one problem per finding.
    """
    doc = Document(file, 0, 1, data)
    if data is None:
        raise SpecError([doc.problem("no route provided in config")])
    model, problems = parse_model(_Config, doc, data)
    if model is None:
        raise SpecError(problems)
    return _Checker(doc, syntax).config(model, typed if typed is not None else data)


def parse_route_tree(
    data: Any, file: str = "<route>", *, syntax: MatcherSyntax = "fallback"
) -> RouteConfig:
    """A ``route:`` mapping alone, without whole-file checks (else :class:`SpecError`)."""
    doc = Document(file, 0, 1, data)
    model, problems = parse_model(_Route, doc, data)
    if model is None:
        raise SpecError(problems)
    checker = _Checker(doc, syntax)
    route = checker.route(model, ())
    if checker.problems:
        raise SpecError(checker.problems)
    return route


class _Checker:
    """Converts the validated models to domain types, collecting every problem."""

    def __init__(self, doc: Document, syntax: MatcherSyntax) -> None:
        self.doc = doc
        self.syntax = syntax
        self.problems: list[Problem] = []

    def fail(self, message: str, *path: str | int) -> None:
        self.problems.append(self.doc.problem(message, *path))

    def config(self, model: _Config, typed: Any) -> AlertmanagerConfig:
        receivers = self.receivers(model.receivers, typed)
        intervals = self.all_intervals(model)
        rules = tuple(
            self.inhibit_rule(r, ("inhibit_rules", i)) for i, r in enumerate(model.inhibit_rules)
        )
        if model.route is None:
            self.fail("no route provided in config", "route")
            raise SpecError(self.problems)
        root = self.route(model.route, ("route",))
        self.check_root(model.route)
        self.check_names(model.route, ("route",), {r.name for r in receivers}, set(intervals))
        if self.problems:
            raise SpecError(self.problems)
        return AlertmanagerConfig(Route.build(root), root, receivers, rules, intervals)

    def check_root(self, root: _Route) -> None:
        if root.continue_:
            self.fail("cannot have continue in root route", "route", "continue")
        if not root.receiver:
            self.fail("root route must specify a default receiver", "route", "receiver")
        if root.match or root.match_re or root.matchers:
            self.fail("root route must not have any matchers", "route")
        for key in ("mute_time_intervals", "active_time_intervals"):
            if getattr(root, key):
                self.fail(f"root route must not have any {key.replace('_', ' ')}", "route", key)

    def check_names(self, route: _Route, at: _Loc, receivers: set[str], names: set[str]) -> None:
        """``checkReceiver`` and ``checkTimeInterval`` over the whole tree."""
        if route.receiver and route.receiver not in receivers:
            msg = f"undefined receiver {go_quote(route.receiver)} used in route"
            self.fail(msg, *at, "receiver")
        for key in ("active_time_intervals", "mute_time_intervals"):
            for i, name in enumerate(getattr(route, key)):
                if name not in names:
                    msg = f"undefined time interval {go_quote(name)} used in route"
                    self.fail(msg, *at, key, i)
        for i, child in enumerate(route.routes):
            self.check_names(child, (*at, "routes", i), receivers, names)

    def route(self, model: _Route, path: _Loc) -> RouteConfig:
        """``config.Route.UnmarshalYAML`` checks, then the node as a :class:`RouteConfig`."""
        group_by, group_by_all = None, False
        if model.group_by is not None:
            try:
                group_by, group_by_all = parse_group_by(model.group_by, self.syntax)
            except ValueError as exc:
                self.fail(str(exc), *path, "group_by")
        for name in model.labels:
            if not is_valid_label_name(name, self.syntax):
                self.fail(f"invalid label name {go_quote(name)} in route labels", *path, "labels")
        return RouteConfig(
            receiver=model.receiver,
            group_by=group_by,
            group_by_all=group_by_all,
            match=self.legacy(model.match, (*path, "match")),
            match_re=self.legacy(model.match_re, (*path, "match_re"), regex=True),
            matchers=self.matcher_lines(model.matchers, (*path, "matchers")),
            continue_=model.continue_,
            group_wait=self.duration(model, "group_wait", path),
            group_interval=self.duration(model, "group_interval", path),
            repeat_interval=self.duration(model, "repeat_interval", path),
            mute_time_intervals=tuple(model.mute_time_intervals),
            active_time_intervals=tuple(model.active_time_intervals),
            labels=tuple(sorted(model.labels.items())),
            routes=tuple(self.route(r, (*path, "routes", i)) for i, r in enumerate(model.routes)),
        )

    def legacy(
        self, pairs: dict[str, str], path: _Loc, *, regex: bool = False
    ) -> tuple[tuple[str, str], ...]:
        """``match``/``match_re`` maps: classic label names; regexes must compile."""
        for name, value in pairs.items():
            if not is_legacy_label_name(name):
                self.fail(f"invalid label name {go_quote(name)}", *path)
            elif regex:
                try:  # config.Regexp compiles it anchored; NewMatcher anchors it again
                    compile_go(f"^(?:{value})$")
                except ValueError as exc:
                    self.fail(str(exc), *path, name)
        return tuple(pairs.items())

    def matcher_lines(self, lines: list[str], path: _Loc) -> tuple[Matcher, ...]:
        found: list[Matcher] = []
        for i, line in enumerate(lines):
            try:
                found.extend(parse_matchers(line, self.syntax))
            except ValueError as exc:
                self.fail(str(exc), *path, i)
        return tuple(found)

    def duration(self, model: _Route, key: str, at: _Loc) -> int | None:
        """A duration; ``group_interval`` and ``repeat_interval`` may not be zero."""
        text: str | None = getattr(model, key)
        try:
            value = None if text is None else parse_route_duration(text)
        except ValueError as exc:
            self.fail(str(exc), *at, key)
            return None
        if value == 0 and key != "group_wait":
            self.fail(f"{key} cannot be zero", *at, key)
        return value

    def receivers(self, models: list[_Receiver], typed: Any) -> tuple[Receiver, ...]:
        raw = typed.get("receivers") if isinstance(typed, dict) else None
        out: list[Receiver] = []
        for i, model in enumerate(models):
            at, name = ("receivers", i), model.name
            for key in sorted(set(model.model_extra or {}) - INTEGRATIONS):
                self.fail("unknown field", *at, key)
            if not name:
                self.fail("missing name in receiver", *at, "name")
                continue
            if any(r.name == name for r in out):
                self.fail(f"notification config name {go_quote(name)} is not unique", *at, "name")
            if model.labels.get("name", name) != name:
                msg = f'receiver label "name" must match receiver name {go_quote(name)}'
                self.fail(f"{msg}, got {go_quote(model.labels['name'])}", *at, "labels", "name")
            entry = raw[i] if isinstance(raw, list) and isinstance(raw[i], dict) else {}
            configs = {k: tuple(v) for k, v in entry.items() if k in INTEGRATIONS and v}
            out.append(Receiver(name, configs))
        return tuple(out)

    def inhibit_rule(self, model: _InhibitRule, path: _Loc) -> InhibitRule:
        for name in model.equal:
            if not is_valid_label_name(name, self.syntax):
                self.fail(f"invalid label name {go_quote(name)} in equal list", *path, "equal")
        source = self.side(model, "source", path)
        target = self.side(model, "target", path)
        return InhibitRule(source, target, tuple(model.equal), model.name)

    def side(self, model: _InhibitRule, side: str, path: _Loc) -> tuple[Matcher, ...]:
        """``{side}_match``, ``{side}_match_re`` and ``{side}_matchers`` as matchers."""
        keys = (f"{side}_match", f"{side}_match_re", f"{side}_matchers")
        match = self.legacy(getattr(model, keys[0]), (*path, keys[0]))
        match_re = self.legacy(getattr(model, keys[1]), (*path, keys[1]), regex=True)
        lines = self.matcher_lines(getattr(model, keys[2]), (*path, keys[2]))
        try:
            return (*legacy_matchers(match, match_re), *lines)
        except ValueError:  # an invalid regex: already reported
            return ()

    def all_intervals(self, model: _Config) -> dict[str, tuple[ti.TimeInterval, ...]]:
        """``mute_time_intervals`` then ``time_intervals``: one namespace, names unique."""
        out: dict[str, tuple[ti.TimeInterval, ...]] = {}
        for key in ("mute_time_intervals", "time_intervals"):
            kind = key.removesuffix("s").replace("_", " ")
            for i, named in enumerate(getattr(model, key)):
                if not named.name:
                    self.fail(f"missing name in {kind}", key, i, "name")
                elif named.name in out:
                    self.fail(f"{kind} {go_quote(named.name)} is not unique", key, i, "name")
                path = (key, i, "time_intervals")
                out[named.name] = tuple(
                    self.interval(t, (*path, j)) for j, t in enumerate(named.time_intervals)
                )
        return out

    def interval(self, model: _TimeInterval, path: _Loc) -> ti.TimeInterval:
        try:
            times = (
                None if model.times is None else [(t.start_time, t.end_time) for t in model.times]
            )
            return ti.TimeInterval.parse(
                times=times,
                weekdays=model.weekdays,
                days_of_month=model.days_of_month,
                months=model.months,
                years=model.years,
                location=self.location(model.location, (*path, "location")),
            )
        except ti.IntervalFieldError as exc:
            self.fail(str(exc), *path, exc.field, exc.index)
            return ti.TimeInterval()

    def location(self, name: str | None, path: _Loc) -> tzinfo | None:
        """``time.LoadLocation``: ``""`` and ``UTC`` are UTC; ``Local`` is this machine's zone."""
        if name is None:
            return None
        try:
            if name == "Local":
                with Path("/etc/localtime").open("rb") as fh:
                    return ZoneInfo.from_file(fh)
            return ZoneInfo(name or "UTC")
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self.fail(f"unknown time zone {name}", *path)
            return None
