"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns is a problem object: ``type``, ``title``, ``status``, ``detail``
and, for invalid input, ``errors`` (one entry per problem, with where it is). Unexpected
exceptions become a 500 problem without internals; request validation errors become 422.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from opsplane.errors import (
    ConflictError,
    DatasourceError,
    NotFoundError,
    OpsplaneError,
    SpecError,
    UsageError,
)

MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger(__name__)
_STATUS: tuple[tuple[type[OpsplaneError], int, str], ...] = (
    (SpecError, 422, "invalid-input"),
    (UsageError, 400, "bad-request"),
    (NotFoundError, 404, "not-found"),
    (ConflictError, 409, "conflict"),
    (DatasourceError, 502, "datasource-error"),
)


class ForbiddenError(OpsplaneError):
    """The token may not do this (read-only, or another namespace's write)."""


class UnauthorizedError(OpsplaneError):
    """No valid bearer token."""


def problem(
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem-details response (with ``headers``, such as a 405's ``Allow``)."""
    body: dict[str, Any] = {"type": f"https://opsplane.dev/problems/{_slug(title)}"}
    body |= {"title": title, "status": status, "detail": detail, **extra}
    found = dict(headers or {})
    if status == 401:  # RFC 9110 section 15.5.2: a 401 names its scheme
        found["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=found or None)


def _slug(title: str) -> str:
    return title.lower().replace(" ", "-")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem."""
    app.add_exception_handler(OpsplaneError, _opsplane_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _opsplane_error(_request: Request, exc: OpsplaneError) -> JSONResponse:
    if isinstance(exc, UnauthorizedError):
        return problem(401, "Unauthorized", str(exc))
    if isinstance(exc, ForbiddenError):
        return problem(403, "Forbidden", str(exc))
    for kind, status, title in _STATUS:
        if isinstance(exc, kind):
            if isinstance(exc, SpecError):
                errors = [
                    {"where": f"{p.file}:{p.path}", "detail": p.message} for p in exc.problems
                ]
                return problem(status, "Invalid input", str(exc), errors=errors)
            return problem(status, title.replace("-", " ").capitalize(), str(exc))
    return problem(500, "Internal error", "the request failed")


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"where": ".".join(str(part) for part in e.get("loc", ())), "detail": e.get("msg", "")}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['where']}: {e['detail']}" for e in errors) or "invalid request"
    return problem(422, "Invalid input", detail, errors=errors)


async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not found", 405: "Method not allowed", 401: "Unauthorized"}
    title = titles.get(exc.status_code, "Bad request" if exc.status_code < 500 else "Error")
    # Keep the exception's headers: RFC 9110 section 15.5.6 requires a 405 to list ``Allow``.
    return problem(exc.status_code, title, str(exc.detail), headers=exc.headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "the request failed; the server log has details")


def limit_body_size(app: FastAPI, limit: int) -> None:
    """Answer 413 (as a problem) to a request whose declared body exceeds ``limit`` bytes.

    The check reads ``Content-Length``, so nothing of such a body is read or parsed. A chunked
    body (no ``Content-Length``) is not limited here; put a proxy limit in front for those.
    """

    @app.middleware("http")
    async def check_size(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return problem(413, "Content too large", f"the body may be at most {limit} bytes")
        return await call_next(request)
