"""The state database: SLO statuses, alert states and history on SQLite or PostgreSQL.

:class:`SqlStateStore` answers :class:`opsplane.ports.StateStore`. Open it with a URL
(``sqlite:///./opsplane.db`` by default, ``postgresql+psycopg://...`` at scale); opening
applies the packaged Alembic migrations. Module map:

- :mod:`.schema`: the tables (SQLAlchemy Core) and their conventions for NaN and time.
- :mod:`.codec`: rows to domain objects and back.
- :mod:`.engine`: engines with the durability settings, and transactions.
- :mod:`.migrate`: the programmatic, lock-protected Alembic upgrade.
- :mod:`.store`: the store itself.
"""

from __future__ import annotations

from opsplane.adapters.sql.store import EvaluationTick, SqlStateStore

__all__ = ["EvaluationTick", "SqlStateStore"]
