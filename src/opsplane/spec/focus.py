"""FOCUS 1.0 CSV: billed charges in, our per-run cost rows out.

Reading follows the FOCUS sample data (``../shared/datasets/focus/README.md``): nulls may be
empty or the literal string ``NULL``; date-times are UTC, written ``2024-09-18 22:00:00`` or
ISO 8601 with ``Z``; ``Tags`` is a JSON object; ``ListUnitPrice`` may be quoted. Columns
other than those :class:`~opsplane.domain.cost.focus.FocusCharge` holds are ignored, except
custom ``x_`` columns, which are kept. Problems are ``FILE:line N.Column: message``.

Writing puts the columns of :data:`~opsplane.domain.cost.focus.FOCUS_COLUMNS` and
:data:`~opsplane.domain.cost.focus.X_COLUMNS` in that order, nulls as empty fields.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Final

from opsplane.domain.cost.focus import FOCUS_COLUMNS, X_COLUMNS, FocusCharge, Row
from opsplane.errors import Problem, SpecError

REQUIRED: Final = (
    "BilledCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ChargeCategory",
)  # fmt: skip
NULLS: Final = frozenset({"", "NULL"})


def load_focus(path: Path) -> list[FocusCharge]:
    """Every row of a FOCUS CSV file.

    Raises:
        SpecError: unreadable file, missing columns, or malformed values (every problem).
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise SpecError([Problem(str(path), "", "no such file")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), "", f"cannot read file: {exc}")]) from exc
    return parse_focus(str(path), text)


def parse_focus(file: str, text: str) -> list[FocusCharge]:
    """The rows of FOCUS CSV ``text`` (see :func:`load_focus`)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise SpecError([Problem(file, "", f"missing FOCUS column {c}") for c in missing])
    charges: list[FocusCharge] = []
    problems: list[Problem] = []
    for record in reader:
        reader_line = reader.line_num
        row = _Row(file, reader_line, record, problems)
        charge = row.charge()
        if charge is not None:
            charges.append(charge)
    if problems:
        raise SpecError(problems)
    return charges


def render_focus_csv(rows: Sequence[Row]) -> str:
    """CSV text of FOCUS rows: a header of every column, nulls as empty fields."""
    out = io.StringIO()
    columns = list(rows[0]) if rows else [*FOCUS_COLUMNS, *X_COLUMNS]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return out.getvalue()


class _Row:
    """One CSV record being read; problems go to the shared list."""

    def __init__(
        self, file: str, line: int, record: Mapping[str, str | None], problems: list[Problem]
    ):
        self.file, self.line, self.record, self.problems = file, line, record, problems
        self.ok = True

    def charge(self) -> FocusCharge | None:
        billed = self.decimal("BilledCost", required=True)
        currency = self.text("BillingCurrency")
        start = self.timestamp("ChargePeriodStart")
        end = self.timestamp("ChargePeriodEnd")
        category = self.text("ChargeCategory")
        charge = FocusCharge(
            billed_cost=billed or Decimal(0),
            currency=currency or "",
            period_start=start or datetime.min.replace(tzinfo=UTC),
            period_end=end or datetime.min.replace(tzinfo=UTC),
            charge_category=category or "",
            service_name=self.text("ServiceName"),
            service_category=self.text("ServiceCategory"),
            provider=self.text("ProviderName"),
            resource_id=self.text("ResourceId"),
            sku_id=self.text("SkuId"),
            consumed_quantity=self.decimal("ConsumedQuantity"),
            consumed_unit=self.text("ConsumedUnit"),
            effective_cost=self.decimal("EffectiveCost"),
            list_cost=self.decimal("ListCost"),
            list_unit_price=self.decimal("ListUnitPrice"),
            sub_account=self.text("SubAccountId"),
            tags=self.tags(),
            extra={
                k: v
                for k, v in self.record.items()
                if k and k.startswith("x_") and v not in NULLS and v
            },
        )
        for name, value in (("BillingCurrency", currency), ("ChargeCategory", category)):
            if value is None:
                self.problem(name, "is required")
        return charge if self.ok else None

    def text(self, column: str) -> str | None:
        value = self.record.get(column)
        return None if value is None or value in NULLS else value

    def decimal(self, column: str, *, required: bool = False) -> Decimal | None:
        value = self.text(column)
        if value is None:
            if required:
                self.problem(column, "is required")
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.problem(column, f"is not a number: {value!r}")
            return None
        if not number.is_finite():
            self.problem(column, f"must be a finite number (got {value})")
            return None
        return number

    def timestamp(self, column: str) -> datetime | None:
        value = self.text(column)
        if value is None:
            self.problem(column, "is required")
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.problem(column, f"is not an ISO 8601 date-time: {value!r}")
            return None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

    def tags(self) -> dict[str, str]:
        value = self.text("Tags")
        if value is None:
            return {}
        try:
            data = json.loads(value)
        except json.JSONDecodeError:
            self.problem("Tags", "is not a JSON object")
            return {}
        if not isinstance(data, dict):
            self.problem("Tags", "is not a JSON object")
            return {}
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}

    def problem(self, column: str, message: str) -> None:
        self.ok = False
        self.problems.append(Problem(self.file, f"line {self.line}.{column}", message))
