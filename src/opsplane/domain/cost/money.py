"""Exact decimal money: one arithmetic context, limits on inputs, and the text form.

Money is :class:`~decimal.Decimal` and every sum and product is exact: :data:`EXACT` traps
``Inexact``, so a result that would need rounding raises instead of drifting. The input limits
below keep every product within its 60 digits (a 10^15 count times a rate with 18 decimal places
needs 39), and keep the bulk pricer's integers small enough for int64 in ordinary batches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import (
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    Rounded,
)
from typing import Final

EXACT: Final = Context(
    prec=60, traps=[Inexact, Rounded, InvalidOperation, DivisionByZero, Overflow]
)
"""The context every money operation runs in: 60 digits, and rounding of any kind is an error."""

APPROX: Final = Context(prec=28)
"""For derived figures that are not billed amounts (means, ratios, unit prices): 28 digits."""

ZERO: Final = Decimal(0)

DEFAULT_CURRENCY: Final = "USD"
"""ISO 4217 code. The LiteLLM price map is in US dollars, so everything defaults to them."""

MAX_COUNT: Final = 10**15
"""The largest token or action count of one usage line (a quadrillion: far above any run)."""

MAX_SECONDS: Final = Decimal(10**9)
"""The largest compute duration of one line, in seconds (about 31 years)."""

MAX_SECONDS_PLACES: Final = 9
"""Seconds are read to the nanosecond at most."""

MAX_MONEY: Final = Decimal(10**9)
"""The largest rate per unit or fee amount, in currency units."""

MAX_MONEY_PLACES: Final = 18
"""Rates and fees carry at most 18 decimal places (LiteLLM's finest rate has 10)."""

_CURRENCY = re.compile(r"^[A-Z]{3}\Z")


def is_currency(code: str) -> bool:
    """Whether ``code`` has the form of an ISO 4217 alphabetic code (three capital letters)."""
    return bool(_CURRENCY.match(code))


def decimal_places(value: Decimal) -> int:
    """How many digits ``value`` has after the decimal point as written (``1.50`` has 2)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def money_sum(values: Iterable[Decimal]) -> Decimal:
    """The exact sum of ``values`` (``sum()`` would round to the thread's 28-digit context)."""
    total = ZERO
    for value in values:
        total = EXACT.add(total, value)
    return total


def money_text(value: Decimal) -> str:
    """The plain decimal text of an amount, without exponent or trailing zeros: ``0.00068``."""
    text = format(EXACT.normalize(value), "f")
    return "0" if text in {"-0", "0"} else text


def scaled_int(value: Decimal, places: int) -> int:
    """``value * 10**places`` as an int; exact because ``places >= decimal_places(value)``."""
    return int(EXACT.scaleb(value, places))


def check_count(value: int) -> str | None:
    """Why ``value`` is not a usable token or action count, or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if value < 0:
        return f"must not be negative (got {value})"
    if value > MAX_COUNT:
        return f"is too large (at most {MAX_COUNT:,})"
    return None


def check_amount(
    value: Decimal, *, limit: Decimal = MAX_MONEY, places: int = MAX_MONEY_PLACES
) -> str | None:
    """Why ``value`` is not a usable rate, fee or duration, or None."""
    if not isinstance(value, Decimal):
        return "must be a decimal number"
    if not value.is_finite():
        return f"must be a finite number (got {value})"
    if value < 0:
        return f"must not be negative (got {money_text(value)})"
    if value > limit:
        return f"is too large (at most {money_text(limit)})"
    if decimal_places(value) > places:
        return f"has more than {places} decimal places"
    return None


def check_seconds(value: Decimal) -> str | None:
    """Why ``value`` is not a usable compute duration in seconds, or None."""
    return check_amount(value, limit=MAX_SECONDS, places=MAX_SECONDS_PLACES)
