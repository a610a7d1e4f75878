"""Priced runs in the state database (:class:`~opsplane.ports.CostLedger`).

One ``cost_run`` row per ``(namespace, run_id)``. Amounts are stored as exact decimal text
(``total``, and the ``breakdown`` JSON with its priced lines), never as floats or SQL
``NUMERIC`` (SQLAlchemy converts those through float on SQLite). ``total_nano`` is the total in
billionths of the currency unit, rounded half-even, so that spend can be summed in SQL:
:meth:`SqlCostLedger.spend` sums it per service and UTC day and turns the sum back into an
exact :class:`~decimal.Decimal` of nanos. A day's spend is therefore exact to 1e-9 per run
(every shipped rate gives totals with far fewer places in practice), while a single run's
record keeps its exact amount.

Recording is ``INSERT ... ON CONFLICT DO NOTHING ... RETURNING`` in one transaction: the keys
that come back are the records that were new, so a concurrent writer of the same run is told
correctly which of the two stored it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository
from opsplane.adapters.sql.schema import cost_run as cost_table
from opsplane.domain.cost.ledger import (
    DAY_MS,
    CostRecord,
    SpendRow,
    add_cost,
    day_of,
    first_of_each,
    from_nano,
    nano_of,
)
from opsplane.domain.cost.model import COMPONENTS, Breakdown, Component, Line
from opsplane.domain.cost.money import money_text
from opsplane.errors import ConflictError
from opsplane.ports import SameRun
from opsplane.types import Millis

MAX_NANO: Final = 2**63 - 1
"""``total_nano`` is a ``BIGINT``: a run may cost at most about 9.2 billion currency units."""
_CHUNK: Final = 500
"""Run ids per ``IN (...)`` query: well under SQLite's limit of bound parameters."""


def breakdown_to_json(breakdown: Breakdown) -> dict[str, Any]:
    """The ``breakdown`` column: the four amounts and the lines, every number as text."""
    doc: dict[str, Any] = {c: money_text(breakdown.component(c)) for c in COMPONENTS}
    doc["lines"] = [
        {
            "component": line.component,
            "sku": line.sku,
            "quantity": str(line.quantity),
            "unit": line.unit,
            "unit_price": str(line.unit_price),
            "amount": str(line.amount),
        }
        for line in breakdown.lines
    ]
    return doc


def breakdown_from_json(currency: str, doc: Mapping[str, Any]) -> Breakdown:
    """The inverse of :func:`breakdown_to_json`."""
    lines = tuple(
        Line(
            component=_component(raw["component"]),
            sku=raw["sku"],
            quantity=Decimal(raw["quantity"]),
            unit=raw["unit"],
            unit_price=Decimal(raw["unit_price"]),
            amount=Decimal(raw["amount"]),
        )
        for raw in doc.get("lines", ())
    )
    actions, compute, llm, api_fees = (Decimal(doc[c]) for c in COMPONENTS)
    return Breakdown(currency, actions, compute, llm, api_fees, lines)


def _component(raw: object) -> Component:
    for name in COMPONENTS:
        if raw == name:
            return name
    raise ValueError(f"not a cost component: {raw!r}")


def record_row(record: CostRecord) -> dict[str, object]:
    """The ``cost_run`` row of ``record``."""
    total = record.total
    return {
        "namespace": record.namespace,
        "run_id": record.run_id,
        "service": record.service,
        "at": record.at,
        "received_at": record.received_at,
        "currency": record.currency,
        "total": money_text(total),
        "total_nano": nano_of(total),
        "breakdown": breakdown_to_json(record.breakdown),
        "record": record.metadata,
    }


def record_from_row(row: Mapping[Any, Any]) -> CostRecord:
    """The inverse of :func:`record_row`."""
    return CostRecord(
        namespace=row["namespace"],
        run_id=row["run_id"],
        service=row["service"],
        at=int(row["at"]),
        received_at=int(row["received_at"]),
        breakdown=breakdown_from_json(row["currency"], row["breakdown"]),
        metadata=dict(row["record"]),
    )


class SqlCostLedger(SqlRepository):
    """Priced runs in a SQL database."""

    def record_costs(
        self, records: Sequence[CostRecord], *, same: SameRun | None = None
    ) -> list[bool]:
        """Store a batch in one transaction; per record, whether it was new.

        A record whose ``(namespace, run_id)`` is stored already, or came earlier in the same
        batch, is left as it is. With ``same``, the stored runs are compared in the insert's
        transaction, so a concurrent writer cannot slip a different run in between the check
        and the insert. Committed on return.

        Raises:
            ConflictError: a stored run is not ``same`` as the record; nothing was stored.
        """
        first = first_of_each(records)
        rows = [record_row(r) for r in first.values()]
        with write_transaction(self._engine) as connection:
            inserted = _insert_new(connection, cost_table, rows)
            if same is not None:
                existing = [r for key, r in first.items() if key not in inserted]
                _check_same(connection, existing, same)  # raising rolls the batch back
        return [
            first[(r.namespace, r.run_id)] is r and (r.namespace, r.run_id) in inserted
            for r in records
        ]

    def cost_record(self, namespace: str, run_id: str) -> CostRecord | None:
        """One run's record, or ``None``."""
        t = cost_table
        query = select(t).where(t.c.namespace == namespace, t.c.run_id == run_id)
        with read_transaction(self._engine) as connection:
            row = connection.execute(query).mappings().one_or_none()
        return None if row is None else record_from_row(row)

    def cost_records(
        self,
        namespace: str,
        *,
        service: str | None = None,
        since: Millis | None = None,
        until: Millis | None = None,
        limit: int = 100,
    ) -> list[CostRecord]:
        """Records of a namespace (of one service), ``since <= at < until``, newest first."""
        t = cost_table
        query = select(t).where(t.c.namespace == namespace)
        if service is not None:
            query = query.where(t.c.service == service)
        if since is not None:
            query = query.where(t.c.at >= since)
        if until is not None:
            query = query.where(t.c.at < until)
        query = query.order_by(t.c.at.desc(), t.c.run_id.desc()).limit(max(limit, 0))
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [record_from_row(row) for row in rows]

    def records_by_id(self, namespace: str, run_ids: Collection[str]) -> dict[str, CostRecord]:
        """The stored records of ``run_ids`` in ``namespace`` (absent ones are left out)."""
        with read_transaction(self._engine) as connection:
            return _records_by_id(connection, namespace, run_ids)

    def service_costs(
        self, namespace: str, since: Millis, until: Millis
    ) -> list[tuple[str, Breakdown, int]]:
        """Per service and currency, ``since <= at < until``: the exact sum of the runs'
        breakdowns (without lines) and how many runs; by service, then currency."""
        t = cost_table
        query = select(t.c.service, t.c.currency, t.c.breakdown).where(
            t.c.namespace == namespace, t.c.at >= since, t.c.at < until
        )
        sums: dict[tuple[str, str], tuple[Breakdown, int]] = {}
        with read_transaction(self._engine) as connection:
            for service, currency, doc in connection.execute(query):
                add_cost(sums, service, breakdown_from_json(currency, {**doc, "lines": ()}))
        return [(service, total, runs) for (service, _), (total, runs) in sorted(sums.items())]

    def spend(self, namespace: str | None, since: Millis, until: Millis) -> list[SpendRow]:
        """Spend per service and UTC day, ``since <= at < until`` (every namespace: ``None``).

        The sum of ``total_nano`` (each run's total rounded half-even to 1e-9), as an exact
        Decimal; ordered by namespace, service, day and currency.
        """
        t = cost_table
        # ``//`` on integers is SQL integer division, which floors non-negative epoch ms.
        day = (t.c.at // DAY_MS).label("day")
        query = select(
            t.c.namespace,
            t.c.service,
            day,
            t.c.currency,
            func.sum(t.c.total_nano).label("nanos"),
            func.count().label("runs"),
        ).where(t.c.at >= since, t.c.at < until)
        if namespace is not None:
            query = query.where(t.c.namespace == namespace)
        query = query.group_by(t.c.namespace, t.c.service, day, t.c.currency).order_by(
            t.c.namespace, t.c.service, day, t.c.currency
        )
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [
            SpendRow(
                namespace=row["namespace"],
                service=row["service"],
                day=day_of(int(row["day"]) * DAY_MS).date(),
                currency=row["currency"],
                amount=from_nano(int(row["nanos"])),
                runs=int(row["runs"]),
            )
            for row in rows
        ]


def _records_by_id(
    connection: Connection, namespace: str, run_ids: Collection[str]
) -> dict[str, CostRecord]:
    t = cost_table
    wanted = sorted(set(run_ids))
    found: dict[str, CostRecord] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(t).where(t.c.namespace == namespace, t.c.run_id.in_(chunk))
        for row in connection.execute(query).mappings():
            found[row["run_id"]] = record_from_row(row)
    return found


def _check_same(connection: Connection, records: Sequence[CostRecord], same: SameRun) -> None:
    """Raise :class:`ConflictError` naming the runs stored with other content."""
    by_namespace: dict[str, list[CostRecord]] = {}
    for record in records:
        by_namespace.setdefault(record.namespace, []).append(record)
    clashes = [
        record.run_id
        for namespace, group in by_namespace.items()
        for stored in [_records_by_id(connection, namespace, [r.run_id for r in group])]
        for record in group
        if record.run_id in stored and not same(stored[record.run_id], record)
    ]
    if clashes:
        raise ConflictError(f"runs recorded already with other usage: {', '.join(clashes)}")


def _insert_new(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]
) -> set[tuple[str, str]]:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING`` the keys of the rows that were new."""
    if not rows:
        return set()
    dialect = connection.dialect.name
    keys = (table.c.namespace, table.c.run_id)
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(table).on_conflict_do_nothing().returning(*keys)
        result = connection.execute(pg_stmt, rows)
    elif dialect == "sqlite":
        lite_stmt = sqlite.insert(table).on_conflict_do_nothing().returning(*keys)
        result = connection.execute(lite_stmt, rows)
    else:  # parse_url admits only the two dialects above
        raise AssertionError(f"no insert for dialect {dialect}")
    return {(row[0], row[1]) for row in result.all()}
