"""Cost engine benchmark: pricing 1,000,000 runs with the bulk pricer (target <= 10 s).

What is timed is :meth:`opsplane.domain.cost.bulk.BulkPricer.price` on a list of domain
``Run`` objects, end to end: validation of every value, the one pass that gathers them into
integer columns, and the numpy arithmetic. Building the runs (the input, as ``RUN.json``
parsing or the API would hand them over) is not timed. The runs are seeded random mixes of
what workflow runs use: 50-5,000 actions; one or two compute lines (``cpu`` and
``memory-gb`` at table rates, some ``gpu`` at a per-run rate) with millisecond durations; one or
two LLM calls over 12 models of the packaged LiteLLM 1.110.2 map (OpenAI, Anthropic, Gemini,
Mistral, DeepSeek), some with cache reads and writes and reasoning tokens; an API fee in one
run of three.

Printed beside it, measured in the same run:

- naive: :func:`opsplane.domain.cost.pricing.price_run` (validation and exact Decimal
  arithmetic with line items, one run at a time) on the first ``--naive`` runs, extrapolated
  linearly to all of them, and the ratio naive / bulk;
- agreement: the bulk totals of those runs equal the Decimal pricer's exactly (else FAIL);
- peak RSS of this process (``ru_maxrss``).

Then the API (``--api``, default 1,000 runs; 0 skips it): ``POST /api/v1/namespaces/payments/runs``
with one batch of that many of the same runs (as RUN.json, 40 services in the catalog) on a
server on a temporary SQLite database (WAL, ``synchronous=FULL``), driven in-process through
Starlette's ``TestClient`` (ASGI, no sockets; the evaluator is not started). Timed: the request,
which parses, validates, prices with lines, stores in one fsynced transaction and answers.
Printed beside it, in the same run: the pricing alone (RUN.json parsing, validation and the
Decimal pricer with lines, i.e. ``CostService`` minus storage and HTTP); the bulk pricer on the
same runs (amounts only, no lines: why the API does not use it); and ``--singles`` runs posted
one per request, extrapolated to the batch (the per-request cost that batching amortises).

Exits 1 (FAIL) when pricing takes longer than the target or the two pricers disagree.

Usage: python bench/cost.py [--runs N] [--naive M] [--api N] [--singles K]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.app.costs import run_document
from opsplane.app.events import events_sli
from opsplane.domain.cost.bulk import BulkPricer
from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, Run
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.pricing import price_run
from opsplane.server.app import create_app
from opsplane.server.observability import configure_logging
from opsplane.server.runtime import Runtime, ServerSettings
from opsplane.spec.cost_prices import load_price_table
from opsplane.spec.cost_run import parse_runs

TARGET_S = 10.0
SPEC = """apiVersion: opsplane/v1
kind: Service
metadata: {{name: {name}}}
slos:
  - name: availability
    objective: 99.9
    sli: {{events: {{error_query: '{sli.error_query}', total_query: '{sli.total_query}'}}}}
"""
MODELS = (
    "gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini", "claude-sonnet-4-5", "claude-haiku-4-5",
    "gemini/gemini-2.5-flash", "gemini/gemini-2.5-pro", "mistral/mistral-small-latest",
    "deepseek/deepseek-chat", "openai/gpt-4o-mini", "claude-opus-4-5",
)  # fmt: skip
POOL = 4096
"""Distinct usage tuples to draw from: runs share them, so a million runs fit in memory."""


def make_runs(n: int, seed: int = 2026) -> list[Run]:
    """``n`` seeded runs (see the module docs); usage tuples come from a shared pool."""
    rng = random.Random(seed)
    computes = [_compute(rng) for _ in range(POOL)]
    llms = [_llm(rng) for _ in range(POOL)]
    fees = [(), (), (ApiFee("search", Decimal("0.002")),)]
    services = [f"svc-{i:02d}" for i in range(40)]
    runs = []
    for i in range(n):
        usage = (computes[rng.randrange(POOL)], llms[rng.randrange(POOL)], fees[i % 3])
        runs.append(
            Run(f"run-{i:07d}", services[i % 40], "payments", rng.randrange(50, 5_000), *usage)
        )
    return runs


def _compute(rng: random.Random) -> tuple[ComputeUsage, ...]:
    seconds = Decimal(rng.randrange(1_000, 900_000)).scaleb(-3)
    lines = [ComputeUsage("cpu", seconds), ComputeUsage("memory-gb", 2 * seconds)]
    if rng.random() < 0.1:
        lines.append(ComputeUsage("gpu", seconds, Decimal("0.000305556")))
    return tuple(lines[: rng.choice((1, 2, 3))])


def _llm(rng: random.Random) -> tuple[LlmUsage, ...]:
    calls = []
    for _ in range(rng.choice((1, 1, 2))):
        output = rng.randrange(50, 4_000)
        model = rng.choice(MODELS)
        cached = model.startswith(("claude", "gpt-4o")) and rng.random() < 0.5
        writes = cached and model.startswith("claude")
        reasons = model in ("o4-mini", "claude-opus-4-5")
        calls.append(
            LlmUsage(
                model,
                rng.randrange(500, 50_000),
                output,
                cache_read_tokens=rng.randrange(0, 30_000) if cached else 0,
                cache_write_tokens=rng.randrange(0, 3_000) if writes else 0,
                reasoning_tokens=rng.randrange(0, output) if reasons else 0,
            )
        )
    return tuple(calls)


def time_naive(runs: list[Run], table: PriceTable) -> tuple[float, list[Decimal]]:
    start = time.perf_counter()
    totals = [price_run(run, table).total for run in runs]
    return time.perf_counter() - start, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, default=20_000)
    parser.add_argument("--api", type=int, default=1_000)
    parser.add_argument("--singles", type=int, default=200)
    args = parser.parse_args()
    base = load_price_table()
    rates = {**base.compute_rates, "memory-gb": Decimal("0.0000025")}
    table = PriceTable(base.models, base.unusable, base.action_price, rates, source=base.source)
    built = time.perf_counter()
    runs = make_runs(args.runs)
    print(f"built {len(runs):,} runs in {time.perf_counter() - built:.1f} s (not timed)")

    pricer = BulkPricer(table)
    start = time.perf_counter()
    columns = pricer.columns(runs)
    gathered = time.perf_counter()
    result = pricer.price_columns(columns)
    bulk_s = time.perf_counter() - start
    arithmetic_s = start + bulk_s - gathered
    lines = len(columns.compute_run) + len(columns.llm_run) + len(columns.fee_run) + len(runs)
    print(
        f"bulk: {len(runs):,} runs ({lines:,} priced lines) in {bulk_s:.2f} s "
        f"(validate + columns {gathered - start:.2f} s, arithmetic {arithmetic_s:.2f} s "
        f"in {result.parts['llm'].dtype}); total {result.total()} {table.currency}"
    )

    subset = runs[: args.naive]
    naive_s, naive_totals = time_naive(subset, table)
    naive_all = naive_s * len(runs) / len(subset)
    agree = result.totals()[: len(subset)] == naive_totals
    print(
        f"naive Decimal loop: {len(subset):,} runs in {naive_s:.2f} s, {naive_all:.1f} s "
        f"extrapolated to {len(runs):,}; ratio naive/bulk {naive_all / bulk_s:.1f}x"
    )
    print(f"bulk == Decimal on those {len(subset):,} runs: {'yes' if agree else 'NO'}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.api:
        api_section(runs[: args.api], args.singles)
    ok = bulk_s <= TARGET_S and agree
    print("PASS" if ok else "FAIL: " + ("above target" if agree else "the pricers disagree"))
    if not ok:
        sys.exit(1)


def run_json(run: Run) -> dict[str, Any]:
    """RUN.json of a bench run; memory-gb lines carry their rate (the server's table has none)."""
    doc = run_document(run)
    for line in doc["compute"]:
        if line["capability"] == "memory-gb":
            line["rate_per_second"] = "0.0000025"
    return doc


def api_section(runs: list[Run], singles: int) -> None:
    """``POST .../runs`` with one batch, beside pricing alone, bulk, and single posts."""
    configure_logging(json_logs=False, level=logging.WARNING)  # no access log per request
    with tempfile.TemporaryDirectory() as tmp:
        runtime = Runtime(ServerSettings(f"sqlite:///{tmp}/state.db", Path(tmp) / "metrics"))
        runtime.open()
        try:
            with TestClient(create_app(runtime, start=False)) as client:
                _api_section(runtime, client, runs, singles)
        finally:
            runtime.stop()


def _api_section(runtime: Runtime, client: TestClient, runs: list[Run], singles: int) -> None:
    token = create_token(runtime.tokens, runtime.clock, "payments", read_only=False)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"}
    for name in sorted({r.service for r in runs}):
        spec = SPEC.format(name=name, sli=events_sli("payments", name, "availability"))
        assert client.post(
            "/api/v1/namespaces/payments/services", content=spec, headers=auth
        ).is_success
    auth["Content-Type"] = "application/json"
    url = "/api/v1/namespaces/payments/runs"
    body = json.dumps({"runs": [run_json(r) for r in runs]}).encode()
    start = time.perf_counter()
    response = client.post(url, content=body, headers=auth)
    batch_s = time.perf_counter() - start
    assert response.status_code == 201, response.text[:500]
    print(
        f"api: POST {len(runs):,} runs in one batch ({len(body) / 1e6:.1f} MB): {batch_s:.2f} s, "
        f"{len(runs) / batch_s:,.0f} runs/s, committed"
    )
    table = runtime.costs.table
    start = time.perf_counter()
    run_file = parse_runs("bench", body.decode())
    priced = [price_run(r, table).total for r in run_file.runs]
    pricing_s = time.perf_counter() - start
    start = time.perf_counter()
    BulkPricer(table).price(run_file.runs)
    bulk_s = time.perf_counter() - start
    print(
        f"  same runs, no HTTP or storage: parse + validate + Decimal pricing with lines "
        f"{pricing_s:.2f} s ({pricing_s / batch_s:.0%} of the request); bulk pricer "
        f"(amounts only) {bulk_s:.3f} s; {len(priced):,} priced"
    )
    singles = min(singles, len(runs))
    start = time.perf_counter()
    for i, run in enumerate(runs[:singles]):
        one = run_json(run) | {"run_id": f"single-{i}"}
        assert client.post(url, json=one, headers=auth).status_code == 201
    single_s = (time.perf_counter() - start) / singles
    print(
        f"  one run per request: {single_s * 1000:.1f} ms each ({singles} posted), "
        f"{single_s * len(runs):.1f} s extrapolated to {len(runs):,}; "
        f"batch is {single_s * len(runs) / batch_s:.1f}x faster"
    )


if __name__ == "__main__":
    main()
