"""A traffic split (percent per backend) and the smooth weighted round-robin that serves one.

Every router checks a split with :func:`check_split` before applying it, so all of them (and
the in-memory fake) refuse the same splits with the same message.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from opsplane.errors import UsageError

SERVICE_NAME = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
"""A service's ``metadata.name`` (``[a-z0-9-]``, docs/spec.md); also safe as a file name."""
TOTAL = 100
"""A split is in percent."""


def check_service(service: str) -> str:
    """``service`` if it is a valid service name.

    Raises:
        UsageError: it is not (a router may use it as a file or upstream name).
    """
    if not SERVICE_NAME.fullmatch(service):
        raise UsageError(f"traffic split: {service!r} is not a service name ([a-z0-9-])")
    return service


def check_split(
    service: str, weights: Mapping[str, int], backends: Collection[str] | None = None
) -> dict[str, int]:
    """A copy of ``weights`` once it is a split the ``TrafficRouter`` port accepts.

    A split gives whole percents (0 to 100) per backend name and adds up to 100; a backend it
    does not name gets none of the traffic.

    Args:
        service: The service the split is for (for messages).
        weights: Percent per backend name.
        backends: The names the router can route to (``None``: any name).

    Raises:
        UsageError: a weight is not a whole number in 0..100, the weights do not add up to
            100, or a name is not among ``backends``.
    """
    where = f"traffic split of {service!r}"
    for name, weight in weights.items():
        # bool is an int subclass; True is not a percent.
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 <= weight <= TOTAL:
            raise UsageError(f"{where}: {name!r} has weight {weight!r}, not a percent 0..100")
        if backends is not None and name not in backends:
            known = ", ".join(sorted(backends))
            raise UsageError(f"{where}: no backend named {name!r} (known: {known})")
    total = sum(weights.values())
    if total != TOTAL:
        raise UsageError(f"{where}: the weights add up to {total}, not {TOTAL}")
    return dict(weights)


class SmoothWeightedRoundRobin:
    """nginx's smooth weighted round-robin over a split (not thread-safe: callers lock).

    Each pick adds every backend's weight to its current weight, chooses the largest (the
    first on a tie) and subtracts the total from the chosen one
    (``ngx_http_upstream_get_peer`` in nginx's ``ngx_http_upstream_round_robin.c``). The
    current weights come back to zero after every ``total`` picks, so each run of 100 picks
    holds exactly each backend's percent, spread evenly: at 5/95 the canary is every 20th
    request, never a burst of five. Backends with weight 0 are never chosen.
    """

    def __init__(self, weights: Mapping[str, int]) -> None:
        self._weights = {name: weight for name, weight in weights.items() if weight > 0}
        if not self._weights:
            raise ValueError("a round-robin needs at least one backend with a positive weight")
        self._total = sum(self._weights.values())
        self._current = dict.fromkeys(self._weights, 0)

    def pick(self) -> str:
        """The backend of the next request."""
        chosen = ""
        best = 0
        for name, weight in self._weights.items():
            current = self._current[name] + weight
            self._current[name] = current
            if not chosen or current > best:
                chosen, best = name, current
        self._current[chosen] -= self._total
        return chosen
