"""What a server runs: the state database, the metric store, the evaluator and the notifier.

:class:`Runtime` is the composition root of ``opsplane serve``. It opens every adapter on one
database engine, applies migrations, loads the specs of ``--config DIR`` into the catalog and
runs two threads:

- the **evaluator** ticks every interval (aligned, as Prometheus aligns rule evaluation). Each
  tick it takes or renews the ``evaluator`` lease; only the replica holding it scrapes,
  evaluates and feeds the alerting pipeline, so replicas on one PostgreSQL never evaluate or
  route twice. A replica that loses the lease stops at its next tick; one that takes it over
  restores alert states and the notification log from the database.
- the **notifier** flushes due alert groups and delivers the outbox. Delivery runs on every
  replica: the outbox's row claims (``SKIP LOCKED``) keep two replicas from sending one row.

:meth:`Runtime.stop` ends both loops between steps (a tick or a delivery is never cut in half),
releases the lease so another replica takes over at once, and closes the adapters.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opsplane.adapters.metricstore import MetricStore
from opsplane.adapters.notify import http_client
from opsplane.adapters.notify.factory import build_receivers
from opsplane.adapters.scrape import HttpScraper
from opsplane.adapters.sql import SqlStateStore
from opsplane.adapters.sql.budgets import SqlBudgets
from opsplane.adapters.sql.costs import SqlCostLedger
from opsplane.adapters.sql.outbox import SqlOutbox
from opsplane.adapters.sql.server import SqlLease, SqlSpecs, SqlTokens
from opsplane.app import catalog
from opsplane.app.alerting import AlertPipeline, Links
from opsplane.app.budgets import BudgetChecks, BudgetMonitor
from opsplane.app.costs import CostService
from opsplane.app.engine import Engine, Tick
from opsplane.app.events import EventIngest
from opsplane.app.notifier import Notifier
from opsplane.app.scheduler import Scheduler
from opsplane.app.scrape import targets
from opsplane.domain.duration import DAY
from opsplane.domain.evaluation import SLOStatus
from opsplane.domain.notify import SECOND
from opsplane.domain.routing.config import AlertmanagerConfig
from opsplane.domain.routing.route import Route, RouteConfig
from opsplane.domain.slo import SLO, Service
from opsplane.errors import SpecError
from opsplane.ports import StoredSpec
from opsplane.render.status import status_document
from opsplane.server.composition import alerting_stores, close_receivers
from opsplane.server.delivery import DeliveryPorts, DeliverySettings, RolloutLoop, build_router
from opsplane.spec import load_paths
from opsplane.spec.alertmanager_config import load_alertmanager_config
from opsplane.spec.cost_prices import load_price_table
from opsplane.types import Millis

logger = logging.getLogger(__name__)
LEASE = "evaluator"


class SystemClock:
    """Wall-clock time."""

    def now_ms(self) -> Millis:
        """Unix epoch milliseconds."""
        return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """How ``opsplane serve`` runs.

    Attributes:
        db_url: The state database.
        metrics_dir: The embedded metric store's directory.
        config_dir: Specs applied at start (each to its ``metadata.namespace``).
        alerting: An Alertmanager configuration that routes the alerts; ``None`` still opens
            incidents for pages but notifies no one.
        interval_ms: The evaluation interval.
        default_period: The period of SLOs that name none.
        external_url: This server's URL (links in notifications).
        lease_ttl_ms: How long the evaluator lease lasts without renewal.
        delivery: The rollout coordinator's traffic router and analysis providers.
        prices: The LLM price map runs are priced with: ``None`` for the packaged copy,
            ``litellm`` for the installed package's, or a file (as ``cost run --prices``).
        rates: A rate table (action price, compute rates per capability), as ``cost run
            --rates``; ``None`` keeps the defaults.
    """

    db_url: str
    metrics_dir: Path
    config_dir: Path | None = None
    alerting: Path | None = None
    interval_ms: Millis = 60 * SECOND
    default_period: Millis = 30 * DAY
    external_url: str = ""
    lease_ttl_ms: Millis | None = None
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    prices: str | None = None
    rates: Path | None = None

    @property
    def lease_ms(self) -> Millis:
        """The lease length: three intervals, at least 10 s."""
        return self.lease_ttl_ms or max(3 * self.interval_ms, 10 * SECOND)


NULL_ROUTING = AlertmanagerConfig(
    Route.build(RouteConfig(receiver="null", group_by=("namespace", "alertname", "sloth_service"))),
    RouteConfig(receiver="null"),
)
"""Without ``--alerting``: one group per alert and service, and no receiver integrations."""


@dataclass
class Health:
    """What ``/readyz`` and ``/metrics`` report about the loops."""

    last_tick_at: Millis | None = None
    last_tick_wall_ms: Millis | None = None
    last_tick_duration_s: float | None = None
    leader: bool = False
    ticks: int = 0
    tick_errors: int = 0


@dataclass
class Runtime:
    """The running server's parts; :meth:`open`, :meth:`start`, then :meth:`stop`."""

    settings: ServerSettings
    clock: SystemClock = field(default_factory=SystemClock)
    holder: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    health: Health = field(default_factory=Health)

    def open(self) -> None:
        """Open the database (migrating it) and the metric store; load ``config_dir``."""
        # First the files: a bad price map, rate table or --router leaves nothing open.
        prices = load_price_table(self.settings.prices, self.settings.rates)
        router = build_router(self.settings.delivery)
        self.state = SqlStateStore.open(self.settings.db_url)
        engine = self.state.engine
        self.outbox = SqlOutbox(engine)
        stores = alerting_stores(self.outbox)
        self.incidents = stores.incidents
        self.silences = stores.silences
        self.deployments = stores.deployments
        self.specs = SqlSpecs(engine)
        self.tokens = SqlTokens(engine)
        self.lease = SqlLease(engine)
        self.costs = CostService(
            SqlCostLedger(engine),
            prices,
            lambda namespace: {s.name for s in self.services(namespace)},
        )
        self.store = MetricStore.open(self.settings.metrics_dir)
        self.events = EventIngest(self.store, self._last_value, self.clock)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._services_lock = threading.Lock()
        self._services: list[Service] | None = None
        self._latest: dict[str, SLOStatus] = {}
        self._generation = 0
        self._documents: dict[str, tuple[int, float, bytes]] = {}
        if self.settings.config_dir is not None:
            self._apply_config_dir(self.settings.config_dir)
        routing = self.settings.alerting
        self.routing = load_alertmanager_config(routing) if routing else NULL_ROUTING
        self._client = http_client()
        self.receivers = build_receivers(self.routing, self._client, self.clock, file=str(routing))
        links = Links(self.settings.external_url, _dashboard(self.settings.external_url))
        self.pipeline = AlertPipeline(self.services(), self.routing, stores, links)
        self.budgets = SqlBudgets(engine)
        self.budget_monitor = BudgetMonitor(
            self.budgets,
            self.costs.ledger,
            self._snapshot,
            BudgetChecks(self.costs.table),
            self.pipeline.observe_alerts,
        )
        self.notifier = Notifier(self.pipeline, self.outbox, self.receivers, self.clock)
        self.rollouts = RolloutLoop.open(
            self.settings.delivery,
            router,
            DeliveryPorts(
                engine,
                self.store,
                self.services,
                lambda: list(self._latest.values()) or self.state.latest_statuses(),
                self.deployments,
                self.incidents,
                self.clock,
                self.holder,
            ),
        )

    def _apply_config_dir(self, directory: Path) -> None:
        loaded = load_paths([directory])
        if loaded.problems:
            raise SpecError(loaded.problems)
        now = self.clock.now_ms()
        per_file = Counter(parsed.doc.file for parsed in loaded.parsed)
        for parsed in loaded.parsed:
            service = parsed.service
            # A file with one service is stored as written; one document of a multi-service
            # file is stored as its own JSON (a spec holds one service).
            source = (
                Path(parsed.doc.file).read_text(encoding="utf-8")
                if per_file[parsed.doc.file] == 1
                else json.dumps(parsed.doc.data)
            )
            namespace = service.namespace or catalog.DEFAULT_NAMESPACE
            catalog.check_namespace(namespace)
            self.specs.put_spec(StoredSpec(namespace, service.name, source, now))

    def _last_value(self, labels: tuple[tuple[str, str], ...]) -> tuple[Millis, float] | None:
        timestamps, values = self.store.read(labels)
        if len(timestamps) == 0:
            return None
        return int(timestamps[-1]), float(values[-1])

    # --- services ------------------------------------------------------------------------

    def services(self, namespace: str | None = None) -> list[Service]:
        """The applied services (of one namespace), parsed once per catalog change."""
        found = self._snapshot()
        return [s for s in found if namespace is None or s.namespace == namespace]

    def _snapshot(self) -> list[Service]:
        """The cached services list itself: the same object until the catalog changes."""
        with self._services_lock:
            if self._services is None:
                self._services = catalog.services(self.specs)
            return self._services

    def catalog_changed(self) -> None:
        """Specs were applied or deleted: re-read them at the next use and tick."""
        with self._services_lock:
            self._services = None
            self._generation += 1

    def find_slo(self, namespace: str, slo_id: str) -> tuple[Service, SLO] | None:
        """The service and SLO of ``namespace`` with id ``slo_id``, if it has one."""
        found = [(svc, slo) for svc in self.services(namespace) for slo in svc.slos]
        return next(((svc, slo) for svc, slo in found if slo.id == slo_id), None)

    def status_of(self, namespace: str, slo_id: str) -> SLOStatus | None:
        """The latest status of one SLO of ``namespace`` (``None`` before its first tick)."""
        return next((s for s in self.latest_statuses(namespace) if s.slo_id == slo_id), None)

    def period_of(self, slo: SLO) -> Millis:
        """The SLO's period length, or the default period when it names none."""
        return slo.period.length if slo.period is not None else self.settings.default_period

    def status_json(self, namespace: str) -> bytes:
        """The ``slo status --json`` v1 document of ``namespace``, as UTF-8 JSON.

        Built once per evaluation tick (or per second on a replica that does not evaluate,
        which reads statuses from the database) and served as bytes: a thousand SLOs make a
        1 MB document that takes ~30 ms to build and serialise, too slow to redo per request.
        """
        now = time.monotonic()
        cached = self._documents.get(namespace)
        fresh = cached is not None and cached[0] == self._generation
        if fresh and cached is not None and (self.health.leader or now - cached[1] < 1.0):
            return cached[2]
        generation = self._generation
        statuses = self.latest_statuses(namespace)
        at = max((s.at for s in statuses), default=self.clock.now_ms())
        body = json.dumps(status_document(statuses, at), allow_nan=False).encode()
        self._documents[namespace] = (generation, now, body)
        return body

    def latest_statuses(self, namespace: str) -> list[SLOStatus]:
        """The latest status of every SLO of ``namespace``, by SLO id."""
        ids = catalog.slo_ids(self.services(namespace))
        latest = self._latest if self.health.leader else {}
        if not latest or not ids <= latest.keys():
            latest = {s.slo_id: s for s in self.state.latest_statuses()}
        return sorted((latest[i] for i in ids if i in latest), key=lambda s: s.slo_id)

    # --- loops ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the evaluator and notifier threads."""
        for target, name in ((self._evaluate_loop, "evaluator"), (self._notify_loop, "notifier")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._threads.append(self.rollouts.start(self._stop))  # after the evaluator: [0]

    def evaluator_alive(self) -> bool:
        """The evaluator thread runs, and (when leader) ticked within two intervals."""
        if not self._threads or not self._threads[0].is_alive():
            return False
        leader: bool = self.health.leader
        last = self.health.last_tick_wall_ms
        if not leader or last is None:
            return True
        return bool(self.clock.now_ms() - last <= 2 * self.settings.interval_ms + 5 * SECOND)

    def _evaluate_loop(self) -> None:
        interval = self.settings.interval_ms
        scheduler: Scheduler | None = None
        version: list[Service] | None = None
        with HttpScraper() as scraper:
            due = (self.clock.now_ms() // interval + 1) * interval
            while not self._stop.wait(max(due - self.clock.now_ms(), 0) / 1000):
                try:
                    if self.lease.acquire(
                        LEASE, self.holder, self.clock.now_ms(), self.settings.lease_ms
                    ):
                        services = self._snapshot()
                        if scheduler is None or services is not version:
                            scheduler, version = self._scheduler(services, scraper), services
                        self.health.leader = True
                        self._tick(scheduler, due)
                    else:
                        self.health.leader, scheduler = False, None
                except Exception:
                    self.health.tick_errors += 1
                    logger.exception("evaluation tick failed")
                due = max(due + interval, (self.clock.now_ms() // interval) * interval)

    def _scheduler(self, services: Sequence[Service], scraper: HttpScraper) -> Scheduler:
        engine = Engine(
            services, self.store, state=self.state, default_period=self.settings.default_period
        )
        self.pipeline.update_services(services)
        return Scheduler(
            engine,
            self.clock,
            self.settings.interval_ms,
            targets(services),
            scraper,
            self.store,
            on_tick=self._on_tick,
        )

    def _tick(self, scheduler: Scheduler, at: Millis) -> None:
        started = time.perf_counter()
        scheduler.run_once(at)
        self.health.last_tick_duration_s = time.perf_counter() - started
        self.health.last_tick_at = at
        self.health.last_tick_wall_ms = self.clock.now_ms()
        self.health.ticks += 1

    def _on_tick(self, tick: Tick) -> None:
        self._latest = {s.slo_id: s for s in tick.statuses}
        self._generation += 1
        self.notifier.on_tick(tick)
        self.budget_monitor.tick(tick.at)  # budget alerts and the pre-call guards

    def _notify_loop(self) -> None:
        self.notifier.run(self._stop)

    def stop(self) -> None:
        """Stop the loops between steps, release the lease and close everything."""
        self._stop.set()
        self.rollouts.wake.set()  # the coordinator sleeps on its wake event
        for thread in self._threads:
            thread.join(timeout=30)
        try:
            self.lease.release(LEASE, self.holder)
        except Exception:  # closing must go on
            logger.exception("could not release the evaluator lease")
        self.rollouts.close()
        close_receivers(self.receivers.values())
        self._client.close()
        self.store.close()
        self.state.close()


def _dashboard(external_url: str) -> str:
    return f"{external_url.rstrip('/')}/ui/slos/{{slo_id}}" if external_url else ""
