"""OpenSLO v1 ``AlertPolicy`` and ``AlertCondition`` -> domain ``BurnRateCondition``.

An SLO's ``alertPolicies`` are inline policies or ``alertPolicyRef``s; a policy's one
``condition`` is inline or a ``conditionRef``; its ``notificationTargets`` are inline or
``targetRef``s. Each condition becomes one :class:`BurnRateCondition` that carries the
policy's name and its targets' names; a condition without a ``description`` takes its
policy's. ``alertWhenBreaching``, ``alertWhenResolved`` and
``alertWhenNoData`` are accepted but do not change the generated alert: a burn-rate rule
fires while it breaches, and Alertmanager sends resolutions.

go-sdk requires at least one notification target per policy; opsplane does not, because its
own router (or Alertmanager) decides where an alert goes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from opsplane.domain.slo import BurnRateCondition
from opsplane.errors import Problem
from opsplane.spec.openslo_v1_catalog import Entry, Loc, Ref, lookup, ref_or_inline
from opsplane.spec.openslo_v1_models import (
    AlertConditionSpec,
    AlertNotificationTargetSpec,
    AlertPolicySpec,
    Obj,
    parse_shorthand,
)

Conditions = tuple[BurnRateCondition, ...]


@dataclass(frozen=True, slots=True)
class AlertObjects:
    """What policies resolve against: translated conditions (``None`` if invalid), targets."""

    conditions: Mapping[str, BurnRateCondition | None]
    targets: Mapping[str, Entry[Obj[AlertNotificationTargetSpec]]]


def translate_condition(
    name: str, spec: AlertConditionSpec, at: Loc
) -> tuple[BurnRateCondition | None, list[Problem]]:
    """The condition ``name`` whose ``spec`` is written at ``at``; no policy or targets yet."""
    c = spec.condition
    problems: list[Problem] = []
    lookback = after = 0
    try:
        lookback = parse_shorthand(c.lookbackWindow)
    except ValueError as exc:
        problems.append(at.problem(str(exc), "condition", "lookbackWindow"))
    try:
        # The spec: alertAfter "defaults to 0m".
        after = parse_shorthand(c.alertAfter, allow_zero=True)
    except ValueError as exc:
        problems.append(at.problem(str(exc), "condition", "alertAfter"))
    if problems:
        return None, problems
    return BurnRateCondition(
        name, spec.severity, c.op, c.threshold, lookback, after, spec.description
    ), []


def translate_policy(
    name: str, spec: AlertPolicySpec, at: Loc, objects: AlertObjects
) -> tuple[Conditions | None, list[Problem]]:
    """The conditions of policy ``name`` whose ``spec`` is written at ``at``."""
    problems: list[Problem] = []
    if len(spec.conditions) != 1:
        # The spec: "an array, (max of one condition), required field"; go-sdk: length 1.
        problems.append(at.problem("exactly one condition is required", "conditions"))
    conditions: list[BurnRateCondition] = []
    for i, item in enumerate(spec.conditions):
        condition, found = _condition(item, at.at("conditions", i), objects)
        problems += found
        conditions += [condition] if condition else []
    targets: list[str] = []
    for i, item in enumerate(spec.notificationTargets):
        target, found = _target(item, at.at("notificationTargets", i), objects)
        problems += found
        targets += [target] if target else []
    if problems or len(conditions) != len(spec.conditions):
        return None, problems
    # A condition without a description borrows its policy's: the alert should say something.
    return tuple(
        replace(
            c, policy=name, targets=tuple(targets), description=c.description or spec.description
        )
        for c in conditions
    ), []


def slo_conditions(
    items: list[Any], at: Loc, policies: Mapping[str, Conditions | None], objects: AlertObjects
) -> tuple[Conditions | None, list[Problem]]:
    """The conditions of an SLO's ``alertPolicies`` (written at ``at``), in order.

    ``alertPolicyRef`` is the spec's key; ``targetRef`` is accepted too, the name go-sdk's
    error message uses for it.
    """
    out: list[BurnRateCondition] = []
    problems: list[Problem] = []
    complete = True
    for i, item in enumerate(items):
        got, found = ref_or_inline(
            item, at.at(i), ("alertPolicyRef", "targetRef"), "AlertPolicy", Obj[AlertPolicySpec]
        )
        conditions: Conditions | None = None
        if isinstance(got, Ref):
            conditions, found = lookup(policies, "AlertPolicy", got.name, got.at)
        elif got is not None:
            conditions, found = translate_policy(
                got.metadata.name, got.spec, at.at(i, "spec"), objects
            )
        problems += found
        complete = complete and conditions is not None
        out += conditions or ()
    # An invalid referenced policy has its own problems; the SLO is left out quietly.
    return (tuple(out) if complete and not problems else None), problems


def _condition(
    item: Any, at: Loc, objects: AlertObjects
) -> tuple[BurnRateCondition | None, list[Problem]]:
    got, problems = ref_or_inline(
        item, at, ("conditionRef",), "AlertCondition", Obj[AlertConditionSpec]
    )
    if isinstance(got, Ref):
        return lookup(objects.conditions, "AlertCondition", got.name, got.at)
    if got is None:
        return None, problems
    return translate_condition(got.metadata.name, got.spec, at.at("spec"))


def _target(item: Any, at: Loc, objects: AlertObjects) -> tuple[str | None, list[Problem]]:
    got, problems = ref_or_inline(
        item, at, ("targetRef",), "AlertNotificationTarget", Obj[AlertNotificationTargetSpec]
    )
    if isinstance(got, Ref):
        entry, problems = lookup(objects.targets, "AlertNotificationTarget", got.name, got.at)
        return (got.name if entry is not None else None), problems
    return (None if got is None else got.metadata.name), problems
