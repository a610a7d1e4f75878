"""On-call actions: a rejected request changes nothing."""

from __future__ import annotations

import pytest

from opsplane.app import oncall
from opsplane.domain import incidents as inc
from opsplane.domain.duration import HOUR
from opsplane.domain.routing import Matcher
from opsplane.errors import ConflictError, NotFoundError, SpecError
from opsplane.testing import FakeClock, InMemoryIncidents, InMemorySilences

SHOP = [Matcher("=", "service", "shop")]


def test_expiring_several_silences_is_all_or_nothing() -> None:
    silences, clock = InMemorySilences(), FakeClock()
    added = oncall.add_silence(
        silences,
        clock,
        matchers=SHOP,
        starts_at=None,
        ends_at=clock.now + HOUR,
        created_by="alice",
        comment="fix",
    )
    with pytest.raises(NotFoundError):
        oncall.expire_silences(silences, clock, [added.id, "missing"])
    assert silences.silence(added.id) == added  # still active
    clock.advance(60_000)
    (expired,) = oncall.expire_silences(silences, clock, [added.id])
    assert expired.ends_at == clock.now
    assert oncall.list_silences(silences, clock, "active") == []


def test_an_invalid_silence_is_not_stored() -> None:
    silences, clock = InMemorySilences(), FakeClock()
    with pytest.raises(SpecError) as caught:
        oncall.add_silence(
            silences,
            clock,
            matchers=[],
            starts_at=None,
            ends_at=clock.now - 1,
            created_by="",
            comment="",
        )
    assert len(caught.value.problems) == 4
    assert silences.silences() == []


def test_acknowledging_a_resolved_incident_is_a_conflict_and_changes_nothing() -> None:
    incidents, clock = InMemoryIncidents(), FakeClock()
    opened, _ = inc.open_or_join([], group_key="g", alert="A", severity="P1", at=0, new_id="i")
    incidents.save_incident(opened)
    resolved = oncall.resolve_incident(incidents, clock, "i", "fixed")
    with pytest.raises(ConflictError):
        oncall.acknowledge_incident(incidents, clock, "i", "bob")
    assert incidents.incident("i") == resolved
