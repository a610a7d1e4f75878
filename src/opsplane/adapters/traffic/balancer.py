"""The proxy's shared state: the split in effect, the round-robin over it, per-backend counts.

The control side (``set_weights``, ``stats``) runs on the caller's thread and the proxy's
requests on its event-loop thread; one lock serialises them, so a new split applies from the
very next pick and every pick is counted exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from opsplane.adapters.traffic.split import SmoothWeightedRoundRobin

SERVER_ERROR = 500


@dataclass(frozen=True, slots=True)
class BackendStats:
    """What the proxy has sent one backend since it started.

    Attributes:
        requests: Requests forwarded to it (whatever came of them).
        server_errors: Answers with a 5xx status: its own, and the proxy's 502/504 when it
            could not be reached or did not answer in time.
        failures: Requests it did not answer (refused, reset, timed out); also in
            ``server_errors``.
    """

    requests: int = 0
    server_errors: int = 0
    failures: int = 0

    @property
    def error_ratio(self) -> float | None:
        """``server_errors / requests``, or ``None`` before the first request."""
        return self.server_errors / self.requests if self.requests else None


class Balancer:
    """The split, its round-robin and the counts, behind one lock."""

    def __init__(self, backends: Collection[str]) -> None:
        self._lock = threading.Lock()
        self._split: dict[str, int] = {}
        self._round_robin: SmoothWeightedRoundRobin | None = None
        self._stats = {name: BackendStats() for name in backends}

    def set_split(self, weights: Mapping[str, int]) -> None:
        """Route by ``weights`` (already checked) from the next pick on.

        Re-applying the split in effect keeps the round-robin's phase, so a caller that
        re-asserts its split every interval does not skew it.
        """
        split = dict(weights)
        with self._lock:
            if split != self._split:
                self._split = split
                self._round_robin = SmoothWeightedRoundRobin(split)

    def split(self) -> dict[str, int]:
        """The split in effect, as it was set; empty before the first."""
        with self._lock:
            return dict(self._split)

    def pick(self) -> str | None:
        """The backend of the next request, counted; ``None`` while there is no split."""
        with self._lock:
            if self._round_robin is None:
                return None
            name = self._round_robin.pick()
            seen = self._stats[name]
            self._stats[name] = BackendStats(seen.requests + 1, seen.server_errors, seen.failures)
            return name

    def record(self, name: str, status: int, *, failed: bool = False) -> None:
        """Count the answer ``status`` the client got for a request sent to ``name``."""
        if status < SERVER_ERROR:
            return
        with self._lock:
            seen = self._stats[name]
            failures = seen.failures + 1 if failed else seen.failures
            self._stats[name] = BackendStats(seen.requests, seen.server_errors + 1, failures)

    def stats(self) -> dict[str, BackendStats]:
        """The counts per backend."""
        with self._lock:
            return dict(self._stats)
