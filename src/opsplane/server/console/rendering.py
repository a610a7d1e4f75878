"""Templates and static files of the console, and the headers every console response carries.

Templates are Jinja2 (autoescaped) from this package's ``templates/``. Static files (the
stylesheet, the chart script, and htmx and uPlot vendored from npm under ``static/vendor/``)
are served by Starlette's :class:`~starlette.staticfiles.StaticFiles`, which refuses paths
that leave the directory and answers ``If-None-Match`` with 304. Templates link them as
``/ui/static/NAME?v=HASH``: a request naming the current content hash may be cached for a
year (``immutable``), any other revalidates, so a new release is never served stale.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request, Response
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.staticfiles import StaticFiles

from opsplane.render.status import rfc3339
from opsplane.server.console import formatting

PACKAGE = "opsplane.server.console"
STATIC_PREFIX = "/ui/static/"
YEAR_S = 365 * 24 * 3600
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
"""Scripts, styles and requests only from the console itself: no inline script or style, so
an injected tag cannot run (Jinja autoescaping is the first line, this the second)."""
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # The login link carries the token in its query: never send the URL to another site.
    # (``no-referrer`` would also make the browser send ``Origin: null`` on the console's
    # own form posts, which the cross-site check then refuses.)
    "Referrer-Policy": "same-origin",
    # Pages show one tenant's data: no shared or back-button caches.
    "Cache-Control": "no-store",
}


@cache
def templates() -> Jinja2Templates:
    """The console's templates, with the formatting filters and ``static_url``."""
    env = Environment(
        loader=PackageLoader(PACKAGE, "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        percent=formatting.percent,
        objective=formatting.objective,
        burn=formatting.burn,
        approx=formatting.approx,
        when=formatting.when,
        rfc3339=rfc3339,
    )
    env.globals.update(
        static_url=static_url, ago=formatting.ago, known=formatting.known, clamp=formatting.clamp
    )
    return Jinja2Templates(env=env)


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A rendered template with the console's headers."""
    response = templates().TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(HEADERS)
    return response


def secure(response: Response) -> Response:
    """Add the console's headers to a response that is not a template (redirects)."""
    response.headers.update(HEADERS)
    return response


@cache
def _static_files() -> StaticFiles:
    return StaticFiles(packages=[(PACKAGE, "static")])


@cache
def asset_hash(name: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of static file ``name`` (``None``: no file)."""
    path = resources.files(PACKAGE).joinpath("static", *name.split("/"))
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def static_url(name: str) -> str:
    """The URL of static file ``name`` with its content hash (templates call this)."""
    digest = asset_hash(name)
    if digest is None:
        msg = f"no static file {name!r} in the console package"
        raise LookupError(msg)
    return f"{STATIC_PREFIX}{name}?v={digest}"


async def static_response(path: str, request: Request) -> Response:
    """A static file; 404 for anything outside ``static/`` or missing.

    The path is normalised as :class:`StaticFiles` does for its own mounts (``..`` and ``.``
    removed), and :meth:`StaticFiles.lookup_path` then refuses anything that resolves
    outside the directory.
    """
    normalised = os.path.normpath(os.path.join(*path.split("/"))) if path else ""
    response = await _static_files().get_response(normalised, request.scope)
    fresh = request.query_params.get("v")
    digest = asset_hash(normalised.replace(os.sep, "/")) if fresh else None
    if fresh and fresh == digest:
        response.headers["Cache-Control"] = f"public, max-age={YEAR_S}, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
