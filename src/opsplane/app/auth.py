"""API tokens: created with ``opsplane token create``, presented as ``Authorization: Bearer``.

A token reads ``ops_<id>_<secret>``. Only the SHA-256 of the secret is stored, so a leaked
database does not leak usable tokens; the secret is compared in constant time. A token is
scoped to one namespace, read-write or read-only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from opsplane.app.catalog import check_namespace
from opsplane.ports import Clock, StoredToken, TokenStore

PREFIX = "ops"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as: a namespace, and whether it may change anything."""

    namespace: str
    read_only: bool
    token_id: str


def create_token(
    tokens: TokenStore, clock: Clock, namespace: str, *, read_only: bool, description: str = ""
) -> str:
    """Store a new token for ``namespace`` and return it (the only time it is shown)."""
    check_namespace(namespace)
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(24)
    stored = StoredToken(
        token_id, _digest(secret), namespace, read_only, clock.now_ms(), description
    )
    tokens.add_token(stored)
    return f"{PREFIX}_{token_id}_{secret}"


def authenticate(tokens: TokenStore, presented: str) -> Principal | None:
    """The principal a presented token stands for, or ``None`` when it is not valid."""
    prefix, _, rest = presented.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not token_id or not secret:
        return None
    stored = tokens.token(token_id)
    if stored is None or not hmac.compare_digest(stored.secret_sha256, _digest(secret)):
        return None
    return Principal(stored.namespace, stored.read_only, stored.id)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
