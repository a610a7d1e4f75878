"""``opsplane ingest openmetrics`` and ``opsplane slo status``, end to end as a user runs them."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.cli.test_cli import assert_no_traceback, opsplane, service, write_yaml

START = 1_767_225_600  # 2026-01-01T00:00:00Z, seconds
MINUTES = 180


def openmetrics(path: Path, error_every: int = 200) -> Path:
    """10 req/s for three hours; one request in ``error_every`` fails from the start."""
    good = 600 * (error_every - 1) // error_every
    ok = [
        f'http_requests_total{{job="shop",code="200"}} {i * good} {START + 60 * i}'
        for i in range(MINUTES)
    ]
    bad = [
        f'http_requests_total{{job="shop",code="500"}} {i * 600 // error_every} {START + 60 * i}'
        for i in range(MINUTES)
    ]
    path.write_text("# TYPE http_requests counter\n" + "\n".join(ok + bad) + "\n# EOF\n")
    return path


def test_ingested_samples_give_the_error_ratio_in_every_window(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/state.db"
    run = opsplane("ingest", "openmetrics", openmetrics(tmp_path / "shop.om"), "--db", db)
    assert (run.returncode, run.stdout) == (
        0,
        f"stored {2 * MINUTES} samples from {tmp_path}/shop.om\n",
    )
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9))
    at = "2026-01-01T02:00:00Z"
    run = opsplane("slo", "status", spec, "--db", db, "--at", at, "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert (doc["version"], doc["at"]) == (1, at)
    (slo,) = doc["slos"]
    assert slo["id"] == "shop-availability"
    assert list(slo["windows"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
    for window in ("5m", "1h", "2h"):
        assert math.isclose(slo["windows"][window]["error_ratio"], 0.005, rel_tol=1e-9)
        assert math.isclose(slo["windows"][window]["burn_rate"], 5.0, rel_tol=1e-9)
    assert math.isclose(slo["budget_remaining"], 1 - 5.0, rel_tol=1e-9)
    # A 5x burn is under both page factors (14.4x, 6x) and over the 3x ticket factor.
    states = {a["severity"]: a["state"] for a in slo["alerts"]}
    assert states == {"page": "inactive", "ticket": "firing", "no_data": "inactive"}


def test_a_broken_openmetrics_file_stores_nothing(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/state.db"
    bad = openmetrics(tmp_path / "bad.om")
    bad.write_text(
        bad.read_text().replace("# EOF\n", 'http_requests_total{job="x"} oops 1\n# EOF\n')
    )
    run = opsplane("ingest", "openmetrics", bad, "--db", db)
    assert run.returncode == 1
    assert_no_traceback(run)
    assert run.stderr.startswith(f"{bad}:line ")
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9))
    status = opsplane("slo", "status", spec, "--db", db, "--at", "2026-01-01T02:00:00Z", "--json")
    (slo,) = json.loads(status.stdout)["slos"]
    assert slo["windows"]["5m"]["error_ratio"] is None


def test_status_without_a_time_zone_is_a_usage_error(tmp_path: Path) -> None:
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9))
    run = opsplane(
        "slo", "status", spec, "--db", f"sqlite:///{tmp_path}/s.db", "--at", "2026-01-01T00:00:00"
    )
    assert run.returncode == 2
    assert "has no time zone" in run.stderr


def test_an_unreachable_prometheus_is_one_line_and_exit_1(tmp_path: Path) -> None:
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9))
    run = opsplane(
        "slo", "status", spec, "--prometheus", "http://127.0.0.1:9", "--at", "2026-01-01T00:00:00Z"
    )
    assert run.returncode == 1
    assert_no_traceback(run)
    assert len(run.stderr.splitlines()) == 1
    assert "127.0.0.1:9" in run.stderr


def test_the_table_names_every_slo_and_its_alerts(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/state.db"
    opsplane("ingest", "openmetrics", openmetrics(tmp_path / "shop.om", error_every=20), "--db", db)
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9))
    run = opsplane("slo", "status", spec, "--db", db, "--at", "2026-01-01T02:00:00Z")
    assert run.returncode == 0, run.stderr
    assert "shop-availability" in run.stdout
    assert "page: firing" in run.stdout
