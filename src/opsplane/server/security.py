"""Bearer-token authentication and namespace authorisation for API routes.

Every ``/api/v1/namespaces/{namespace}/...`` route depends on :func:`reader` or
:func:`writer`: the token must be valid (else 401) and scoped to that namespace. A token of
another namespace gets 404, the same answer as a namespace that does not exist, so a tenant
cannot even learn which namespaces exist; a read-only token that tries to write gets 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from opsplane.app.auth import Principal, authenticate
from opsplane.errors import NotFoundError
from opsplane.server.problems import ForbiddenError, UnauthorizedError
from opsplane.server.runtime import Runtime

NamespacePath = Annotated[
    str, Path(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", description="A DNS label.")
]


def runtime(request: Request) -> Runtime:
    """The runtime the app was created with."""
    found: Runtime = request.app.state.runtime
    return found


def principal(request: Request) -> Principal:
    """The principal of the request's bearer token (401 without a valid one)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("an Authorization: Bearer token is required")
    found = authenticate(runtime(request).tokens, token.strip())
    if found is None:
        raise UnauthorizedError("the bearer token is not valid")
    request.state.tenant = found.namespace
    return found


def reader(namespace: NamespacePath, who: Annotated[Principal, Depends(principal)]) -> Principal:
    """A principal that may read ``namespace``."""
    if who.namespace != namespace:
        raise NotFoundError(f"no namespace {namespace!r}")
    return who


def writer(who: Annotated[Principal, Depends(reader)]) -> Principal:
    """A principal that may change ``namespace``."""
    if who.read_only:
        raise ForbiddenError("this token is read-only")
    return who


Reader = Annotated[Principal, Depends(reader)]
Writer = Annotated[Principal, Depends(writer)]
RuntimeDep = Annotated[Runtime, Depends(runtime)]
