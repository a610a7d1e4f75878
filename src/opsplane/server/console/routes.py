"""The console's pages under ``/ui``: services, one SLO, incidents, deployments, rollouts, costs.

Handlers only gather what the runtime holds for the signed-in namespace; :mod:`.views` turns
it into what the templates show. Every page but sign-in needs a session (:mod:`.session`);
without one it redirects to ``/ui/login``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from opsplane.app.auth import Principal
from opsplane.app.burndown import burn_down
from opsplane.app.cost_insights import recommendations
from opsplane.domain.duration import DAY
from opsplane.errors import NotFoundError
from opsplane.render.status import rfc3339
from opsplane.server.console import budget_views, cost_views, rollout_views, session, views
from opsplane.server.console.rendering import page, static_response
from opsplane.server.routes.costs import month_of
from opsplane.server.routes.rollouts import namespace_rollouts, own_rollout
from opsplane.server.runtime import Runtime
from opsplane.server.security import RuntimeDep

router = APIRouter(prefix="/ui", include_in_schema=False)
MAX_FORM_BYTES = 4_096
CURVE_POINTS = 120
"""Burn-down points: one every 6h over 30 days, enough for a chart 1000 px wide."""
HISTORY = 50
INCIDENTS = 100
REFRESH_S = 5
RECENT_RUNS = 50
RECENT_ROLLOUTS = 30
"""Rollouts that have ended, under those in progress: a month of daily releases."""
RECOMMENDATION_DAYS = 30
"""The runs recommendations look at: the API's default (``GET .../cost/recommendations``)."""


def _context(who: Principal, rt: Runtime, nav: str, **extra: Any) -> dict[str, Any]:
    return {"namespace": who.namespace, "nav": nav, "now": rt.clock.now_ms(), **extra}


# --- sign-in ------------------------------------------------------------------------------


@router.get("/login")
def login_page(
    request: Request,
    token: str | None = None,
    back: Annotated[str | None, Query(alias="next")] = None,
) -> Response:
    """The sign-in form; with ``?token=`` (a link from ``opsplane token create``) signs in."""
    target = session.safe_next(back)
    if token is not None:
        if session.check(request, token) is not None:
            return session.sign_in(request, token, target)
        return page(request, "login.html", {"next": target, "error": True}, status_code=401)
    return page(request, "login.html", {"next": target, "error": False})


@router.post("/login")
async def login_form(request: Request) -> Response:
    """The sign-in form posts ``token`` (and ``next``) URL-encoded."""
    if not session.same_site(request):
        return session.refuse_cross_site()
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"), max_num_fields=4)
    token = form.get("token", [""])[0]
    target = session.safe_next(form.get("next", [""])[0])
    if await run_in_threadpool(session.check, request, token) is not None:
        return session.sign_in(request, token, target)
    return page(request, "login.html", {"next": target, "error": True}, status_code=401)


@router.post("/logout")
def logout(request: Request) -> Response:
    """Forget the session cookie."""
    if not session.same_site(request):
        return session.refuse_cross_site()
    return session.sign_out(request)


# --- pages --------------------------------------------------------------------------------


def _overview(rt: Runtime, namespace: str) -> views.Overview:
    services = rt.services(namespace)
    since = rt.clock.now_ms() - rt.settings.default_period
    return views.overview(
        services,
        rt.latest_statuses(namespace),
        views.namespace_deployments(rt.deployments.deployments(since), services),
    )


@router.get("/")
def services_page(request: Request, rt: RuntimeDep) -> Response:
    """Every SLO of the namespace: compliance, budget, firing alerts, last deployment."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    context = _context(who, rt, "services", overview=_overview(rt, who.namespace))
    return page(request, "services.html", {**context, "refresh_s": REFRESH_S})


@router.get("/services/table")
def services_table(request: Request, rt: RuntimeDep) -> Response:
    """The services table alone: the page's htmx refresh swaps it in every few seconds."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    context = _context(who, rt, "services", overview=_overview(rt, who.namespace))
    return page(request, "_services_table.html", {**context, "refresh_s": REFRESH_S})


@router.get("/slos/{slo_id}")
def slo_page(request: Request, slo_id: str, rt: RuntimeDep) -> Response:
    """One SLO: burn-down with deployments, burn rate per window, alert history, runbook."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    found = rt.find_slo(who.namespace, slo_id)
    if found is None:
        return not_found(request, who, rt)
    service, slo = found
    status = rt.status_of(who.namespace, slo_id)
    context = _context(who, rt, "services", service=service, slo=slo, detail=None)
    if status is None:  # applied, but the evaluator has not ticked since
        return page(request, "slo.html", context)
    period = rt.period_of(slo)
    detail = views.slo_detail(
        service,
        slo,
        status,
        period=period,
        curve=burn_down(rt.store, slo, status, period, CURVE_POINTS),
        history=rt.state.alert_history(slo_id, limit=HISTORY),
        deployments=rt.deployments.deployments(status.period_start, service=service.name),
    )
    return page(request, "slo.html", {**context, "detail": detail})


@router.get("/incidents")
def incidents_page(request: Request, rt: RuntimeDep) -> Response:
    """The namespace's incidents with their timelines, MTTA and MTTR."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    found = rt.incidents.incidents(namespace=who.namespace, limit=INCIDENTS)
    context = _context(who, rt, "incidents", view=views.incidents_view(found))
    return page(request, "incidents.html", context)


@router.get("/deployments")
def deployments_page(
    request: Request, rt: RuntimeDep, days: Annotated[int, Query(ge=1, le=90)] = 7
) -> Response:
    """Deployments of the namespace's services over the last ``days``, newest first."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    since = rt.clock.now_ms() - days * DAY
    found = views.namespace_deployments(
        rt.deployments.deployments(since), rt.services(who.namespace)
    )
    context = _context(who, rt, "deployments", deployments=found, days=days)
    return page(request, "deployments.html", context)


def _rollouts(rt: Runtime, namespace: str) -> rollout_views.RolloutsPage:
    active = namespace_rollouts(rt, namespace, active_only=True)
    return rollout_views.rollouts_page(
        active, namespace_rollouts(rt, namespace), recent=RECENT_ROLLOUTS
    )


@router.get("/rollouts")
def rollouts_page(request: Request, rt: RuntimeDep) -> Response:
    """The namespace's rollouts: those in progress (refreshed by htmx), then recent ones."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    context = _context(who, rt, "rollouts", view=_rollouts(rt, who.namespace))
    return page(request, "rollouts.html", {**context, "refresh_s": REFRESH_S})


@router.get("/active-rollouts")
def rollouts_active(request: Request, rt: RuntimeDep) -> Response:
    """The rollouts in progress alone: the page's htmx refresh swaps them in.

    Not under ``/rollouts/``, where any name is a rollout id (``opsplane rollout start --id``).
    """
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    active = namespace_rollouts(rt, who.namespace, active_only=True)
    view = rollout_views.rollouts_page(active, active, recent=0)
    context = _context(who, rt, "rollouts", view=view, refresh_s=REFRESH_S)
    return page(request, "_rollouts_active.html", context)


@router.get("/rollouts/{rollout_id}")
def rollout_page(request: Request, rollout_id: str, rt: RuntimeDep) -> Response:
    """One rollout: every step (done, current, next), its split and its analysis."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    try:
        rollout = own_rollout(rt, who.namespace, rollout_id)
    except NotFoundError:
        return not_found(request, who, rt)
    context = _context(
        who,
        rt,
        "rollouts",
        r=rollout_views.row(rollout),
        steps=rollout_views.steps(rollout),
        measurements=rollout_views.measurements(rollout),
    )
    return page(request, "rollout.html", context)


@router.get("/costs")
def costs_page(request: Request, rt: RuntimeDep) -> Response:
    """This UTC month's spend per service with its components, and the most recent runs."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    start, end = month_of(rt.clock.now_ms())
    summary = rt.costs.summary(who.namespace, start, end)
    recent = rt.costs.runs(who.namespace, limit=RECENT_RUNS)
    view = cost_views.costs_page(summary, recent)
    now = rt.clock.now_ms()
    budgets = budget_views.budget_rows(rt.budget_monitor.reports(who.namespace, now))
    table = rt.costs.table
    found = recommendations(
        rt.costs.ledger, rt.deployments, table, who.namespace, now, days=RECOMMENDATION_DAYS
    )
    advice = budget_views.recommendation_rows(found, who.namespace, table.currency, rfc3339(now))
    context = _context(
        who,
        rt,
        "costs",
        view=view,
        month_start=start,
        budgets=budgets,
        recommendations=advice,
        currency=table.currency,
        recommendation_days=RECOMMENDATION_DAYS,
    )
    return page(request, "costs.html", context)


@router.get("/costs/runs/{run_id:path}")
def run_page(request: Request, run_id: str, rt: RuntimeDep) -> Response:
    """One run: its cost per component and every priced line behind it."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    try:
        record = rt.costs.run(who.namespace, run_id)
    except NotFoundError:
        return not_found(request, who, rt)
    context = _context(
        who,
        rt,
        "costs",
        record=record,
        row=cost_views.run_row(record),
        lines=cost_views.line_rows(record.breakdown.lines),
    )
    return page(request, "run.html", context)


# --- static files and everything else -----------------------------------------------------


@router.api_route("/static/{path:path}", methods=["GET", "HEAD"])
async def static(path: str, request: Request) -> Response:
    """The console's CSS, scripts and vendored libraries."""
    return await static_response(path, request)


def not_found(request: Request, who: Principal | None, rt: Runtime) -> Response:
    """The console's 404 page."""
    context = _context(who, rt, "") if who else {"namespace": None, "nav": ""}
    return page(request, "not_found.html", context, status_code=404)


@router.get("/{path:path}")
def unknown(request: Request, path: str, rt: RuntimeDep) -> Response:
    """Any other console URL: the 404 page (after sign-in, like every page)."""
    who = session.principal(request)
    if who is None:
        return session.to_login(request)
    return not_found(request, who, rt)
