"""In-memory fakes of the ports, for tests and demos (no I/O, deterministic time).

Each fake behaves like the real adapter as far as the port promises; none of them records
calls for assertions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus
from opsplane.ports import RatioRequest, Sample
from opsplane.types import Millis


@dataclass
class FakeClock:
    """A clock that only moves when told to."""

    now: Millis = 1_767_225_600_000  # 2026-01-01T00:00:00Z

    def now_ms(self) -> Millis:
        """The current fake time."""
        return self.now

    def advance(self, millis: Millis) -> None:
        """Move time forward."""
        self.now += millis


@dataclass
class ListSink:
    """A :class:`~opsplane.ports.SampleSink` that keeps samples in a list."""

    samples: list[Sample] = field(default_factory=list)

    def append(self, samples: Sequence[Sample]) -> int:
        """Keep ``samples``."""
        self.samples.extend(samples)
        return len(samples)


RatioFunction = Callable[[str, Millis, Millis], float | None]


@dataclass
class FunctionReader:
    """An :class:`~opsplane.ports.SLIReader` answering from ``ratio(slo_id, window, at)``."""

    ratio: RatioFunction

    def error_ratios(
        self, requests: Sequence[RatioRequest], at: Millis
    ) -> list[Mapping[Millis, float | None]]:
        """Ask the function for every window of every request."""
        return [{w: self.ratio(r.slo.id, w, at) for w in r.windows} for r in requests]


@dataclass
class InMemoryStateStore:
    """A :class:`~opsplane.ports.StateStore` in dictionaries."""

    statuses: dict[str, SLOStatus] = field(default_factory=dict)
    alerts: dict[tuple[str, str], AlertStatus] = field(default_factory=dict)
    transitions: list[AlertTransition] = field(default_factory=list)

    def load_alert_states(self) -> Mapping[tuple[str, str], AlertStatus]:
        """The last state of every alert."""
        return dict(self.alerts)

    def save_evaluation(
        self, statuses: Sequence[SLOStatus], transitions: Sequence[AlertTransition]
    ) -> None:
        """Keep the latest statuses and alert states; append the transitions."""
        for status in statuses:
            self.statuses[status.slo_id] = status
            for alert in status.alerts:
                self.alerts[(status.slo_id, alert.key)] = alert
        self.transitions.extend(transitions)

    def alert_history(self, slo_id: str, limit: int = 100) -> list[AlertTransition]:
        """Newest first."""
        mine = [t for t in self.transitions if t.slo_id == slo_id]
        return sorted(mine, key=lambda t: t.at, reverse=True)[:limit]
