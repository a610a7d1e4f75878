"""Incidents open on pages, join by group, keep a timeline and give MTTA and MTTR."""

from __future__ import annotations

import pytest

from opsplane.domain.duration import MINUTE
from opsplane.domain.incidents import (
    acknowledge,
    mtta,
    mttr,
    open_or_join,
    opens_incident,
    record,
    resolve,
)
from opsplane.errors import ConflictError


@pytest.mark.parametrize(
    ("severity", "opens"),
    [("P0", True), ("P1", True), ("P2", False), ("P3", False)],
    ids=["a P0 opens an incident", "a P1 page opens one", "a P2 does not", "a P3 ticket does not"],
)
def test_only_pages_open_incidents(severity: str, opens: bool) -> None:
    assert opens_incident(severity) is opens


def test_a_second_page_of_the_same_group_joins_the_open_incident() -> None:
    first, created = open_or_join([], group_key="g", alert="A", severity="P1", at=0, new_id="i1")
    second, created_again = open_or_join(
        [first], group_key="g", alert="B", severity="P0", at=MINUTE, new_id="i2"
    )
    assert (created, created_again) == (True, False)
    assert second.id == "i1"
    assert second.severity == "P0"  # the most urgent page wins
    assert [e.kind for e in second.timeline] == ["fired", "joined"]


def test_a_page_after_resolution_opens_a_new_incident() -> None:
    first, _ = open_or_join([], group_key="g", alert="A", severity="P1", at=0, new_id="i1")
    done = resolve(first, MINUTE, "all alerts resolved")
    again, created = open_or_join(
        [done], group_key="g", alert="A", severity="P1", at=2 * MINUTE, new_id="i2"
    )
    assert (again.id, created) == ("i2", True)


def test_the_timeline_and_mean_times_follow_the_actions() -> None:
    a, _ = open_or_join([], group_key="a", alert="A", severity="P1", at=0, new_id="a")
    a = record(a, 1_000, "notified", "webhook oncall")
    a = record(a, 2_000, "deployment_correlated", "v42 deployed 3m before")
    a = resolve(acknowledge(a, 4 * MINUTE, "ana"), 30 * MINUTE, "fixed")
    b, _ = open_or_join([], group_key="b", alert="B", severity="P1", at=0, new_id="b")
    b = acknowledge(b, 2 * MINUTE, "bo")
    assert [e.kind for e in a.timeline] == [
        "fired",
        "notified",
        "deployment_correlated",
        "acknowledged",
        "resolved",
    ]
    assert (a.state, b.state) == ("resolved", "acknowledged")
    assert mtta([a, b]) == 3 * MINUTE
    assert mttr([a, b]) == 30 * MINUTE
    assert mtta([]) is None


def test_acknowledging_twice_is_a_conflict() -> None:
    incident, _ = open_or_join([], group_key="g", alert="A", severity="P1", at=0, new_id="i")
    acked = acknowledge(incident, 1, "ana")
    with pytest.raises(ConflictError, match="is acknowledged, not open"):
        acknowledge(acked, 2, "bo")
    with pytest.raises(ConflictError, match="already resolved"):
        resolve(resolve(acked, 3, "done"), 4, "again")
