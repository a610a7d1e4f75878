"""The alerting pipeline: engine ticks -> Alertmanager routing -> outbox, incidents.

Runs the real engine, dispatcher and incident rules on in-memory ports with a fake clock:
a 20x burn on ``shop`` starts at BURN_START and stops 30 minutes later.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from opsplane.app.alerting import AlertingStores, AlertPipeline, Links
from opsplane.app.engine import Engine
from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.notify import Notification
from opsplane.domain.remediation import Deployment
from opsplane.domain.routing import Matcher
from opsplane.domain.routing.silences import create
from opsplane.domain.slo import SLO, Alerting, EventsSLI, Origin, Service
from opsplane.spec.alertmanager_config import load_alertmanager_config
from opsplane.testing import (
    FakeClock,
    FunctionReader,
    InMemoryDeployments,
    InMemoryIncidents,
    InMemoryNotificationLog,
    InMemoryOutbox,
    InMemorySilences,
)
from opsplane.types import Millis

SECOND = 1_000
EVENTS = EventsSLI(
    'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
    "sum(rate(http_requests_total[{{.window}}]))",
)
SHOP = Service(
    "shop",
    (
        SLO(
            "shop",
            "availability",
            99.9,
            EVENTS,
            alerting=Alerting(name="ShopAvailability"),
            runbook="https://runbooks.example/shop",
        ),
    ),
    Origin("shop.yaml", 0, "opsplane/v1", "Service"),
)
BURN_START = FakeClock().now
BURN_END = BURN_START + 30 * MINUTE
ROUTING = """
route:
  receiver: tickets
  group_by: [alertname, sloth_service]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity=~"P0|P1"']
      receiver: pager
receivers:
  - name: pager
    webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
    slack_configs: [{api_url: "http://127.0.0.1:9/slack"}]
  - name: tickets
    email_configs: [{to: ops@example.com}]
"""


def burning(slo_id: str, window: Millis, at: Millis) -> float | None:
    """2 % errors between BURN_START and BURN_END over every window (a 20x burn)."""
    return 0.02 if BURN_START <= at < BURN_END else 0.0


class Harness:
    """The engine ticking every minute and the pipeline flushing at its wakeups."""

    def __init__(self, tmp_path: Path) -> None:
        routing = tmp_path / "routing.yaml"
        routing.write_text(ROUTING)
        self.outbox = InMemoryOutbox()
        self.incidents = InMemoryIncidents()
        self.silences = InMemorySilences()
        self.deployments = InMemoryDeployments()
        self.log = InMemoryNotificationLog()
        stores = AlertingStores(
            self.outbox, self.incidents, self.silences, self.deployments, self.log
        )
        self.engine = Engine([SHOP], FunctionReader(burning))
        self.pipeline = AlertPipeline(
            [SHOP],
            load_alertmanager_config(routing),
            stores,
            Links("http://opsplane.local", "http://opsplane.local/slos/{slo_id}"),
            new_id=lambda: "inc-1",
        )
        self.sent: list[tuple[Millis, Notification]] = []

    def run(self, start: Millis, until: Millis) -> None:
        for at in range(start, until, MINUTE):
            self.pipeline.observe(self.engine.tick(at))
            while (wake := self.pipeline.next_wakeup()) is not None and wake < at + MINUTE:
                self.sent += [(wake, n) for n in self.pipeline.flush(wake)]


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def test_a_page_reaches_every_pager_integration_after_group_wait(harness: Harness) -> None:
    harness.run(BURN_START, BURN_START + 2 * MINUTE)
    pages = [(at, n) for at, n in harness.sent if n.receiver.startswith("pager/")]
    assert [(at - BURN_START, n.receiver, n.kind) for at, n in pages] == [
        (30 * SECOND, "pager/webhook/0", "firing"),
        (30 * SECOND, "pager/slack/0", "firing"),
    ]
    payload = pages[0][1].payload
    assert payload.severity == "P1"
    assert [a.labels["alertname"] for a in payload.alerts] == ["ShopAvailability"]
    assert payload.alerts[0].labels["sloth_severity"] == "page"
    assert payload.runbook_url == "https://runbooks.example/shop"
    assert payload.dashboard_url == "http://opsplane.local/slos/shop-availability"
    # The ticket tier (P3) goes to the tickets receiver, in its own group.
    tickets = [n for _, n in harness.sent if n.receiver == "tickets/email/0"]
    assert [n.payload.severity for n in tickets] == ["P3"]


def test_every_firing_notification_carries_the_remediation_summary(harness: Harness) -> None:
    harness.deployments.record_deployment(
        Deployment("shop", "v2.4.1", BURN_START - 12 * MINUTE, author="alice")
    )
    harness.run(BURN_START, BURN_START + MINUTE)
    firing = [n for _, n in harness.sent if n.kind == "firing"]
    assert firing
    for notification in firing:
        summary = notification.payload.summary
        assert "shop/availability is burning its error budget" in summary
        assert "burn rate 20.0x" in summary  # 2 % errors on a 0.1 % budget
        assert "v2.4.1 deployed 12m" in summary
        assert "by alice" in summary
        assert "Runbook: https://runbooks.example/shop" in summary
        assert "Dashboard: http://opsplane.local/slos/shop-availability" in summary


def test_a_page_opens_an_incident_that_resolves_with_the_alerts(harness: Harness) -> None:
    harness.deployments.record_deployment(Deployment("shop", "v2", BURN_START - 5 * MINUTE))
    harness.run(BURN_START, BURN_END + HOUR)
    (incident,) = harness.incidents.incidents()
    kinds = [e.kind for e in incident.timeline]
    assert kinds == ["fired", "deployment_correlated", "notified", "resolved"]
    assert incident.opened_at == BURN_START  # when the page started firing
    assert incident.severity == "P1"
    assert incident.state == "resolved"
    resolved = [n for _, n in harness.sent if n.kind == "resolved"]
    # Webhooks send resolved by default; Slack and email do not (Alertmanager's defaults).
    assert sorted({n.receiver for n in resolved}) == ["pager/webhook/0"]


def test_tickets_do_not_open_incidents(harness: Harness) -> None:
    harness.run(BURN_START, BURN_START + 2 * MINUTE)
    assert [i.severity for i in harness.incidents.incidents()] == ["P1"]


def test_a_silence_mutes_the_page_until_it_expires(harness: Harness) -> None:
    silence = create(
        id="s1",
        matchers=[Matcher("=", "sloth_service", "shop"), Matcher("=", "severity", "P1")],
        starts_at=BURN_START - MINUTE,
        ends_at=BURN_START + 10 * MINUTE,
        created_by="alice",
        comment="known issue",
        now=BURN_START - MINUTE,
    )
    harness.silences.save_silence(silence)
    harness.run(BURN_START, BURN_START + 20 * MINUTE)
    pages = [at for at, n in harness.sent if n.receiver == "pager/webhook/0"]
    # Flushes at +30s and +5m30s are silenced; +10m30s is the first after the silence.
    assert [at - BURN_START for at in pages] == [10 * MINUTE + 30 * SECOND]
    assert harness.incidents.incidents()[0].opened_at == BURN_START


def test_notifications_are_in_the_outbox_before_flush_returns(harness: Harness) -> None:
    harness.run(BURN_START, BURN_START + MINUTE)
    stored = {e.notification.delivery_id for e in harness.outbox.rows.values()}
    assert stored == {n.delivery_id for _, n in harness.sent}
    assert stored


def _restarted(before: Harness, tmp_path: Path, *, keep_log: bool) -> Harness:
    """A new process on the same stores (the notification log too, when ``keep_log``)."""
    after = Harness(tmp_path)
    after.outbox, after.incidents, after.deployments = (
        before.outbox,
        before.incidents,
        before.deployments,
    )
    log = before.log if keep_log else InMemoryNotificationLog()
    stores = AlertingStores(after.outbox, after.incidents, after.silences, after.deployments, log)
    after.pipeline = AlertPipeline(
        [SHOP], before.pipeline.config, stores, before.pipeline.links, new_id=lambda: "inc-2"
    )
    return after


@pytest.mark.parametrize("keep_log", [True, False], ids=["with the nflog", "without it"])
def test_a_restart_does_not_notify_an_unchanged_group_again(tmp_path: Path, keep_log: bool) -> None:
    before = Harness(tmp_path)
    before.run(BURN_START, BURN_START + 5 * MINUTE)
    assert [n.receiver for _, n in before.sent if n.receiver == "pager/webhook/0"] == [
        "pager/webhook/0"
    ]
    after = _restarted(before, tmp_path, keep_log=keep_log)
    after.run(BURN_START + 6 * MINUTE, BURN_START + 20 * MINUTE)
    repeats = [n for _, n in after.sent if n.receiver == "pager/webhook/0"]
    # Alertmanager persists its nflog for the same reason: a restart must not page again.
    assert len(repeats) == (0 if keep_log else 1)
    assert len(after.incidents.incidents()) == 1  # joined, never a second incident
