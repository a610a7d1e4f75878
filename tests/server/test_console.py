"""The web console through FastAPI's TestClient: sign-in, pages, tenancy and static files.

Pages that need evaluated SLOs use the ``server`` fixture (its evaluator ticking); the rest use
``idle``, the same two namespaces on a runtime whose loops never start, shared by the module
so that each test does not wait for an evaluator to stop. The browser-level checks (scripts
run, the chart draws, no console errors) are in ``test_console_browser.py``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.domain.incidents import Incident, TimelineEvent
from opsplane.ports import StoredSpec
from opsplane.server.app import create_app
from opsplane.server.console import formatting, rendering
from opsplane.server.console.session import COOKIE
from opsplane.server.runtime import Runtime
from tests.server.conftest import Server, open_runtime, spec

SLO = "checkout-availability"
MINUTE_MS = 60_000


@pytest.fixture(scope="module")
def idle_runtime(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Runtime, dict[str, str]]]:
    runtime = open_runtime(tmp_path_factory.mktemp("console"))
    tokens = {
        f"{ns}{suffix}": create_token(runtime.tokens, runtime.clock, ns, read_only=ro)
        for ns in ("payments", "search")
        for suffix, ro in (("", False), ("-ro", True))
    }
    for namespace, name in (("payments", "checkout"), ("search", "query")):
        runtime.specs.put_spec(StoredSpec(namespace, name, spec(name, namespace), 0))
    runtime.catalog_changed()
    yield runtime, tokens
    runtime.stop()


@pytest.fixture
def idle(idle_runtime: tuple[Runtime, dict[str, str]]) -> Iterator[Server]:
    """``payments`` and ``search`` as in ``server``, never evaluated; a fresh client."""
    runtime, tokens = idle_runtime
    with TestClient(create_app(runtime, start=False)) as client:
        yield Server(client, runtime, tokens)


def sign_in(server: Server, who: str = "payments") -> None:
    """Sign the test client in with ``who``'s token, as the link the CLI prints does."""
    response = server.client.get(
        "/ui/login", params={"token": server.tokens[who]}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def iso(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).isoformat()


def burn(server: Server) -> dict[str, Any]:
    """10 % errors for the last two minutes on a 99.9 % SLO: the page fires. The SLO's JSON."""
    now = int(time.time() * 1000)
    events = [
        {"service": "checkout", "slo": "availability", "good": 900, "total": 1000, "timestamp": t}
        for t in (iso(now - 2 * MINUTE_MS), iso(now - MINUTE_MS), iso(now))
    ]
    pushed = server.client.post(
        "/api/v1/namespaces/payments/events",
        json={"events": events},
        headers=server.auth("payments"),
    )
    assert pushed.status_code == 202, pushed.text
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = server.client.get(
            f"/api/v1/namespaces/payments/slos/{SLO}", headers=server.auth("payments")
        )
        if found.status_code == 200:
            body: dict[str, Any] = found.json()
            if any(a["state"] == "firing" and a["severity"] == "page" for a in body["alerts"]):
                return body
        time.sleep(0.2)
    pytest.fail("the page alert did not fire within 15 s")


def deploy(server: Server, namespace: str, service: str, version: str, **extra: str) -> None:
    response = server.client.post(
        f"/api/v1/namespaces/{namespace}/deployments",
        json={"service": service, "version": version, **extra},
        headers=server.auth(namespace),
    )
    assert response.status_code == 201, response.text


# --- sign-in ------------------------------------------------------------------------------


def test_a_login_link_sets_an_httponly_samesite_cookie_and_goes_to_the_services(
    idle: Server,
) -> None:
    response = idle.client.get(
        "/ui/login", params={"token": idle.tokens["payments"]}, follow_redirects=False
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}={idle.tokens['payments']};")
    assert "HttpOnly" in cookie
    assert re.search(r"SameSite=lax", cookie, re.IGNORECASE)
    assert "Path=/ui" in cookie
    assert response.headers["referrer-policy"] == "same-origin"


def test_the_sign_in_form_posts_the_token_and_returns_to_the_page_asked_for(
    idle: Server,
) -> None:
    response = idle.client.post(
        "/ui/login",
        data={"token": idle.tokens["payments-ro"], "next": "/ui/incidents"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/incidents"
    assert idle.client.get("/ui/incidents").status_code == 200


@pytest.mark.parametrize(
    "token",
    ["ops_nothere_secret", "not-a-token", "", "x" * 5000],
    ids=["an unknown token", "garbage", "a blank token", "a 5000-character token"],
)
def test_an_invalid_token_shows_the_form_again_with_401_and_no_cookie(
    idle: Server, token: str
) -> None:
    response = idle.client.post("/ui/login", data={"token": token}, follow_redirects=False)
    assert response.status_code == 401
    assert "not valid" in response.text
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/ui/", "/api/v1/namespaces/payments/services"],
    ids=["another site", "a protocol-relative URL", "a path outside the console"],
)
def test_after_sign_in_the_console_never_redirects_away_from_itself(
    idle: Server, target: str
) -> None:
    response = idle.client.get(
        "/ui/login",
        params={"token": idle.tokens["payments"], "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/ui/"


@pytest.mark.parametrize(
    "path", ["/ui/", "/ui/slos/checkout-availability", "/ui/incidents", "/ui/deployments"]
)
def test_a_page_without_a_session_redirects_to_the_sign_in_page(idle: Server, path: str) -> None:
    response = idle.client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/login?next=")
    assert response.headers["location"].removeprefix("/ui/login?next=") == path


def test_the_table_refresh_without_a_session_tells_htmx_to_load_the_sign_in_page(
    idle: Server,
) -> None:
    response = idle.client.get(
        "/ui/services/table", headers={"HX-Request": "true"}, follow_redirects=False
    )
    assert response.status_code == 204
    assert response.headers["hx-redirect"] == "/ui/login"


def test_a_cookie_with_a_token_that_is_not_valid_is_no_session(idle: Server) -> None:
    idle.client.cookies.set(COOKIE, "ops_abc_forged", path="/ui")
    response = idle.client.get("/ui/", follow_redirects=False)
    assert response.status_code == 303


@pytest.mark.parametrize("path", ["/ui/login", "/ui/logout"])
def test_a_form_posted_from_another_site_is_refused(idle: Server, path: str) -> None:
    response = idle.client.post(
        path,
        data={"token": idle.tokens["payments"]},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "set-cookie" not in response.headers


def test_signing_out_forgets_the_cookie(idle: Server) -> None:
    sign_in(idle)
    response = idle.client.post("/ui/logout", follow_redirects=False)
    assert response.headers["location"] == "/ui/login"
    assert f'{COOKIE}=""' in response.headers["set-cookie"]
    assert idle.client.get("/ui/", follow_redirects=False).status_code == 303


# --- pages --------------------------------------------------------------------------------


def test_the_services_page_shows_compliance_budget_firing_alerts_and_the_last_deployment(
    server: Server,
) -> None:
    deploy(server, "payments", "checkout", "v2", author="ci-bot")
    status = burn(server)
    sign_in(server)
    page = server.client.get("/ui/")
    assert page.status_code == 200
    html = page.text
    assert "checkout" in html
    assert f'href="/ui/slos/{SLO}"' in html
    assert "99.9%" in html
    assert formatting.percent(status["budget_remaining"], 1) in html
    assert formatting.percent(status["period_error_ratio"], 3) in html
    assert "CheckoutAvailability · page · P1" in html
    assert "state-firing" in html
    assert "<strong>v2</strong>" in html
    assert "by ci-bot" in html
    assert "query" not in html  # the search namespace's service


def test_the_services_table_refreshes_itself_every_5_seconds_through_htmx(idle: Server) -> None:
    sign_in(idle)
    page = idle.client.get("/ui/").text
    assert 'hx-get="/ui/services/table"' in page
    assert 'hx-trigger="every 5s"' in page
    assert 'hx-swap="outerHTML"' in page
    partial = idle.client.get("/ui/services/table", headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<section id="services"')
    assert "<html" not in partial.text


def test_an_slo_page_has_the_burn_down_with_deployments_burn_rates_history_and_runbook(
    server: Server,
) -> None:
    deploy(server, "payments", "checkout", "v2")
    status = burn(server)
    sign_in(server)
    page = server.client.get(f"/ui/slos/{SLO}")
    assert page.status_code == 200
    html = page.text
    chart = re.search(r'<script type="application/json" id="burn-down-data">(.*?)</script>', html)
    assert chart is not None
    data = json.loads(chart.group(1))
    assert len(data["x"]) == len(data["budget"]) == len(data["ideal"]) >= 2
    assert data["ideal"][0] > data["ideal"][-1]
    assert [d["label"] for d in data["deployments"]] == ["v2"]
    assert any(b is not None for b in data["budget"])
    assert 'data-chart="burn-down"' in html
    assert "vendor/uplot/uPlot.iife.min.js?v=" in html
    assert formatting.percent(status["budget_remaining"], 1) in html
    for window in ("5m", "1h", "6h", "3d"):
        assert f'<th scope="row">{window}</th>' in html
    assert formatting.burn(status["windows"]["5m"]["burn_rate"]) in html
    assert 'href="https://runbooks.example/checkout"' in html
    assert "Alert history" in html
    assert '<span class="badge state-firing">firing</span>' in html


def test_another_namespaces_slo_and_an_unknown_slo_are_404(idle: Server) -> None:
    sign_in(idle, "search")
    assert idle.client.get(f"/ui/slos/{SLO}").status_code == 404
    assert idle.client.get("/ui/slos/nothing-here").status_code == 404
    unknown = idle.client.get("/ui/no/such/page")
    assert unknown.status_code == 404
    assert "Not found" in unknown.text


def test_an_slo_not_evaluated_yet_says_so(idle: Server) -> None:
    sign_in(idle)
    page = idle.client.get(f"/ui/slos/{SLO}")
    assert page.status_code == 200
    assert "not been evaluated yet" in page.text
    assert "Waiting for the first evaluation" in idle.client.get("/ui/").text


def test_the_incidents_page_shows_timelines_mtta_and_mttr(idle: Server) -> None:
    opened = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    timeline = (
        TimelineEvent(opened, "fired", "CheckoutAvailability fired"),
        TimelineEvent(opened + 4 * MINUTE_MS, "acknowledged", "acknowledged by alice"),
        TimelineEvent(opened + 40 * MINUTE_MS, "resolved", "all alerts of the group resolved"),
    )
    for incident in (
        Incident(
            "inc-1",
            "g1",
            "CheckoutAvailability",
            "P1",
            opened,
            timeline,
            acknowledged_at=opened + 4 * MINUTE_MS,
            resolved_at=opened + 40 * MINUTE_MS,
            namespace="payments",
        ),
        Incident("inc-2", "g2", "QueryLatency", "P1", opened, timeline[:1], namespace="search"),
    ):
        idle.runtime.incidents.save_incident(incident)
    sign_in(idle)
    html = idle.client.get("/ui/incidents").text
    assert "CheckoutAvailability" in html
    assert "acknowledged by alice" in html
    assert "2026-01-01 00:04:00 UTC" in html
    assert re.search(r'data-testid="mtta">4m</span>', html)
    assert re.search(r'data-testid="mttr">40m</span>', html)
    assert "QueryLatency" not in html


def test_the_deployments_page_lists_only_the_namespaces_services_newest_first(
    idle: Server,
) -> None:
    deploy(idle, "payments", "checkout", "v1", startedAt=iso(int(time.time() * 1000) - 3_600_000))
    deploy(idle, "payments", "checkout", "v2", author="bob")
    deploy(idle, "search", "query", "q9")
    sign_in(idle)
    html = idle.client.get("/ui/deployments").text
    assert html.index("<strong>v2</strong>") < html.index("<strong>v1</strong>")
    assert "bob" in html
    assert "q9" not in html
    assert idle.client.get("/ui/deployments", params={"days": 1}).status_code == 200


def test_pages_forbid_inline_scripts_and_are_not_cached(idle: Server) -> None:
    sign_in(idle)
    response = idle.client.get("/ui/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["cache-control"] == "no-store"
    assert "<script>" not in response.text  # only external scripts and JSON data blocks


def test_recorded_text_is_escaped_in_pages(idle: Server) -> None:
    sign_in(idle)
    deploy(idle, "payments", "checkout", "<script>alert(1)</script>")
    html = idle.client.get("/ui/deployments").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- static files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("console.css", "text/css"),
        ("console.js", "javascript"),
        ("vendor/htmx.org/htmx.min.js", "javascript"),
        ("vendor/uplot/uPlot.iife.min.js", "javascript"),
        ("vendor/uplot/uPlot.min.css", "text/css"),
        ("vendor/htmx.org/LICENSE", ""),
        ("vendor/uplot/LICENSE", ""),
    ],
)
def test_static_files_are_served_without_a_session(
    idle: Server, name: str, media_type: str
) -> None:
    response = idle.client.get(f"/ui/static/{name}")
    assert response.status_code == 200
    assert media_type in response.headers["content-type"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"


def test_a_static_url_with_the_content_hash_is_cached_for_a_year_and_revalidates(
    idle: Server,
) -> None:
    url = rendering.static_url("console.css")
    first = idle.client.get(url)
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = idle.client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    stale = idle.client.get("/ui/static/console.css?v=000000000000")
    assert stale.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        "/ui/static/%2e%2e/routes.py",
        "/ui/static/..%2Froutes.py",
        "/ui/static/vendor/%2e%2e/%2e%2e/session.py",
        "/ui/static//etc/passwd",
        "/ui/static/",
        "/ui/static/vendor",
        "/ui/static/nothing.js",
    ],
)
def test_static_paths_outside_the_directory_or_missing_are_404(idle: Server, path: str) -> None:
    response = idle.client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text


@pytest.mark.parametrize(
    ("name", "banner", "version"),
    [
        ("vendor/htmx.org/htmx.min.js", 'version:"2.0.11"', "2.0.11"),
        ("vendor/uplot/uPlot.iife.min.js", "uPlot (v1.6.32)", "1.6.32"),
    ],
    ids=["htmx", "uPlot"],
)
def test_vendored_libraries_are_the_versions_their_readme_records(
    name: str, banner: str, version: str
) -> None:
    static = resources.files("opsplane.server.console").joinpath("static")
    assert banner in static.joinpath(*name.split("/")).read_text(encoding="utf-8")[:60_000]
    assert f"| {version} |" in static.joinpath("vendor", "README.md").read_text(encoding="utf-8")
    assert static.joinpath(*name.split("/")[:-1], "LICENSE").is_file()


# --- formatting ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0.99873, 2, "99.87%"),
        (0.999, 2, "99.9%"),
        (1.0, 1, "100%"),
        (-0.53067, 1, "-53.1%"),
        (-0.00001, 1, "0%"),
        (None, 1, "—"),
        (float("nan"), 1, "—"),
    ],
    ids=[
        "two decimals",
        "trailing zeros dropped",
        "a whole number",
        "an overspent budget is negative",
        "minus zero prints as zero",
        "no data is a dash",
        "0/0 is a dash",
    ],
)
def test_ratios_print_as_percentages(value: float | None, digits: int, text: str) -> None:
    assert formatting.percent(value, digits) == text


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (0, "0s"),
        (45_400, "45s"),
        (12 * MINUTE_MS + 5_000, "12m5s"),
        (2 * 3_600_000 + 5 * MINUTE_MS + 40_000, "2h6m"),
        (3 * 86_400_000 + 4 * 3_600_000 + 20 * MINUTE_MS, "3d4h"),
        (None, "—"),
    ],
    ids=[
        "nothing",
        "seconds",
        "minutes keep their seconds",
        "hours round to the minute",
        "days round to the hour",
        "no value",
    ],
)
def test_durations_keep_their_two_largest_units(span: float | None, text: str) -> None:
    assert formatting.approx(span) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [(14.4, "14.4x"), (1.0, "1x"), (0.523, "0.52x"), (100.0000001, "100x"), (None, "—")],
    ids=["the page threshold", "one", "two decimals", "large rates lose decimals", "no data"],
)
def test_burn_rates_print_as_multiples(rate: float | None, text: str) -> None:
    assert formatting.burn(rate) == text
