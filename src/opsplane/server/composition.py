"""Wiring shared by the composition roots: ``opsplane serve``, ``slo run`` and the benches.

The alerting pipeline keeps what it must not lose in five SQL repositories on one engine;
:func:`alerting_stores` builds them, so every root gets the same set.
"""

from __future__ import annotations

from collections.abc import Iterable

from opsplane.adapters.sql.deployments import SqlDeployments
from opsplane.adapters.sql.incidents import SqlIncidents
from opsplane.adapters.sql.nflog import SqlNotificationLog
from opsplane.adapters.sql.outbox import SqlOutbox
from opsplane.adapters.sql.silences import SqlSilences
from opsplane.app.alerting import AlertingStores
from opsplane.ports import Receiver


def alerting_stores(outbox: SqlOutbox) -> AlertingStores:
    """The outbox and, on its database, incidents, silences, deployments and the nflog."""
    engine = outbox.engine
    return AlertingStores(
        outbox,
        SqlIncidents(engine),
        SqlSilences(engine),
        SqlDeployments(engine),
        SqlNotificationLog(engine),
    )


def close_receivers(receivers: Iterable[Receiver]) -> None:
    """Close the receivers that hold connections (the others have no ``close``)."""
    for receiver in receivers:
        close = getattr(receiver, "close", None)
        if close is not None:
            close()
