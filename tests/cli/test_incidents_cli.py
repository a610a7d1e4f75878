"""``opsplane silence``, ``incident`` and ``deployment`` through ``main()``, on a real DB."""

from __future__ import annotations

import json
from pathlib import Path

from opsplane.adapters.sql.incidents import SqlIncidents
from opsplane.domain import incidents as inc
from tests.cli.inprocess import opsplane
from tests.cli.test_cli import assert_no_traceback

T0 = 1_767_225_600_000


def test_a_silence_is_added_listed_and_expired(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    added = opsplane(
        *("silence", "add", "ShopAvailability", 'env=~"prod|staging"'),
        *("--comment", "deploying a fix", "--author", "alice", "--duration", "2h", "--db", db),
    )
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    listed = json.loads(opsplane("silence", "query", "--json", "--db", db).stdout)
    assert [(s["id"], s["state"], s["createdBy"]) for s in listed] == [
        (silence_id, "active", "alice")
    ]
    assert listed[0]["matchers"] == ['alertname="ShopAvailability"', 'env=~"prod|staging"']
    assert opsplane("silence", "expire", silence_id, "--db", db).returncode == 0
    active = json.loads(
        opsplane("silence", "query", "--state", "active", "--json", "--db", db).stdout
    )
    assert active == []
    again = opsplane("silence", "expire", silence_id, "--db", db)
    assert again.returncode == 1
    assert "already expired" in again.stderr
    assert_no_traceback(again)


def test_a_silence_that_would_mute_everything_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    run = opsplane("silence", "add", 'team=~".*"', "-c", "x", "-a", "y", "--db", db)
    assert run.returncode == 1
    assert run.stderr.strip().endswith("at least one matcher must not match the empty string")
    assert json.loads(opsplane("silence", "query", "--json", "--db", db).stdout) == []


def test_an_incident_is_acknowledged_then_resolved_and_counts_in_mtta_and_mttr(
    tmp_path: Path,
) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    opened, _ = inc.open_or_join(
        [],
        group_key='{}:{alertname="ShopDown"}',
        alert="ShopDown",
        severity="P1",
        at=T0,
        new_id="i1",
    )
    with SqlIncidents.open(db) as incidents:
        incidents.save_incident(opened)
    assert opsplane("incident", "ack", "i1", "--by", "alice", "--db", db).returncode == 0
    twice = opsplane("incident", "ack", "i1", "--db", db)
    assert twice.returncode != 0
    assert "is acknowledged, not open" in twice.stderr
    assert_no_traceback(twice)
    assert opsplane("incident", "resolve", "i1", "--db", db).returncode == 0
    shown = json.loads(opsplane("incident", "show", "i1", "--json", "--db", db).stdout)
    assert [e["kind"] for e in shown["timeline"]] == ["fired", "acknowledged", "resolved"]
    assert shown["timeline"][1]["detail"] == "acknowledged by alice"
    summary = json.loads(opsplane("incident", "list", "--json", "--db", db).stdout)
    assert summary["mtta_ms"] is not None
    assert summary["mttr_ms"] >= summary["mtta_ms"] > 0
    missing = opsplane("incident", "ack", "nope", "--db", db)
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        "opsplane: no incident with id 'nope'",
    )


def test_deployments_are_recorded_and_listed_newest_first(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.db'}"
    for version in ("v1", "v2"):
        assert opsplane("deployment", "record", "shop", version, "--db", db).returncode == 0
    listed = json.loads(opsplane("deployment", "list", "--json", "--db", db).stdout)
    assert [d["version"] for d in listed] == ["v2", "v1"]
