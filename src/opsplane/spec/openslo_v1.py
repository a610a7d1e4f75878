"""OpenSLO ``openslo/v1``: SLOs and the objects they reference, resolved across files.

Every ``openslo/v1`` document of every file arrives at once, because objects refer to each
other by ``metadata.name``. Each object is validated on its own (even when no SLO uses it),
then references are resolved; a reference to nothing is reported where it is written, naming
the missing object. Each ``SLO`` object becomes one :class:`Parsed` service (``spec.service``)
with one domain SLO per objective: named like the SLO when it has one objective, and
``<name>-<idx>`` when it has several (as Sloth names v1alpha objectives). The objective is
``target * 100`` (Sloth's order of operations) or ``targetPercent``.

Alerting comes from ``alertPolicies`` only: each burn-rate ``AlertCondition`` becomes a
:class:`BurnRateCondition`, and the multiwindow page/ticket tiers are disabled, so an SLO
without policies pages nobody, as in OpenSLO. ``Service`` objects are validated, but an SLO's
``spec.service`` need not name one (the spec leaves that to the implementation).

Decisions where the spec, go-sdk and the upstream examples disagree (see the conformance
``README.md``, "Known quirks"):

- ``Timeslices`` and ``RatioTimeslices`` are kept: ``timeSliceTarget`` and
  ``timeSliceWindow`` are validated as the spec says, but rules use the occurrence math
  (bad events over all events in each window) instead of counting good slices. The numbers
  differ, most under bursty or low traffic; opsplane has no per-slice rules yet, and
  rejecting the upstream examples would help nobody.
- A calendar ``timeWindow`` must be ``1w``, ``1M`` or ``1Q`` (or ``week``, ``month``,
  ``quarter``), the calendar periods the domain knows. ``duration: 1m`` (one minute, in the
  upstream ``timeslices-slo.yaml``) is rejected with a hint to write ``1M``: guessing would
  silently change what other OpenSLO tools read. ``calendar.startTime`` and ``timeZone``
  are not carried into the domain period, which has neither.
- ``metadata.name`` must be an RFC 1123 DNS label (spec and go-sdk), so the README snippets
  named ``AlertPolicy`` and ``OnCallDevopsMailNotification`` are rejected at
  ``metadata.name``. DataSource names are not checked: nothing is generated from them.
- ``op``/``value`` on an objective whose SLI is a ``ratioMetric`` are rejected as go-sdk
  does (``ratio-timeslices.yaml`` sets ``op: gt``); the check also covers SLIs given by
  ``indicatorRef``, which go-sdk cannot see.
- ``timeWindow`` is optional, as the spec text says: without one the period comes from the
  command line (``--period``), as for Sloth specs. More than one item is a problem.
- ``alertPolicies:`` left empty (null) means no policies.
- ``target`` must be in (0, 1]: 1 is allowed as Sloth allows 100, 0 means nothing.
- A ``metricSourceRef`` next to an inline ``type`` may point at no DataSource: the type is
  all that generated rules need. Without ``type`` the DataSource must exist.
- A data source that is not Prometheus is a problem wherever it is written (a DataSource's
  ``spec.type``, a metric source's ``type`` or ``metricSourceRef``), even when no SLO uses
  it: opsplane generates Prometheus rules, and a spec it cannot serve should fail loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from opsplane.domain.slo import (
    SLI,
    SLO,
    Alerting,
    AlertMeta,
    BurnRateCondition,
    Origin,
    Period,
    Service,
)
from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.openslo_v1_alerts import (
    AlertObjects,
    Conditions,
    slo_conditions,
    translate_condition,
    translate_policy,
)
from opsplane.spec.openslo_v1_catalog import Catalog, Entry, Loc, build_catalog, check_name, lookup
from opsplane.spec.openslo_v1_models import (
    API_VERSION,
    AlertConditionSpec,
    AlertPolicySpec,
    Obj,
    Objective,
    SLISpec,
    SLOSpec,
    dns_label_problem,
)
from opsplane.spec.openslo_v1_objectives import (
    SLIUse,
    objective_sli,
    slo_period,
    target_percent,
    timeslice_problems,
)
from opsplane.spec.openslo_v1_sli import (
    Indicator,
    translate_sli,
    unsupported_source,
)
from opsplane.spec.opsplane_v1 import default_alert_name
from opsplane.spec.parsed import Parsed, Path

T = TypeVar("T")
V = TypeVar("V")
_DISABLED = AlertMeta(disabled=True)


@dataclass(frozen=True, slots=True)
class _Resolved:
    """Every referable object, translated once (``None`` when it is invalid)."""

    catalog: Catalog
    slis: Mapping[str, Indicator | None]
    policies: Mapping[str, Conditions | None]
    alerts: AlertObjects


def parse_openslo_v1(docs: list[Document]) -> tuple[list[Parsed], list[Problem]]:
    """Resolve OpenSLO v1 objects across documents into services, one per SLO object."""
    catalog, problems = build_catalog(docs)
    problems += [
        e.loc.problem(unsupported_source(e.obj.spec.type), "spec", "type")
        for e in catalog.sources.values()
        if e.obj.spec.type.lower() != "prometheus"
    ]
    resolved = _resolve(catalog, problems)
    parsed: list[Parsed] = []
    for entry in catalog.slos.values():
        one, found = _slo(entry, resolved)
        problems += found
        parsed += [one] if one else []
    return parsed, problems


def _resolve(catalog: Catalog, problems: list[Problem]) -> _Resolved:
    """Translate every object an SLO can refer to, once; adds their problems to ``problems``."""

    def sli(e: Entry[Obj[SLISpec]]) -> tuple[Indicator | None, list[Problem]]:
        return translate_sli(e.obj.spec, e.loc.at("spec"), catalog.sources)

    def condition(
        e: Entry[Obj[AlertConditionSpec]],
    ) -> tuple[BurnRateCondition | None, list[Problem]]:
        return translate_condition(e.obj.metadata.name, e.obj.spec, e.loc.at("spec"))

    slis = _translate(catalog.slis, sli, problems)
    alerts = AlertObjects(_translate(catalog.conditions, condition, problems), catalog.targets)

    def policy(e: Entry[Obj[AlertPolicySpec]]) -> tuple[Conditions | None, list[Problem]]:
        return translate_policy(e.obj.metadata.name, e.obj.spec, e.loc.at("spec"), alerts)

    return _Resolved(catalog, slis, _translate(catalog.policies, policy, problems), alerts)


def _translate(
    table: Mapping[str, Entry[T]],
    translate: Callable[[Entry[T]], tuple[V, list[Problem]]],
    problems: list[Problem],
) -> dict[str, V | None]:
    """Translate every object of one kind; an invalid one is kept as ``None``."""
    out: dict[str, V | None] = {}
    for name, entry in table.items():
        value, found = translate(entry)
        out[name] = value if entry.valid else None
        problems += found
    return out


def _slo(entry: Entry[Obj[SLOSpec]], resolved: _Resolved) -> tuple[Parsed | None, list[Problem]]:
    meta, spec, at = entry.obj.metadata, entry.obj.spec, entry.loc.at("spec")
    sli, problems = _indicator(spec, at, resolved)
    if meta.namespace and (msg := dns_label_problem(meta.namespace, "namespace")):
        problems.append(entry.loc.problem(msg, "metadata", "namespace"))
    if spec.budgetingMethod is None:
        msg = "is required: Occurrences, Timeslices or RatioTimeslices"
        problems.append(at.problem(msg, "budgetingMethod"))
    period, found = slo_period(spec.timeWindow, at.at("timeWindow"))
    problems += found
    conditions, found = slo_conditions(
        spec.alertPolicies or [], at.at("alertPolicies"), resolved.policies, resolved.alerts
    )
    problems += found
    objectives: list[tuple[float, SLI]] = []
    for i, objective in enumerate(spec.objectives):
        got, found = _objective(objective, at.at("objectives", i), spec.budgetingMethod, sli)
        problems += found
        objectives += [got] if got else []
    if problems or not entry.valid or conditions is None or len(objectives) != len(spec.objectives):
        return None, problems
    return _parsed(entry, period, conditions, objectives, sli.path), []


def _indicator(spec: SLOSpec, at: Loc, resolved: _Resolved) -> tuple[SLIUse, list[Problem]]:
    """The SLO's SLI, inline or by reference, and the path the SLI rules should point at."""
    inline, ref = spec.indicator, spec.indicatorRef
    if inline is not None and ref is None:
        inline_at = at.at("indicator")
        problems = check_name(inline.metadata.name, inline_at)
        sli, found = translate_sli(inline.spec, inline_at.at("spec"), resolved.catalog.sources)
        use = SLIUse(None if problems else sli, _metric_kind(inline.spec), inline_at.path)
        return use, problems + found
    if ref is not None and inline is None:
        ref_at = at.at("indicatorRef")
        sli, found = lookup(resolved.slis, "SLI", ref, ref_at)
        entry = resolved.catalog.slis.get(ref)
        return SLIUse(sli, _metric_kind(entry.obj.spec) if entry else None, ref_at.path), found
    msg = (
        "indicator and indicatorRef are mutually exclusive"
        if inline is not None
        else "indicator or indicatorRef is required"
    )
    return SLIUse(None, None, at.path), [at.problem(msg)]


def _metric_kind(spec: SLISpec) -> Literal["ratio", "threshold"] | None:
    if spec.ratioMetric is not None and spec.thresholdMetric is None:
        return "ratio"
    if spec.thresholdMetric is not None and spec.ratioMetric is None:
        return "threshold"
    return None


def _objective(
    o: Objective, at: Loc, method: str | None, sli_use: SLIUse
) -> tuple[tuple[float, SLI] | None, list[Problem]]:
    problems: list[Problem] = []
    if o.indicator is not None or o.indicatorRef is not None:
        msg = "composite SLOs (an indicator per objective) are not supported; set spec.indicator"
        problems.append(at.problem(msg + " or spec.indicatorRef"))
    objective, found = target_percent(o, at)
    problems += found + timeslice_problems(o, at, method)
    sli, found = objective_sli(o, at, sli_use)
    problems += found
    if problems or objective is None or sli is None:
        return None, problems
    return (objective, sli), []


def _parsed(
    entry: Entry[Obj[SLOSpec]],
    period: Period | None,
    conditions: Conditions,
    objectives: list[tuple[float, SLI]],
    sli_path: Path,
) -> Parsed:
    meta, spec, doc = entry.obj.metadata, entry.obj.spec, entry.loc.doc
    names = [f"{meta.name}-{i}" for i in range(len(objectives))]
    if len(names) == 1:
        names = [meta.name]
    slos = tuple(
        _domain_slo(spec, name, objective, sli, period=period, conditions=conditions)
        for name, (objective, sli) in zip(names, objectives, strict=True)
    )
    labels, annotations = dict(meta.labels), dict(meta.annotations)
    origin = Origin(
        doc.file, doc.index, API_VERSION, "SLO", meta.name, meta.namespace, labels, annotations
    )
    service = Service(spec.service, slos, origin, namespace=meta.namespace or "default")
    paths = tuple(("spec", "objectives", i) for i in range(len(slos)))
    fields = tuple(_field_paths(i, spec.objectives[i], sli_path) for i in range(len(slos)))
    return Parsed(service, doc, ("spec", "service"), paths, fields)


def _domain_slo(
    spec: SLOSpec,
    name: str,
    objective: float,
    sli: SLI,
    *,
    period: Period | None,
    conditions: Conditions,
) -> SLO:
    alerting = Alerting(default_alert_name(spec.service, name), page=_DISABLED, ticket=_DISABLED)
    return SLO(
        spec.service,
        name,
        objective,
        sli,
        spec.description,
        period=period,
        alerting=alerting,
        conditions=conditions,
    )


def _field_paths(i: int, objective: Objective, sli_path: Path) -> dict[str, Path]:
    """Where the shared semantic rules should point for SLO ``i``."""
    key = "targetPercent" if objective.targetPercent is not None else "target"
    return {
        "name": ("metadata", "name"),
        "objective": ("spec", "objectives", i, key),
        "sli": sli_path,
        "labels": ("metadata", "labels"),
        "alerting": ("spec", "alertPolicies"),
    }
