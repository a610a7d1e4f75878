"""Progressive delivery in ``opsplane serve``: the rollout coordinator, its router and providers.

:class:`RolloutLoop` runs :meth:`RolloutCoordinator.run <opsplane.app.rollout.
RolloutCoordinator.run>` on a thread of its own, on the replica that holds the ``rollouts``
lease (separate from the evaluator's, so a slow router never delays an evaluation; every
write is fenced by the rollout's revision anyway). API requests and ``opsplane rollout``
record their intent through :class:`~opsplane.app.rollout_control.RolloutControl`; a request
on this replica also sets :attr:`RolloutLoop.wake`, so the coordinator acts on it at once
instead of at its next idle wake (at most one second).

The traffic router is chosen with ``--router`` (:func:`build_router`):

- ``state`` (the default): no traffic moves; each rollout's wanted weights are kept in its
  stored state, where ``opsplane rollout status`` and the API show them. This suits a
  deploy pipeline that reads the weights, and a first trial of a delivery policy.
- ``webhook:URL``: each split POSTed to ``URL`` (bearer token from the ``--router-token-env``
  variable), see docs/traffic.md.
- ``nginx:DIR``: weighted upstream files in ``DIR`` for the services of ``--nginx-upstreams``
  (``{service: {backend: host:port}}``), then ``--nginx-reload`` (default ``nginx -s reload``).

Analysis metrics are measured by provider name: ``sli`` (the default; an SLO's error ratio
from the embedded store, which is what a ``delivery:`` section's gates use), ``burn_rate``
(the evaluator's latest statuses), ``judge`` (a ``delivery:`` section's Kayenta judge, see
:class:`LiveJudges`) and, with ``--analysis-prometheus URL``, ``prometheus`` (any PromQL
instant query, Argo's Prometheus provider). The judge's queries go to that Prometheus when
it is given, else to the embedded store.
"""

from __future__ import annotations

import logging
import os
import shlex
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from opsplane.adapters.closing import Closing
from opsplane.adapters.metricstore import MetricStore
from opsplane.adapters.prometheus_query import PrometheusQuery
from opsplane.adapters.sql.rollouts import SqlRollouts
from opsplane.adapters.sql.server import SqlLease, SqlSpecs
from opsplane.adapters.traffic import NginxRouter, WebhookRouter, WebhookRouterConfig
from opsplane.adapters.traffic.nginx import DEFAULT_RELOAD
from opsplane.app.providers import (
    BurnRateProvider,
    InstantQuery,
    JudgeGate,
    Providers,
    QueryProvider,
    SLIProvider,
)
from opsplane.app.rollout import RolloutCoordinator
from opsplane.app.rollout_control import RolloutControl, StateOnlyRouter
from opsplane.domain.delivery import JUDGE_PROVIDER, SLI_PROVIDER, JudgePolicy
from opsplane.domain.evaluation import SLOStatus
from opsplane.domain.slo import SLO, Service
from opsplane.errors import DatasourceError, UsageError
from opsplane.ports import (
    Clock,
    DeploymentLog,
    IncidentStore,
    MetricProvider,
    RolloutStore,
    SLIReader,
    SpecCatalog,
    TrafficRouter,
)
from opsplane.spec import load_texts
from opsplane.spec.delivery import deliveries
from opsplane.types import Millis

logger = logging.getLogger(__name__)
LEASE = "rollouts"
LEASE_MS: Millis = 15_000
"""The coordinator's lease: renewed before every tick (at least every second)."""
ROUTERS = "state, webhook:URL or nginx:DIR"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How ``opsplane serve`` moves traffic and measures analyses.

    Attributes:
        router: ``state`` (or empty), ``webhook:URL`` or ``nginx:DIR``.
        router_token_env: The variable holding the webhook's bearer token (optional).
        nginx_upstreams: A YAML or JSON file ``{service: {backend: host:port}}``.
        nginx_reload: The reload command (default ``nginx -s reload``).
        prometheus: The address of the ``prometheus`` analysis provider (optional).
    """

    router: str = ""
    router_token_env: str = ""
    nginx_upstreams: Path | None = None
    nginx_reload: str = ""
    prometheus: str = ""


def build_router(
    settings: DeliverySettings, environ: Mapping[str, str] | None = None
) -> TrafficRouter:
    """The router ``--router`` names.

    Raises:
        UsageError: an unknown router, or its settings are missing or invalid.
    """
    kind, _, target = settings.router.partition(":")
    if kind in ("", "state") and not target:
        return StateOnlyRouter()
    if kind == "webhook" and target:
        config = WebhookRouterConfig(url=target, token_env=settings.router_token_env or None)
        return WebhookRouter(config, environ=environ if environ is not None else os.environ)
    if kind == "nginx" and target:
        reload = shlex.split(settings.nginx_reload) if settings.nginx_reload else DEFAULT_RELOAD
        return NginxRouter(target, _upstreams(settings.nginx_upstreams), reload_command=reload)
    raise UsageError(f"--router must be {ROUTERS}, not {settings.router!r}")


def _upstreams(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        raise UsageError("--router nginx:DIR needs --nginx-upstreams FILE")
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UsageError(f"--nginx-upstreams {path}: {exc}") from exc
    valid = isinstance(data, dict) and all(
        isinstance(backends, dict) and all(isinstance(a, str) for a in backends.values())
        for backends in data.values()
    )
    if not valid:
        raise UsageError(f"--nginx-upstreams {path}: expected {{service: {{backend: host:port}}}}")
    return {str(s): {str(b): a for b, a in backends.items()} for s, backends in data.items()}


class LiveSLOs(Mapping[str, SLO]):
    """The SLOs of the services applied now, by id (re-read at every use)."""

    def __init__(self, services: Callable[[], Sequence[Service]]) -> None:
        self._services = services

    def _now(self) -> dict[str, SLO]:
        return {slo.id: slo for service in self._services() for slo in service.slos}

    def __getitem__(self, slo_id: str) -> SLO:
        return self._now()[slo_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())


class LiveJudges:
    """The judge of a stored service's ``delivery:`` section, by service name.

    Like :class:`LiveSLOs`, it reads the specs applied now, so the judge of a measurement is
    the one in the catalog at that time. A spec is parsed again only when its text changed.
    """

    def __init__(self, catalog: SpecCatalog) -> None:
        self._catalog = catalog
        self._parsed: dict[str, tuple[str, JudgePolicy | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, service: str) -> JudgePolicy:
        """The judge; :class:`DatasourceError` when the service or its judge is gone."""
        spec = next((s for s in self._catalog.specs(None) if s.name == service), None)
        if spec is None:
            raise DatasourceError(f"judge: no service {service!r} in the catalog")
        with self._lock:
            source, judge = self._parsed.get(service, ("", None))
            if source != spec.source:
                judge = _judge(spec.name, spec.source)
                self._parsed[service] = (spec.source, judge)
        if judge is None:
            raise DatasourceError(f"judge: service {service} has no valid delivery.analysis.judge")
        return judge


def _judge(name: str, source: str) -> JudgePolicy | None:
    found, _ = deliveries(load_texts([(name, source)]))
    judges = [p.analysis.judge for _, p in found if p.analysis and p.analysis.judge]
    return judges[0] if judges else None


def rollout_versions(store: RolloutStore) -> Callable[[str], tuple[str, str]]:
    """``(stable, canary)`` of the service's rollout in progress, from the rollout store."""

    def versions(service: str) -> tuple[str, str]:
        active = store.rollouts(active_only=True, service=service)
        if not active:
            raise DatasourceError(f"judge: service {service} has no rollout in progress")
        return active[0].stable_version, active[0].version

    return versions


@dataclass
class DeliveryPorts:
    """What the loop needs from the runtime."""

    engine: Engine
    reader: SLIReader
    services: Callable[[], Sequence[Service]]
    statuses: Callable[[], Sequence[SLOStatus]]
    deployments: DeploymentLog
    incidents: IncidentStore
    clock: Clock
    holder: str
    instant: InstantQuery | None = None
    """The judge's query backend without ``--analysis-prometheus`` (else ``reader``'s, when
    it is the embedded :class:`MetricStore`)."""


@dataclass
class RolloutLoop:
    """The coordinator thread of a server, and the control that API requests use."""

    coordinator: RolloutCoordinator
    control: RolloutControl
    lease: SqlLease
    holder: str
    closables: list[Closing] = field(default_factory=list)
    wake: threading.Event = field(default_factory=threading.Event)
    leader: bool = False

    @classmethod
    def open(
        cls, settings: DeliverySettings, router: TrafficRouter, ports: DeliveryPorts
    ) -> RolloutLoop:
        """The providers and the coordinator over ``router`` (from :func:`build_router`).

        Nothing runs until :meth:`start`.
        """
        closables: list[Closing] = [router] if isinstance(router, Closing) else []
        by_name: dict[str, MetricProvider] = {
            SLI_PROVIDER: SLIProvider(ports.reader, LiveSLOs(ports.services)),
            "burn_rate": BurnRateProvider(ports.statuses),
        }
        instant = ports.instant
        if instant is None and isinstance(ports.reader, MetricStore):
            instant = ports.reader.instant
        if settings.prometheus:
            prometheus = PrometheusQuery(settings.prometheus)
            closables.append(prometheus)
            by_name["prometheus"] = QueryProvider(prometheus.instant)
            instant = prometheus.instant
        store = SqlRollouts(ports.engine)
        if instant is not None:
            judges = LiveJudges(SqlSpecs(ports.engine))
            by_name[JUDGE_PROVIDER] = JudgeGate(judges, rollout_versions(store), instant)
        coordinator = RolloutCoordinator(
            store,
            router,
            ports.deployments,
            Providers(by_name, default=SLI_PROVIDER),
            ports.clock,
            incidents=ports.incidents,
        )
        control = RolloutControl(store, ports.clock)
        return cls(coordinator, control, SqlLease(ports.engine), ports.holder, closables)

    def start(self, stop: threading.Event) -> threading.Thread:
        """Run the coordinator on a daemon thread until ``stop`` (and :attr:`wake`) are set."""

        def run() -> None:
            self.coordinator.run(stop, wake=self.wake, gate=self._lead)

        thread = threading.Thread(target=run, name="rollouts", daemon=True)
        thread.start()
        return thread

    def _lead(self) -> bool:
        now = self.coordinator.clock.now_ms()
        self.leader = self.lease.acquire(LEASE, self.holder, now, LEASE_MS)
        return self.leader

    def close(self) -> None:
        """Give the lease up (another replica takes over at once) and close the router."""
        try:
            self.lease.release(LEASE, self.holder)
        except Exception:  # closing must go on
            logger.exception("could not release the rollouts lease")
        for closable in self.closables:
            closable.close()
