"""``opsplane rollout`` through the console script's ``main()``, on a real SQLite DB.

Commands run in-process (``tests/cli/inprocess.py``: argv, exit code and output as a user
gets them, without a new interpreter per command), with a coordinator in-process too.

The commands only record intent; the coordinator (what ``opsplane serve`` runs) is driven here
tick by tick on the same database, with an in-memory router and a fake clock, so every step
of the hand-over is visible: what ``status`` says before the coordinator acted, and after.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsplane.adapters.sql.deployments import SqlDeployments
from opsplane.adapters.sql.rollouts import SqlRollouts
from opsplane.adapters.sql.server import SqlSpecs
from opsplane.app.rollout import RolloutCoordinator
from opsplane.domain.analysis import AnalysisMetric
from opsplane.ports import StoredSpec
from opsplane.testing import FakeClock, FunctionMetricProvider, InMemoryTrafficRouter
from opsplane.types import Millis
from tests.cli.inprocess import opsplane
from tests.cli.test_cli import assert_no_traceback

SPEC = """\
apiVersion: opsplane/v1
kind: Service
metadata: {name: shop, namespace: payments}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
"""
DELIVERY = """\
delivery:
  steps: [10, 50]
  pause: manual
  analysis: {metrics: [availability], interval: 1s, count: 2}
"""


@dataclass
class Controller:
    """The coordinator ``serve`` would run, on the CLI's database."""

    coordinator: RolloutCoordinator
    router: InMemoryTrafficRouter
    clock: FakeClock
    deployments: SqlDeployments

    def tick(self, after_ms: Millis = 0) -> None:
        self.clock.advance(after_ms)
        self.coordinator.tick()

    def events(self) -> list[str]:
        return [d.version for d in self.deployments.deployments(0)]


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A state DB whose catalog holds ``shop`` with its delivery section, and ``plain`` without."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with SqlSpecs.open(url) as specs:
        specs.put_spec(StoredSpec("payments", "shop", SPEC + DELIVERY, 0))
        plain = SPEC.replace("name: shop,", "name: plain,").replace('job="shop"', 'job="plain"')
        specs.put_spec(StoredSpec("payments", "plain", plain, 0))
    return url


@contextmanager
def controller(db: str, ratio: float = 0.0) -> Iterator[Controller]:
    """A coordinator whose analyses all read ``ratio`` (0: healthy)."""

    def measured(metric: AnalysisMetric, at: Millis) -> list[float]:
        return [ratio]

    clock = FakeClock(time.time_ns() // 1_000_000 + 1)
    router = InMemoryTrafficRouter()
    with SqlRollouts.open(db) as store:
        deployments = SqlDeployments(store.engine)
        provider = FunctionMetricProvider(measured)
        coordinator = RolloutCoordinator(store, router, deployments, provider, clock)
        yield Controller(coordinator, router, clock, deployments)


def status(db: str, rollout_id: str) -> dict[str, Any]:
    run = opsplane("rollout", "status", rollout_id, "--json", "--db", db)
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)
    assert document["version"] == 1
    rollout: dict[str, Any] = document["rollout"]
    return rollout


def start(db: str, *extra: str) -> str:
    run = opsplane(
        *("rollout", "start", "shop", "--version", "v2", "--stable-version", "v1"),
        *("--author", "ana", "--id", "r1", "--db", db, *extra),
    )
    assert run.returncode == 0, run.stderr
    return "r1"


def test_a_started_rollout_waits_for_the_controller_which_then_moves_the_traffic(db: str) -> None:
    rollout_id = start(db)
    before = status(db, rollout_id)
    assert before["phase"] == "Progressing"
    assert before["waiting_for_controller"] is True
    assert before["step"] == {
        "index": 0,
        "count": 6,
        "current": {"kind": "set_weight", "weight": 10},
    }
    assert before["weights"] == {"stable": 100, "canary": 0}
    assert before["author"] == "ana"

    with controller(db) as ctl:
        ctl.tick()
        assert ctl.router.weights("shop") == {"stable": 90, "canary": 10}
        first = status(db, rollout_id)
        assert first["waiting_for_controller"] is False
        assert (first["canary_weight"], first["weights"]) == (10, {"stable": 90, "canary": 10})
        assert first["analysis"]["phase"] == "Running"
        [metric] = first["analysis"]["metrics"]
        assert (metric["name"], metric["successful"], metric["last"]["value"]) == (
            "availability",
            1,
            "[0.0]",
        )

        ctl.tick(1_000)  # the second measurement ends the analysis; the manual pause waits
        paused = status(db, rollout_id)
        assert (paused["phase"], paused["message"]) == ("Paused", "paused until promoted")

        promoted = opsplane("rollout", "promote", rollout_id, "--db", db)
        assert promoted.returncode == 0, promoted.stderr
        assert "Waiting for the controller" in promoted.stdout
        assert ctl.router.weights("shop") == {"stable": 90, "canary": 10}  # not the CLI's job
        ctl.tick()
        assert ctl.router.weights("shop") == {"stable": 50, "canary": 50}

        assert opsplane("rollout", "promote", rollout_id, "--full", "--db", db).returncode == 0
        ctl.tick()
        assert ctl.router.weights("shop") == {"stable": 0, "canary": 100}
        done = status(db, rollout_id)
        assert (done["phase"], done["active"], done["pending"]) == ("Completed", False, [])
        assert sorted(ctl.events()) == ["v2", "v2 canary 10%", "v2 canary 100%", "v2 canary 50%"]

    again = opsplane("rollout", "promote", rollout_id, "--db", db)
    assert again.returncode == 1
    assert again.stderr == "opsplane: rollout r1 is Completed; it cannot be promoted\n"
    assert_no_traceback(again)


def test_an_abort_is_recorded_with_its_rollback_pending_until_the_controller_applies_it(
    db: str,
) -> None:
    rollout_id = start(db)
    with controller(db) as ctl:
        ctl.tick()
        aborted = opsplane("rollout", "abort", rollout_id, "--author", "ana", "--db", db)
        assert aborted.returncode == 0, aborted.stderr
        recorded = status(db, rollout_id)
        assert (recorded["phase"], recorded["message"]) == ("Aborted", "aborted by ana")
        assert recorded["pending"][0] == {
            "kind": "set_weights",
            "weights": {"stable": 100, "canary": 0},
        }
        assert recorded["active"] is True
        assert recorded["waiting_for_controller"] is True
        assert ctl.router.weights("shop") == {"stable": 90, "canary": 10}

        ctl.tick()
        assert ctl.router.weights("shop") == {"stable": 100, "canary": 0}
        assert ctl.events()[0] == "v2 rolled back to v1 (aborted by ana)"
    settled = status(db, rollout_id)
    assert (settled["pending"], settled["active"], settled["waiting_for_controller"]) == (
        [],
        False,
        False,
    )
    listed = json.loads(opsplane("rollout", "list", "--active", "--json", "--db", db).stdout)
    assert listed == {"version": 1, "rollouts": []}
    second = opsplane("rollout", "abort", rollout_id, "--db", db)
    assert (second.returncode, second.stderr) == (
        1,
        "opsplane: rollout r1 is Aborted; it cannot be aborted\n",
    )


def test_start_takes_the_strategy_from_spec_files_with_config(db: str, tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(SPEC + DELIVERY.replace("[10, 50]", "[20]"))
    rollout_id = start(db, "--config", str(spec))
    assert status(db, rollout_id)["step"]["current"] == {"kind": "set_weight", "weight": 20}
    by_service = opsplane("rollout", "status", "--service", "shop", "--db", db)
    assert by_service.returncode == 0, by_service.stderr
    assert "Step:      1/3 setWeight 20" in by_service.stdout
    assert "Waiting for the controller" in by_service.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ("start", "nope", "--version", "v2", "--stable-version", "v1"),
            "opsplane: no service 'nope' in the catalog",
            id="an unknown service",
        ),
        pytest.param(
            ("start", "plain", "--version", "v2", "--stable-version", "v1"),
            "plain:delivery: service plain has no delivery: section, so it cannot be rolled out",
            id="a service without a delivery section",
        ),
        pytest.param(
            ("start", "shop", "--version", "v 2", "--stable-version", "v1"),
            "request:version: 'v 2' is not a version ([A-Za-z0-9_.+-], at most 128)",
            id="a version with a space",
        ),
        pytest.param(
            ("promote", "missing"), "opsplane: no rollout 'missing'", id="promoting a missing id"
        ),
        pytest.param(
            ("status", "--service", "plain"),
            "opsplane: service 'plain' has no rollout",
            id="the status of a service never rolled out",
        ),
    ],
)
def test_bad_input_prints_one_line_and_exits_1(
    db: str, args: tuple[str, ...], message: str
) -> None:
    run = opsplane("rollout", *args, "--db", db)
    assert (run.returncode, run.stderr) == (1, message + "\n")
    assert_no_traceback(run)
    listed = json.loads(opsplane("rollout", "list", "--json", "--db", db).stdout)
    assert listed["rollouts"] == []


def test_naming_both_an_id_and_a_service_is_a_usage_error(db: str) -> None:
    run = opsplane("rollout", "status", "r1", "--service", "shop", "--db", db)
    assert run.returncode == 2
    assert_no_traceback(run)
