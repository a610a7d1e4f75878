"""What the cost ledger keeps: priced runs as recorded, and spend per service and day.

A :class:`CostRecord` is a run that was priced and acknowledged: its cost breakdown, when it
ran, and its metadata (the run as received plus its priced lines). Records are immutable and
keyed by ``(namespace, run_id)``; recording the same run twice is a no-op, so a client may
retry a batch. :class:`SpendRow` is the ledger's aggregate that budgets and forecasts read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Any, Final

from opsplane.domain.cost.model import COMPONENTS, Breakdown
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class CostRecord:
    """A priced run as stored.

    Attributes:
        namespace: The tenant that owns the run.
        run_id: Unique within the namespace.
        service: The service the run belongs to.
        at: When the run happened (its start, else when it was received), epoch ms.
        received_at: When opsplane acknowledged it, epoch ms.
        breakdown: The cost, per component, with its currency and lines.
        metadata: The run as received plus anything the recorder adds (JSON-compatible).
    """

    namespace: str
    run_id: str
    service: str
    at: Millis
    received_at: Millis
    breakdown: Breakdown
    metadata: dict[str, Any]

    @property
    def total(self) -> Decimal:
        """The run's total cost."""
        return self.breakdown.total

    @property
    def currency(self) -> str:
        """The currency of every amount in the record."""
        return self.breakdown.currency


@dataclass(frozen=True, slots=True)
class SpendRow:
    """Spend of one service on one UTC day, in one currency."""

    namespace: str
    service: str
    day: date
    currency: str
    amount: Decimal
    runs: int


DAY_MS: Final = 86_400_000
NANO_PLACES: Final = 9
_NANO = Context(prec=60, rounding=ROUND_HALF_EVEN)


def nano_of(amount: Decimal) -> int:
    """``amount`` in billionths of the unit, rounded half-even (``0.0000000015`` -> 2)."""
    return int(_NANO.to_integral_value(_NANO.scaleb(amount, NANO_PLACES)))


def from_nano(nanos: int) -> Decimal:
    """The exact amount of ``nanos`` billionths (``1500`` -> ``0.0000015``)."""
    return _NANO.scaleb(Decimal(nanos), -NANO_PLACES)


def day_of(at: Millis) -> datetime:
    """The UTC midnight of the day that contains ``at`` (epoch ms, at or after 1970)."""
    return datetime.fromtimestamp((at // DAY_MS) * DAY_MS / 1000, tz=UTC)


def first_of_each(records: Iterable[CostRecord]) -> dict[tuple[str, str], CostRecord]:
    """The first record of every ``(namespace, run_id)``, in order (a batch may repeat one)."""
    found: dict[tuple[str, str], CostRecord] = {}
    for record in records:
        found.setdefault((record.namespace, record.run_id), record)
    return found


def add_cost(
    sums: dict[tuple[str, str], tuple[Breakdown, int]], service: str, cost: Breakdown
) -> None:
    """Add one run's ``cost`` (lines dropped) to ``service``'s sum in its currency."""
    key = (service, cost.currency)
    total, runs = sums.get(key, (Breakdown(cost.currency), 0))
    amounts = [cost.component(c) for c in COMPONENTS]
    sums[key] = (total + Breakdown.of(cost.currency, amounts), runs + 1)
