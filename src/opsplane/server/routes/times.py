"""Times in request bodies and queries: aware, and between 1970 and 9999 UTC."""

from __future__ import annotations

from datetime import datetime

from opsplane.errors import Problem, SpecError
from opsplane.types import LATEST_MILLIS, Millis


def request_millis(moment: datetime | None, field: str) -> Millis | None:
    """``moment`` as epoch milliseconds (``None`` stays ``None``).

    Raises:
        SpecError: it has no time zone, or is outside 1970-01-01 .. 9999-12-31T23:59:59Z.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise SpecError([Problem("request", field, "needs a time zone (add Z or +00:00)")])
    at = round(moment.timestamp() * 1000)
    if not 0 <= at <= LATEST_MILLIS:
        msg = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
        raise SpecError([Problem("request", field, msg)])
    return at
