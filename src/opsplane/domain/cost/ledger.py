"""What the cost ledger keeps: priced runs as recorded, and spend per service and day.

A :class:`CostRecord` is a run that was priced and acknowledged: its cost breakdown, when it
ran, and its metadata (the run as received plus its priced lines). Records are immutable and
keyed by ``(namespace, run_id)``; recording the same run twice is a no-op, so a client may
retry a batch. :class:`SpendRow` is the ledger's aggregate that budgets and forecasts read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from opsplane.domain.cost.model import Breakdown
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
