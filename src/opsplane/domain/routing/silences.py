"""Silences: mute alerts that match a set of matchers for a time range.

A port of the rules in Alertmanager's ``silence/silence.go``: a silence is ``pending`` before
``starts_at``, ``active`` until ``ends_at`` and ``expired`` after; it needs at least one matcher,
and not every matcher may match the empty string (such a silence would mute everything);
expiring an active silence ends it now, expiring a pending one ends it before it starts, and an
expired silence cannot be expired again. Values are immutable; functions return new ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias

from opsplane.domain.routing.matchers import Matcher, matches_all
from opsplane.errors import ConflictError, Problem, SpecError
from opsplane.types import Labels, Millis

SilenceState: TypeAlias = Literal["pending", "active", "expired"]


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence (Alertmanager API v2 ``silence`` fields)."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: Millis
    ends_at: Millis
    created_by: str
    comment: str
    updated_at: Millis

    def state(self, now: Millis) -> SilenceState:
        """``silence.go`` ``CalcSilenceState``."""
        if now < self.starts_at:
            return "pending"
        return "active" if now < self.ends_at else "expired"

    def mutes(self, labels: Labels, now: Millis) -> bool:
        """An active silence mutes alerts that match all its matchers."""
        return self.state(now) == "active" and matches_all(self.matchers, labels)


def create(
    *,
    id: str,
    matchers: Sequence[Matcher],
    starts_at: Millis,
    ends_at: Millis,
    created_by: str,
    comment: str,
    now: Millis,
) -> Silence:
    """A validated new silence.

    Raises:
        SpecError: one problem per broken rule (``silence.go`` ``validateSilence``).
    """
    problems = [
        Problem("silence", field, msg)
        for field, msg in _problems(matchers, starts_at, ends_at, created_by, comment)
    ]
    if problems:
        raise SpecError(problems)
    return Silence(id, tuple(matchers), starts_at, ends_at, created_by, comment, now)


def _problems(
    matchers: Sequence[Matcher],
    starts_at: Millis,
    ends_at: Millis,
    created_by: str,
    comment: str,
) -> Iterable[tuple[str, str]]:
    if not matchers:
        yield "matchers", "at least one matcher is required"
    elif all(m.matches("") for m in matchers):
        yield "matchers", "at least one matcher must not match the empty string"
    if ends_at <= starts_at:
        yield "endsAt", "end time must be after start time"
    if not created_by.strip():
        yield "createdBy", "createdBy is required"
    if not comment.strip():
        yield "comment", "comment is required"


def expire(silence: Silence, now: Millis) -> Silence:
    """End a silence now (``silence.go`` ``Expire``).

    Raises:
        ConflictError: the silence has already expired.
    """
    state = silence.state(now)
    if state == "expired":
        raise ConflictError(f"silence {silence.id} already expired")
    if state == "pending":
        return replace(silence, starts_at=now, ends_at=now, updated_at=now)
    return replace(silence, ends_at=now, updated_at=now)


def muted_by(silences: Iterable[Silence], labels: Labels, now: Millis) -> list[str]:
    """Ids of the active silences muting an alert (Alertmanager's ``silencedBy``)."""
    return sorted(s.id for s in silences if s.mutes(labels, now))


def listing(
    silences: Iterable[Silence], now: Millis, state: SilenceState | None = None
) -> list[Silence]:
    """Silences, optionally of one state, newest first by update time."""
    chosen = [s for s in silences if state is None or s.state(now) == state]
    return sorted(chosen, key=lambda s: (-s.updated_at, s.id))
