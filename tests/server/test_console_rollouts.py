"""The console's Rollouts page and rollout page, through FastAPI's TestClient.

Rollouts are started and aborted through the API on a runtime whose loops never start; the
test takes the coordinator's steps itself (``tick``), as ``opsplane serve``'s loop would. The
default router only records the weights. A tenant must never see another's rollouts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.domain.rollout import (
    CanaryStrategy,
    Pause,
    Rollout,
    RolloutPhase,
    SetWeight,
    start,
)
from opsplane.ports import StoredSpec
from opsplane.server.app import create_app
from opsplane.server.console import rollout_views
from opsplane.server.console.rendering import CSP
from tests.server.conftest import Server, open_runtime, spec
from tests.server.test_console import sign_in

MANUAL = "delivery:\n  steps: [10, 100]\n  pause: manual\n"
ANALYSED = (
    "delivery:\n  steps: [10, 100]\n  pause: manual\n"
    "  analysis:\n    metrics: [availability]\n    interval: 1m\n    count: 3\n"
)


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[Server]:
    runtime = open_runtime(tmp_path)
    tokens = {
        ns: create_token(runtime.tokens, runtime.clock, ns, read_only=False)
        for ns in ("payments", "search")
    }
    for namespace, name, delivery in (
        ("payments", "shop", MANUAL),
        ("payments", "cart", ANALYSED),
        ("search", "query", MANUAL),
    ):
        runtime.specs.put_spec(StoredSpec(namespace, name, spec(name, namespace) + delivery, 0))
    runtime.catalog_changed()
    try:
        with TestClient(create_app(runtime, start=False)) as client:
            yield Server(client, runtime, tokens)
    finally:
        runtime.stop()


def begin(server: Server, namespace: str, service: str, version: str = "v2") -> str:
    """Start a rollout through the API and let the coordinator take its first steps."""
    response = server.client.post(
        f"/api/v1/namespaces/{namespace}/rollouts",
        json={"service": service, "version": version, "stable_version": "v1", "author": "ana"},
        headers=server.auth(namespace),
    )
    assert response.status_code == 201, response.text
    server.runtime.rollouts.coordinator.tick()
    rollout_id: str = response.json()["id"]
    return rollout_id


def abort(server: Server, rollout_id: str, reason: str) -> None:
    response = server.client.post(
        f"/api/v1/namespaces/payments/rollouts/{rollout_id}/abort",
        json={"reason": reason},
        headers=server.auth("payments"),
    )
    assert response.status_code == 200, response.text
    server.runtime.rollouts.coordinator.tick()


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def table(html: str, testid: str) -> dict[str, str]:
    """The text of each body row of the table with ``data-testid``, by its rollout id."""
    found = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-rollout="([^"]+)">(.*?)</tr>', found, re.DOTALL)
    return {rollout_id: text(body) for rollout_id, body in rows}


def test_a_started_rollout_is_listed_in_progress_with_its_phase_step_and_weights(
    idle: Server,
) -> None:
    rollout_id = begin(idle, "payments", "shop")
    sign_in(idle)
    response = idle.client.get("/ui/rollouts")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    html = response.text
    assert '<a href="/ui/rollouts" aria-current="page">Rollouts</a>' in html
    active = table(html, "active-rollouts")
    assert list(active) == [rollout_id]
    row = active[rollout_id]
    for fact in ("shop", "canary", "v2 over v1", "Paused", "2/4 pause until promoted",
                 "stable 90% canary 10%", "by ana"):  # fmt: skip
        assert fact in row, (fact, row)
    assert '<rect class="split-canary" x="90" y="0" width="10" height="6">' in html
    assert "phase-paused" in html
    assert "waiting for the controller" not in row
    assert "No rollout has ended yet." in html


def test_a_rollout_just_recorded_says_it_waits_for_the_controller(idle: Server) -> None:
    response = idle.client.post(
        "/api/v1/namespaces/payments/rollouts",
        json={"service": "shop", "version": "v2", "stable_version": "v1"},
        headers=idle.auth("payments"),
    )
    rollout_id = response.json()["id"]  # no tick: the coordinator has not taken it yet
    sign_in(idle)
    row = table(idle.client.get("/ui/rollouts").text, "active-rollouts")[rollout_id]
    assert "Progressing" in row
    assert "waiting for the controller" in row
    assert "stable 100% canary 0%" in row


def test_the_analysis_shows_each_metric_with_its_last_measurement_and_message(
    idle: Server,
) -> None:
    rollout_id = begin(idle, "payments", "cart")
    sign_in(idle)
    row = table(idle.client.get("/ui/rollouts").text, "active-rollouts")[rollout_id]
    assert "2/6 analysis of availability" in row
    assert "availability Running last Error []" in row
    assert "no data returned from the metric provider" in row
    detail = idle.client.get(f"/ui/rollouts/{rollout_id}").text
    measured = detail.split('data-testid="measurements"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"<td>availability</td>\s*<td><span[^>]*>Error</span>", measured)


def test_another_namespaces_rollout_is_not_listed_and_its_page_is_404(idle: Server) -> None:
    theirs = begin(idle, "search", "query")
    mine = begin(idle, "payments", "shop")
    sign_in(idle)
    for path in ("/ui/rollouts", "/ui/active-rollouts"):
        html = idle.client.get(path).text
        assert mine in html
        assert theirs not in html
        assert "query" not in html
    for path in (f"/ui/rollouts/{theirs}", "/ui/rollouts/nope"):
        response = idle.client.get(path)
        assert response.status_code == 404
        assert theirs not in response.text.split("<main>", 1)[1].replace(path, "")


def test_an_aborted_rollout_moves_to_recent_with_its_reason(idle: Server) -> None:
    rollout_id = begin(idle, "payments", "shop")
    abort(idle, rollout_id, "p99 latency up 40% on the canary")
    sign_in(idle)
    html = idle.client.get("/ui/rollouts").text
    assert "No rollout in progress." in html
    row = table(html, "recent-rollouts")[rollout_id]
    for fact in ("Aborted", "p99 latency up 40% on the canary", "stable 100% canary 0%"):
        assert fact in row, (fact, row)
    assert "phase-aborted" in html
    detail = idle.client.get(f"/ui/rollouts/{rollout_id}").text
    message = re.search(r'<p class="error" data-testid="message">(.*?)</p>', detail)
    assert message is not None
    assert message.group(1) == "p99 latency up 40% on the canary"


def test_the_rollout_page_marks_each_step_done_current_or_next(idle: Server) -> None:
    rollout_id = begin(idle, "payments", "shop")
    sign_in(idle)
    html = idle.client.get(f"/ui/rollouts/{rollout_id}").text
    steps = html.split('data-testid="steps"', 1)[1].split("</ol>", 1)[0]
    found = [
        (state, text(body))
        for state, body in re.findall(r'<li class="step-(\w+)"[^>]*>(.*?)</li>', steps)
    ]
    assert found == [
        ("done", "done weight 10%"),
        ("current", "current pause until promoted"),
        ("next", "next weight 100%"),
        ("next", "next pause until promoted"),
    ]
    assert 'href="/ui/rollouts"' in html
    assert "No measurements: no analysis step is running." in html


def test_recent_rollouts_are_newest_first_after_those_in_progress(idle: Server) -> None:
    first = begin(idle, "payments", "shop", "v2")
    abort(idle, first, "first")
    second = begin(idle, "payments", "shop", "v3")
    abort(idle, second, "second")
    running = begin(idle, "payments", "cart")
    sign_in(idle)
    html = idle.client.get("/ui/rollouts").text
    assert list(table(html, "active-rollouts")) == [running]
    assert list(table(html, "recent-rollouts")) == [second, first]


def test_the_rollouts_in_progress_refresh_every_5_seconds_through_htmx(idle: Server) -> None:
    rollout_id = begin(idle, "payments", "shop")
    sign_in(idle)
    page = idle.client.get("/ui/rollouts").text
    assert re.search(
        r'<section id="active-rollouts" class="panel" hx-get="/ui/active-rollouts" '
        r'hx-trigger="every 5s" hx-swap="outerHTML">',
        page,
    )
    part = idle.client.get("/ui/active-rollouts", headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<section id="active-rollouts"')
    assert "<html" not in part.text
    assert rollout_id in part.text
    idle.client.cookies.clear()
    signed_out = idle.client.get("/ui/active-rollouts", headers={"HX-Request": "true"})
    assert (signed_out.status_code, signed_out.headers["hx-redirect"]) == (204, "/ui/login")


@pytest.mark.parametrize("path", ["/ui/rollouts", "/ui/active-rollouts", "/ui/rollouts/x"])
def test_the_rollout_pages_need_a_session(idle: Server, path: str) -> None:
    response = idle.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/login")


@pytest.mark.parametrize(
    ("step", "words"),
    [
        pytest.param({"kind": "set_weight", "weight": 25}, "weight 25%", id="a weight"),
        pytest.param({"kind": "pause", "seconds": None}, "pause until promoted", id="manual"),
        pytest.param({"kind": "pause", "seconds": 90.0}, "pause 90s", id="a timed pause"),
        pytest.param(
            {"kind": "analysis", "metrics": ["availability", "latency"]},
            "analysis of availability, latency",
            id="an analysis",
        ),
        pytest.param(
            {"kind": "scale_down", "delay_seconds": 30.0},
            "scale the old version down after 30s",
            id="blue-green's scale-down",
        ),
    ],
)
def test_each_kind_of_step_reads_as_words(step: dict[str, Any], words: str) -> None:
    assert rollout_views.step_text(step) == words


def _rollout(phase: RolloutPhase, index: int) -> Rollout:
    strategy = CanaryStrategy((SetWeight(10), Pause(None), SetWeight(100)))
    begun = start("r", "shop", strategy, 0, version="v2", stable_version="v1")
    return replace(begun, phase=phase, step_index=index)


@pytest.mark.parametrize(
    ("phase", "index", "states"),
    [
        pytest.param("Paused", 1, ["done", "current", "next"], id="paused at the second step"),
        pytest.param("Aborted", 1, ["done", "stopped", "next"], id="aborted at the second step"),
        pytest.param("Completed", 3, ["done", "done", "done"], id="completed"),
    ],
)
def test_steps_are_done_before_the_current_one_and_next_after_it(
    phase: RolloutPhase, index: int, states: list[str]
) -> None:
    assert [s.state for s in rollout_views.steps(_rollout(phase, index))] == states
