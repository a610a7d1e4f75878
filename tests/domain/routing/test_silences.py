"""Silences mute matching alerts while active, and follow Alertmanager's validation rules."""

from __future__ import annotations

import pytest

from opsplane.domain.routing.matchers import Matcher
from opsplane.domain.routing.silences import Silence, create, expire, listing, muted_by
from opsplane.errors import ConflictError, SpecError

SHOP = Matcher("=", "service", "shop")
PAGES = Matcher("=~", "severity", "P[01]")


def silence(sid: str = "s1", start: int = 100, end: int = 200, *matchers: Matcher) -> Silence:
    return create(
        id=sid,
        matchers=matchers or (SHOP,),
        starts_at=start,
        ends_at=end,
        created_by="ana",
        comment="deploy window",
        now=0,
    )


@pytest.mark.parametrize(
    ("now", "state"),
    [(99, "pending"), (100, "active"), (199, "active"), (200, "expired")],
    ids=[
        "before the start it is pending",
        "it is active from its start",
        "it is active until just before its end",
        "it is expired from its end",
    ],
)
def test_the_state_follows_the_time_range(now: int, state: str) -> None:
    assert silence().state(now) == state


def test_an_active_silence_mutes_alerts_matching_every_matcher() -> None:
    s = silence("s1", 100, 200, SHOP, PAGES)
    assert muted_by([s], {"service": "shop", "severity": "P1"}, 150) == ["s1"]
    assert muted_by([s], {"service": "shop", "severity": "P3"}, 150) == []
    assert muted_by([s], {"service": "shop", "severity": "P1"}, 250) == []


@pytest.mark.parametrize(
    ("matchers", "start", "end", "message"),
    [
        ((), 0, 10, "silence:matchers: at least one matcher is required"),
        ((Matcher("=~", "x", ".*"),), 0, 10,
         "silence:matchers: at least one matcher must not match the empty string"),
        ((SHOP,), 10, 10, "silence:endsAt: end time must be after start time"),
    ],
    ids=["no matcher", "a silence that matches everything", "an empty time range"],
)  # fmt: skip
def test_invalid_silences_are_refused(
    matchers: tuple[Matcher, ...], start: int, end: int, message: str
) -> None:
    with pytest.raises(SpecError) as raised:
        create(
            id="s",
            matchers=matchers,
            starts_at=start,
            ends_at=end,
            created_by="ana",
            comment="c",
            now=0,
        )
    assert [str(p) for p in raised.value.problems] == [message]


def test_expiring_ends_an_active_silence_now_and_a_pending_one_before_it_starts() -> None:
    active = expire(silence(), 150)
    assert (active.ends_at, active.state(150)) == (150, "expired")
    pending = expire(silence(), 50)
    assert (pending.starts_at, pending.ends_at, pending.state(50)) == (50, 50, "expired")
    with pytest.raises(ConflictError, match="already expired"):
        expire(active, 160)


def test_listing_filters_by_state_newest_first() -> None:
    old = silence("old", 0, 50)
    new = expire(silence("new", 100, 200), 120)
    live = silence("live", 100, 300)
    assert [s.id for s in listing([old, new, live], 150)] == ["new", "live", "old"]
    assert [s.id for s in listing([old, new, live], 150, "active")] == ["live"]
