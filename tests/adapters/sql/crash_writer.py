"""Saves evaluation ticks in a loop and prints each tick once it is acknowledged.

Run by ``test_crash.py`` as ``python crash_writer.py URL FIRST_TICK``, then killed with
SIGKILL at a random moment. Tick ``n`` saves :data:`SLO_IDS` with ``at = n`` and one
transition per SLO at ``n``; "acknowledged" means :meth:`save_evaluation` returned, and the
line ``n`` is printed (and flushed) only then.
"""

from __future__ import annotations

import sys

from opsplane.adapters.sql import SqlStateStore
from opsplane.domain.evaluation import (
    AlertState,
    AlertStatus,
    AlertTransition,
    SLOStatus,
    WindowStatus,
)

SLO_IDS = ("shop-availability", "cart-latency", "search-availability")


def tick_status(slo_id: str, tick: int) -> SLOStatus:
    """The status of ``slo_id`` saved by tick ``tick``."""
    service, _, slo = slo_id.partition("-")
    state: AlertState = "firing" if tick % 2 else "pending"
    return SLOStatus(
        slo_id=slo_id,
        service=service,
        slo=slo,
        objective=99.9,
        period="30d",
        at=tick,
        period_start=tick - 1000,
        windows=(WindowStatus(300_000, tick / 1e6, tick / 1e3),),
        period_error_ratio=tick / 1e7,
        budget_remaining=1 - tick / 1e4,
        budget_consumed=tick / 1e4,
        alerts=(AlertStatus("page", "Page", "P1", state, active_at=tick),),
    )


def tick_transition(slo_id: str, tick: int) -> AlertTransition:
    """The transition of ``slo_id`` saved by tick ``tick``."""
    before: AlertState = "pending" if tick % 2 else "firing"
    after: AlertState = "firing" if tick % 2 else "pending"
    return AlertTransition(slo_id, "page", "Page", before, after, tick)


def main(url: str, first_tick: int) -> None:
    """Save ticks ``first_tick, first_tick + 1, ...`` until killed."""
    store = SqlStateStore.open(url)
    tick = first_tick
    while True:
        store.save_evaluation(
            [tick_status(slo_id, tick) for slo_id in SLO_IDS],
            [tick_transition(slo_id, tick) for slo_id in SLO_IDS],
        )
        sys.stdout.write(f"{tick}\n")
        sys.stdout.flush()
        tick += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
