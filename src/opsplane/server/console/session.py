"""Console sign-in: an API token kept in an HttpOnly cookie.

The console uses the API's tokens (``opsplane token create --namespace NS``) rather than a
second kind of credential. ``/ui/login`` checks a token and stores it in the
``opsplane_token`` cookie: HttpOnly (page scripts cannot read it), ``SameSite=Lax`` (other
sites' forms and scripts do not send it) and ``Secure`` when the request came over HTTPS. It
lasts for the browser session. Every page re-checks the token against the database (there is
no separate console session to expire). A page shows only the token's namespace.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from opsplane.app.auth import Principal, authenticate
from opsplane.server.console.rendering import secure
from opsplane.server.security import runtime

COOKIE = "opsplane_token"
HOME = "/ui/"
LOGIN = "/ui/login"
MAX_TOKEN_CHARS = 256


def principal(request: Request) -> Principal | None:
    """Who the request's cookie signs in as (``None``: no cookie, or not a valid token)."""
    token = request.cookies.get(COOKIE, "")
    return check(request, token)


def check(request: Request, token: str) -> Principal | None:
    """The principal of a presented token, or ``None`` (blank, too long or unknown)."""
    token = token.strip()
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    found = authenticate(runtime(request).tokens, token)
    if found is not None:
        request.state.tenant = found.namespace  # the request log names the tenant
    return found


def sign_in(request: Request, token: str, target: str) -> Response:
    """Redirect to ``target`` with the session cookie set."""
    response = secure(RedirectResponse(target, status_code=303))
    response.set_cookie(
        COOKIE,
        token.strip(),
        path="/ui",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def sign_out(request: Request) -> Response:
    """Forget the cookie and go to the sign-in page."""
    response = secure(RedirectResponse(LOGIN, status_code=303))
    response.delete_cookie(
        COOKIE, path="/ui", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
    return response


def to_login(request: Request) -> Response:
    """Send a request without a valid session to the sign-in page.

    A page is redirected (303) with ``next`` set to come back to it. An htmx request (the
    services table refreshing itself) gets ``HX-Redirect``, which htmx follows with a full
    page load, instead of the sign-in page swapped into the table.
    """
    if request.headers.get("HX-Request") == "true":
        return secure(Response(status_code=204, headers={"HX-Redirect": LOGIN}))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return secure(RedirectResponse(f"{LOGIN}?next={quote(here, safe='/')}", status_code=303))


def same_site(request: Request) -> bool:
    """A form post that came from the console's own pages.

    Browsers send ``Origin`` with every POST; one naming another host is a cross-site form
    (login CSRF: signing a victim in with the attacker's token). Clients that send no
    ``Origin`` are not browsers acting for someone else and pass.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def refuse_cross_site() -> Response:
    """The answer to a form posted from another site."""
    return secure(Response("cross-site form posts are refused", status_code=403))


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path, never another site (open redirect)."""
    if not target or not target.startswith(HOME) or "//" in target or "\\" in target:
        return HOME
    return target
