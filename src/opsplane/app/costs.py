"""Recording priced runs, and reading them back: the use case behind the cost API and console.

:meth:`CostService.record` takes one run record or a batch (``docs/cost.md``'s RUN.json, as
text or already parsed), reads it with the CLI's parser, checks it against the price table and
the namespace's catalog, prices it with the exact Decimal pricer and stores it in one
transaction. It is all or nothing: one invalid run rejects the request with every problem of
every run, each naming its field (``runs[3].llm[0].model: unknown model ...``), and nothing
is stored.

Runs are keyed by ``(namespace, run_id)``, so a client may retry a batch:

- a run whose id is stored already *with the same usage* is a no-op, reported ``duplicate``
  with the cost stored the first time (even if prices changed since);
- a run whose id is stored already *with different usage* is a conflict: the request is refused
  (409) and nothing of it is stored. Keeping either silently would lose a cost or double it; a
  run's usage is immutable once acknowledged, so a corrected run needs a new id.
- The same id twice in one request is a duplicate when the usage is equal, else a problem.

"Same usage" compares the run's canonical form (:func:`run_document`): amounts normalised
(``42.50`` is ``42.5``), times in UTC.

Why not the bulk pricer: the ledger keeps every run's priced lines (they are the run's metadata,
shown by the API and console, and what FOCUS export works on), and :class:`BulkPricer` gives
amounts without lines. Pricing the lines is the Decimal pricer's whole cost, so the bulk pricer
would add work, not save it (``bench/cost.py`` measures both).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final, Literal, Protocol

from opsplane.domain.cost.ledger import CostRecord
from opsplane.domain.cost.model import Breakdown, ComputeUsage, PricedRun, Run
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.pricing import breakdown_of, run_lines
from opsplane.domain.cost.validate import run_problems
from opsplane.errors import ConflictError, NotFoundError, Problem, SpecError
from opsplane.ports import CostLedger
from opsplane.spec.cost_run import RunFile, parse_runs
from opsplane.types import LATEST_MILLIS, Millis

FILE: Final = "request"
"""The "file" every problem names: the request body."""
MAX_TOTAL: Final = Decimal("9223372036.854775807")
"""The largest run total the ledger can sum (``total_nano`` is a signed 64-bit integer)."""
MAX_RUNS: Final = 10_000
"""Runs per request, as for events: larger batches are split by the client."""

Status = Literal["created", "duplicate"]


class RunLedger(CostLedger, Protocol):
    """The ledger as this use case reads it: the port, plus two queries it needs in bulk."""

    def records_by_id(self, namespace: str, run_ids: Collection[str]) -> dict[str, CostRecord]:
        """The stored records of ``run_ids`` in ``namespace``."""
        ...

    def service_costs(
        self, namespace: str, since: Millis, until: Millis
    ) -> list[tuple[str, Breakdown, int]]:
        """Per service and currency: the exact sum of breakdowns, and the run count."""
        ...


@dataclass(frozen=True, slots=True)
class Recorded:
    """One run of a request: its cost (the stored one for a duplicate) and what happened."""

    priced: PricedRun
    status: Status


@dataclass(frozen=True, slots=True)
class Recording:
    """The outcome of :meth:`CostService.record`, in request order."""

    runs: tuple[Recorded, ...]
    single: bool
    currency: str
    source: str

    @property
    def created(self) -> int:
        """How many runs were new."""
        return sum(r.status == "created" for r in self.runs)


@dataclass(frozen=True, slots=True)
class ServiceCost:
    """One service's cost in one currency over a time range."""

    service: str
    breakdown: Breakdown
    runs: int


@dataclass
class CostService:
    """Records priced runs of a namespace's services, and answers questions about them.

    Attributes:
        ledger: Where priced runs are kept.
        table: The prices runs are priced with.
        services: The service names of a namespace (its catalog).
    """

    ledger: RunLedger
    table: PriceTable
    services: Callable[[str], Collection[str]]

    def record(self, namespace: str, body: str | bytes | Any, received_at: Millis) -> Recording:
        """Validate, price and store one run or a batch, all or nothing.

        Args:
            namespace: The namespace of the request; a run naming none gets it.
            body: RUN.json text (one run, a list, or ``{"runs": [...]}``), or the same parsed.
            received_at: Now; the time of runs without ``started_at``.

        Raises:
            SpecError: some run is invalid; every problem of every run, nothing stored.
            ConflictError: a run id is stored already with different usage; nothing stored.
        """
        run_file = _read(namespace, body)
        problems = list(run_file.problems)
        if len(run_file.runs) > MAX_RUNS:
            problems.append(Problem(FILE, "runs", f"at most {MAX_RUNS:,} runs per request"))
        problems.extend(self._problems(namespace, run_file))
        if problems:
            raise SpecError(sorted(problems, key=_order))
        priced = [self._price(run) for run in run_file.runs]
        problems = _total_problems(priced, run_file.paths)
        if problems:
            raise SpecError(problems)
        return self._store(namespace, run_file, priced, received_at)

    def _price(self, run: Run) -> PricedRun:
        return PricedRun(run, breakdown_of(run.currency, run_lines(run, self.table)))

    def _problems(self, namespace: str, run_file: RunFile) -> list[Problem]:
        known = self.services(namespace)
        problems: list[Problem] = []
        seen: dict[str, tuple[str, dict[str, Any]]] = {}
        for run, at in zip(run_file.runs, run_file.paths, strict=True):
            problems.extend(run_problems(run, self.table, file=FILE, at=at))
            problems.extend(_scope_problems(run, at, namespace, known))
            timing = _time_problems(run, at)
            problems.extend(timing)
            if timing:  # its canonical form needs storable times
                continue
            doc = run_document(run)
            if not _storable(doc):
                message = "has text that cannot be stored: a NUL character or a lone surrogate"
                problems.append(Problem(FILE, at or "run", message))
            first = seen.setdefault(run.run_id, (at, doc))
            if first[0] != at and first[1] != doc:
                message = f"repeats the run id of {first[0] or 'the first run'} with other usage"
                problems.append(Problem(FILE, _join(at, "run_id"), message))
        return problems

    def _store(
        self, namespace: str, run_file: RunFile, priced: list[PricedRun], received_at: Millis
    ) -> Recording:
        stored = self.ledger.records_by_id(namespace, {p.run.run_id for p in priced})
        _check_unchanged(priced, run_file.paths, stored)
        pending: dict[str, CostRecord] = {}
        for p in priced:
            if p.run.run_id not in stored:
                pending.setdefault(p.run.run_id, _record(namespace, p, received_at, self.table))
        records = list(pending.values())
        try:
            new = self.ledger.record_costs(records, same=_same_run)
        except ConflictError:  # a concurrent request recorded other usage first: name it
            stored |= self.ledger.records_by_id(namespace, pending)
            _check_unchanged(priced, run_file.paths, stored)
            raise
        lost = {r.run_id for r, is_new in zip(records, new, strict=True) if not is_new}
        if lost:  # the same runs, recorded by a concurrent request since the check
            stored |= self.ledger.records_by_id(namespace, lost)
        costs = {run_id: record.breakdown for run_id, record in stored.items()}
        results: list[Recorded] = []
        for p in priced:
            run_id = p.run.run_id
            if run_id in costs:  # stored before, or earlier in this request
                results.append(Recorded(PricedRun(p.run, costs[run_id]), "duplicate"))
            else:
                costs[run_id] = p.breakdown
                results.append(Recorded(p, "created"))
        return Recording(tuple(results), run_file.single, self.table.currency, self.table.source)

    def run(self, namespace: str, run_id: str) -> CostRecord:
        """One run's record.

        Raises:
            NotFoundError: the namespace has no run ``run_id``.
        """
        found = self.ledger.cost_record(namespace, run_id)
        if found is None:
            raise NotFoundError(f"no run {run_id!r} in namespace {namespace!r}")
        return found

    def runs(
        self,
        namespace: str,
        *,
        service: str | None = None,
        since: Millis | None = None,
        until: Millis | None = None,
        limit: int = 100,
    ) -> list[CostRecord]:
        """A namespace's runs (of one service), ``since <= at < until``, newest first."""
        return self.ledger.cost_records(
            namespace, service=service, since=since, until=until, limit=limit
        )

    def summary(self, namespace: str, since: Millis, until: Millis) -> list[ServiceCost]:
        """Per service (and currency): total, breakdown and run count, ``since <= at < until``."""
        found = self.ledger.service_costs(namespace, since, until)
        return [ServiceCost(service, cost, runs) for service, cost, runs in found]


def run_document(run: Run) -> dict[str, Any]:
    """A run's canonical JSON form: RUN.json's fields, amounts as normalised decimal text."""
    doc: dict[str, Any] = {
        "run_id": run.run_id,
        "service": run.service,
        "namespace": run.namespace,
        "actions": run.actions,
        "compute": [_compute_document(c) for c in run.compute],
        "llm": [
            {
                "model": u.model,
                "input_tokens": u.input_tokens,
                "output_tokens": u.output_tokens,
                "cache_read_tokens": u.cache_read_tokens,
                "cache_write_tokens": u.cache_write_tokens,
                "reasoning_tokens": u.reasoning_tokens,
            }
            for u in run.llm
        ],
        "api_fees": [{"name": f.name, "amount": money_text(f.amount)} for f in run.api_fees],
        "currency": run.currency,
    }
    for name in ("started_at", "ended_at"):
        moment: datetime | None = getattr(run, name)
        if moment is not None:
            doc[name] = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return doc


def _compute_document(usage: ComputeUsage) -> dict[str, str]:
    doc = {"capability": usage.capability, "seconds": money_text(usage.seconds)}
    optional = {
        "rate_per_second": usage.rate_per_second,
        "utilisation": usage.utilisation,
        "peak_utilisation": usage.peak_utilisation,
    }
    doc |= {name: money_text(value) for name, value in optional.items() if value is not None}
    return doc


def _read(namespace: str, body: str | bytes | Any) -> RunFile:
    """The runs of ``body``, each with the namespace filled in where it names none."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError([Problem(FILE, "", "the body is not UTF-8")]) from exc
    try:
        if not isinstance(body, str):
            _fill_namespace(body, namespace)
            return parse_runs(FILE, _json_text(body))
        data = json.loads(body, parse_float=Decimal, parse_constant=Decimal)
        # The common case, every run naming its namespace, is parsed from the text as it is.
        return parse_runs(FILE, _json_text(data) if _fill_namespace(data, namespace) else body)
    except json.JSONDecodeError as exc:
        raise SpecError([Problem(FILE, f"line {exc.lineno}", f"invalid JSON: {exc.msg}")]) from exc
    except RecursionError as exc:
        raise SpecError([Problem(FILE, "", "the JSON is nested too deeply")]) from exc


def _fill_namespace(data: Any, namespace: str) -> bool:
    """Give every run object without ``namespace`` this one; whether any was missing."""
    items = data.get("runs") if isinstance(data, dict) and "runs" in data else data
    runs = items if isinstance(items, list) else [items]
    filled = False
    for run in runs:
        if isinstance(run, dict) and "namespace" not in run:
            run["namespace"] = namespace
            filled = True
    return filled


def _storable(value: Any) -> bool:
    """Every string in ``value`` is valid UTF-8 without NUL (PostgreSQL text refuses NUL)."""
    if isinstance(value, str):
        if value.isascii():
            return "\x00" not in value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in value
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(item) for item in value)
    return True


def _json_text(value: Any) -> str:
    """JSON text of parsed JSON whose numbers may be Decimals, without losing a digit.

    ``str(Decimal)`` is valid JSON for every value :func:`json.loads` gives with
    ``parse_float=Decimal, parse_constant=Decimal`` (``NaN`` and ``Infinity`` included).
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        members = (f"{json.dumps(str(k))}:{_json_text(v)}" for k, v in value.items())
        return "{" + ",".join(members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    return json.dumps(value)


def _join(at: str, name: str) -> str:
    return f"{at}.{name}" if at else name


def _scope_problems(run: Run, at: str, namespace: str, known: Collection[str]) -> list[Problem]:
    problems: list[Problem] = []
    if run.namespace and run.namespace != namespace:
        message = f"is {run.namespace!r} but the request is for namespace {namespace!r}"
        problems.append(Problem(FILE, _join(at, "namespace"), message))
    if run.service and run.service not in known:
        names = ", ".join(sorted(known)[:10]) or "none"
        message = f"no service {run.service!r} in namespace {namespace!r} (known: {names})"
        problems.append(Problem(FILE, _join(at, "service"), message))
    return problems


def _time_problems(run: Run, at: str) -> list[Problem]:
    problems: list[Problem] = []
    for name in ("started_at", "ended_at"):
        moment: datetime | None = getattr(run, name)
        if (
            moment is not None
            and moment.tzinfo is not None
            and not 0 <= _millis(moment) <= LATEST_MILLIS
        ):
            message = "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
            problems.append(Problem(FILE, _join(at, name), message))
    return problems


def _total_problems(priced: Sequence[PricedRun], paths: Sequence[str]) -> list[Problem]:
    return [
        Problem(FILE, at or "run", f"costs {money_text(p.breakdown.total)} "
                f"{p.breakdown.currency}, more than one run may ({money_text(MAX_TOTAL)})")
        for p, at in zip(priced, paths, strict=True)
        if p.breakdown.total > MAX_TOTAL
    ]  # fmt: skip


def _check_unchanged(
    priced: Sequence[PricedRun],
    paths: Sequence[str],
    stored: dict[str, CostRecord],
) -> None:
    """Raise :class:`ConflictError` for runs stored already with other usage."""
    clashes = [
        f"{FILE}:{_join(at, 'run_id')}: run {p.run.run_id!r} is recorded already with other "
        "usage; a recorded run cannot change (give the corrected run a new run_id)"
        for p, at in zip(priced, paths, strict=True)
        if p.run.run_id in stored
        and stored[p.run.run_id].metadata.get("run") != run_document(p.run)
    ]
    if clashes:
        raise ConflictError("\n".join(clashes))


def _same_run(stored: CostRecord, record: CostRecord) -> bool:
    """Whether a run recorded again has the usage it was first recorded with."""
    return stored.metadata.get("run") == record.metadata.get("run")


def _record(
    namespace: str, priced: PricedRun, received_at: Millis, table: PriceTable
) -> CostRecord:
    run = priced.run
    at = _millis(run.started_at) if run.started_at is not None else received_at
    metadata = {"run": run_document(run), "price_source": table.source}
    return CostRecord(
        namespace, run.run_id, run.service, at, received_at, priced.breakdown, metadata
    )


def _millis(moment: datetime) -> Millis:
    return round(moment.timestamp() * 1000)


def _order(problem: Problem) -> tuple[int, ...]:
    """Problems by the run they belong to (``[3]`` or ``runs[3]``), stably otherwise."""
    head = problem.path.removeprefix("runs")
    if head.startswith("["):
        index = head[1 : head.find("]")]
        if index.isdigit():
            return (int(index),)
    return (-1,)
