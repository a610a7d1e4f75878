"""Argo Rollouts manifests as data: a ``Rollout`` and an ``AnalysisTemplate`` per service.

For a service with a delivery policy (the spec's ``delivery:``):

- ``AnalysisTemplate`` ``<service>-slos``: one metric per gating SLO, measured by Argo's
  Prometheus provider with the very error-ratio expression the recording rules use
  (:func:`~opsplane.render.prometheus.native.error_ratio_template`, windowed by the analysis
  interval), passing while the ratio stays within the error budget
  (:func:`~opsplane.domain.delivery.budget_condition`). The Prometheus address is the
  template argument ``prometheus-address``, whose default the caller gives.
- ``Rollout`` ``<service>``: ``spec.workloadRef`` points at the service's existing
  ``Deployment`` of the same name (Argo then manages its pods), and ``spec.strategy`` is either
  ``canary.steps`` (``setWeight``, an inline ``analysis`` of the template, ``pause``) or
  ``blueGreen`` (``activeService`` ``<service>``, ``previewService`` ``<service>-preview``,
  the template as ``prePromotionAnalysis``).

Field names are those of ``argoproj.io/v1alpha1`` (Argo Rollouts v1.x,
``pkg/apis/rollouts/v1alpha1/types.go`` and ``analysis_types.go``). Renderers return data; the
caller writes YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from opsplane.domain.delivery import (
    AnalysisPolicy,
    DeliveryPolicy,
    budget_condition,
    gating_slos,
)
from opsplane.domain.duration import format_duration
from opsplane.domain.slo import Service
from opsplane.render.prometheus.native import error_ratio_template
from opsplane.render.prometheus.promql import with_window

API_VERSION: Final = "argoproj.io/v1alpha1"
ADDRESS_ARG: Final = "prometheus-address"
DEFAULT_PROMETHEUS: Final = "http://prometheus.monitoring.svc:9090"
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": "opsplane"}

Manifest = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ArgoFile:
    """The manifests of one service and where they go (``<namespace>/<service>-rollout.yaml``)."""

    filename: str
    manifests: tuple[Manifest, ...]


def template_name(service: Service) -> str:
    """``<service>-slos``."""
    return f"{service.name}-slos"


def argo_manifests(
    service: Service, policy: DeliveryPolicy, *, prometheus: str = DEFAULT_PROMETHEUS
) -> ArgoFile:
    """The ``AnalysisTemplate`` (when the policy gates on SLOs) and the ``Rollout``."""
    manifests: list[Manifest] = []
    if policy.analysis is not None and policy.analysis.slos:  # the judge is opsplane-only
        manifests.append(analysis_template(service, policy.analysis, prometheus))
    manifests.append(rollout(service, policy))
    return ArgoFile(f"{service.namespace}/{service.name}-rollout.yaml", tuple(manifests))


def _metadata(service: Service, name: str) -> Manifest:
    return {
        "name": name,
        "namespace": service.namespace,
        "labels": {**MANAGED_BY, "opsplane.io/service": service.name},
    }


def analysis_template(service: Service, policy: AnalysisPolicy, prometheus: str) -> Manifest:
    """An ``AnalysisTemplate`` with one Prometheus metric per gating SLO."""
    window = policy.interval
    metrics = []
    for slo in gating_slos(service, policy):
        metric: Manifest = {
            "name": slo.name,
            "interval": format_duration(window),
            "count": policy.count,
            "failureLimit": policy.failure_limit,
            "successCondition": budget_condition(slo),
            "provider": {
                "prometheus": {
                    "address": f"{{{{args.{ADDRESS_ARG}}}}}",
                    "query": with_window(error_ratio_template(slo), window).strip(),
                }
            },
        }
        if policy.initial_delay:
            metric["initialDelay"] = format_duration(policy.initial_delay)
        metrics.append(metric)
    return {
        "apiVersion": API_VERSION,
        "kind": "AnalysisTemplate",
        "metadata": _metadata(service, template_name(service)),
        "spec": {"args": [{"name": ADDRESS_ARG, "value": prometheus}], "metrics": metrics},
    }


def rollout(service: Service, policy: DeliveryPolicy) -> Manifest:
    """A ``Rollout`` of the service's ``Deployment`` with the policy's strategy."""
    strategy = (
        {"canary": {"steps": canary_steps(service, policy)}}
        if policy.strategy == "canary"
        else {"blueGreen": blue_green(service, policy)}
    )
    return {
        "apiVersion": API_VERSION,
        "kind": "Rollout",
        "metadata": _metadata(service, service.name),
        "spec": {
            "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "strategy": strategy,
        },
    }


def _templates(service: Service) -> Manifest:
    return {"templates": [{"templateName": template_name(service)}]}


def canary_steps(service: Service, policy: DeliveryPolicy) -> list[Manifest]:
    """``setWeight``, then ``analysis`` (if gated), then ``pause`` (if any), per weight."""
    steps: list[Manifest] = []
    for weight in policy.steps:
        steps.append({"setWeight": weight})
        if policy.analysis is not None and policy.analysis.slos:
            steps.append({"analysis": _templates(service)})
        if policy.pause is None:
            steps.append({"pause": {}})
        elif policy.pause > 0:
            steps.append({"pause": {"duration": format_duration(policy.pause)}})
    return steps


def blue_green(service: Service, policy: DeliveryPolicy) -> Manifest:
    """``blueGreen`` with the template as the pre-promotion analysis."""
    spec: Manifest = {
        "activeService": service.name,
        "previewService": f"{service.name}-preview",
        "autoPromotionEnabled": policy.auto_promote,
        "scaleDownDelaySeconds": policy.scale_down_delay // 1000,
    }
    if policy.auto_promote and policy.auto_promotion_delay:
        spec["autoPromotionSeconds"] = policy.auto_promotion_delay // 1000
    if policy.analysis is not None and policy.analysis.slos:
        spec["prePromotionAnalysis"] = _templates(service)
    return spec
