"""Recorded deployments in the state database (:class:`~opsplane.ports.DeploymentLog`)."""

from __future__ import annotations

from sqlalchemy import insert, select

from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository
from opsplane.adapters.sql.schema import deployment as deployment_table
from opsplane.domain.remediation import Deployment
from opsplane.types import Millis


class SqlDeployments(SqlRepository):
    """Deployments in a SQL database."""

    def record_deployment(self, deployment: Deployment) -> None:
        """Store a deployment; committed on return."""
        row = {
            "service": deployment.service,
            "version": deployment.version,
            "started_at": deployment.started_at,
            "finished_at": deployment.finished_at,
            "author": deployment.author,
        }
        with write_transaction(self._engine) as connection:
            connection.execute(insert(deployment_table), [row])

    def deployments(self, since: Millis, service: str | None = None) -> list[Deployment]:
        """Deployments started at or after ``since``, newest first."""
        t = deployment_table
        query = select(t).where(t.c.started_at >= since)
        if service is not None:
            query = query.where(t.c.service == service)
        query = query.order_by(t.c.started_at.desc(), t.c.id.desc())
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [
            Deployment(r["service"], r["version"], r["started_at"], r["finished_at"], r["author"])
            for r in rows
        ]
