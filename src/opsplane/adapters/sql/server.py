"""The server's state in the database: applied specs, API tokens and the leader lease."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update

from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository, upsert
from opsplane.adapters.sql.schema import api_token, leader_lease, service_spec
from opsplane.errors import ConflictError
from opsplane.ports import StoredSpec, StoredToken
from opsplane.types import Millis

DELETED = ""
"""The source of a deleted spec: the row stays as a tombstone that keeps the name owned."""


class SqlSpecs(SqlRepository):
    """Applied service specs (:class:`~opsplane.ports.SpecCatalog`).

    Deleting a spec keeps its row with an empty source: the service's history (alert
    transitions, deployments, incidents) is keyed by its name, so the name stays with its
    namespace and another namespace cannot take it over and read that history.
    """

    def put_spec(self, spec: StoredSpec) -> None:
        """Insert or replace; a name owned by another namespace is a conflict."""
        with write_transaction(self._engine) as connection:
            owner = connection.execute(
                select(service_spec.c.namespace).where(service_spec.c.name == spec.name)
            ).scalar_one_or_none()
            if owner is not None and owner != spec.namespace:
                raise ConflictError(
                    f"service {spec.name!r} is taken by another namespace (service names are "
                    "never handed from one namespace to another, not even after a delete)"
                )
            row = {
                "name": spec.name,
                "namespace": spec.namespace,
                "source": spec.source,
                "updated_at": spec.updated_at,
            }
            upsert(connection, service_spec, [row])

    def specs(self, namespace: str | None = None) -> list[StoredSpec]:
        """Every spec (of one namespace), by name."""
        query = (
            select(service_spec)
            .where(service_spec.c.source != DELETED)
            .order_by(service_spec.c.name)
        )
        if namespace is not None:
            query = query.where(service_spec.c.namespace == namespace)
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [StoredSpec(r["namespace"], r["name"], r["source"], r["updated_at"]) for r in rows]

    def delete_spec(self, namespace: str, name: str) -> bool:
        """Remove a namespace's spec; ``False`` when it has none by that name."""
        t = service_spec
        mine = (t.c.name == name, t.c.namespace == namespace, t.c.source != DELETED)
        with write_transaction(self._engine) as connection:
            done = connection.execute(update(t).where(*mine).values(source=DELETED))
        return done.rowcount > 0


class SqlTokens(SqlRepository):
    """API tokens, hashed (:class:`~opsplane.ports.TokenStore`)."""

    def add_token(self, token: StoredToken) -> None:
        """Store a new token."""
        row = {
            "id": token.id,
            "secret_sha256": token.secret_sha256,
            "namespace": token.namespace,
            "read_only": token.read_only,
            "created_at": token.created_at,
            "description": token.description,
        }
        with write_transaction(self._engine) as connection:
            connection.execute(insert(api_token), [row])

    def token(self, token_id: str) -> StoredToken | None:
        """One token, or ``None``."""
        with read_transaction(self._engine) as connection:
            row = (
                connection.execute(select(api_token).where(api_token.c.id == token_id))
                .mappings()
                .first()
            )
        if row is None:
            return None
        return StoredToken(
            row["id"],
            row["secret_sha256"],
            row["namespace"],
            row["read_only"],
            row["created_at"],
            row["description"],
        )


class SqlLease(SqlRepository):
    """A leader lease in the database (:class:`~opsplane.ports.Lease`).

    Acquiring is one write transaction: insert the lease if it is new, else take it over when
    it expired or renew it when we hold it. On PostgreSQL the row is locked by the update; on
    SQLite ``BEGIN IMMEDIATE`` serialises the writers. The clock is the caller's; replicas
    should keep their clocks in sync well within the lease length.
    """

    def acquire(self, name: str, holder: str, now: Millis, ttl_ms: Millis) -> bool:
        """Take or renew the lease ``name`` until ``now + ttl_ms``; whether we hold it."""
        t = leader_lease
        with write_transaction(self._engine) as connection:
            current = connection.execute(
                select(t.c.holder, t.c.expires_at).where(t.c.name == name).with_for_update()
            ).first()
            if current is None:
                connection.execute(
                    insert(t), [{"name": name, "holder": holder, "expires_at": now + ttl_ms}]
                )
                return True
            if current.holder != holder and current.expires_at > now:
                return False
            connection.execute(
                update(t).where(t.c.name == name).values(holder=holder, expires_at=now + ttl_ms)
            )
            return True

    def release(self, name: str, holder: str) -> None:
        """Give the lease up if we hold it, so another replica takes over at once."""
        t = leader_lease
        with write_transaction(self._engine) as connection:
            connection.execute(delete(t).where(t.c.name == name, t.c.holder == holder))
