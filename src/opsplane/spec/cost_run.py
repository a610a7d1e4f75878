"""RUN.json: one run's usage, or a batch of runs, read into domain runs (``docs/cost.md``).

The file holds one run object, a list of them, or ``{"runs": [...]}``. Numbers are read as
exact decimals (``42.5`` is ``Decimal("42.5")``, never a float), money may also be a string
(``"0.000016"``), and ``NaN``/``Infinity`` are read so they can be rejected by name. Every
problem is ``FILE:PATH: message``; an invalid file gives no runs at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, model_validator

from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, PricedRun, Run
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.pricing import breakdown_of, run_lines
from opsplane.domain.cost.validate import run_problems
from opsplane.errors import Problem, SpecError
from opsplane.spec.cost_edge import problems_of
from opsplane.spec.documents import format_path
from opsplane.spec.edge import Strict

Name = Annotated[str, Field(min_length=1)]
# Values are only typed here: the domain checks them (negative, NaN, limits), so a run with a
# bad value is still read and every other problem of it is reported in the same attempt.
Count = Annotated[int, Field(strict=True)]
Money = Annotated[Decimal, Field(allow_inf_nan=True)]


class ComputeIn(Strict):
    """``compute[]``: seconds of one capability, optionally with its own rate."""

    capability: Name
    seconds: Money
    rate_per_second: Money | None = None
    utilisation: Money | None = None
    peak_utilisation: Money | None = None


class LlmIn(Strict):
    """``llm[]``: tokens of one model (disjoint counts; see ``docs/cost.md``)."""

    model: Name
    input_tokens: Count
    output_tokens: Count = 0
    cache_read_tokens: Count = 0
    cache_write_tokens: Count = 0
    reasoning_tokens: Count = 0


class ApiFeeIn(Strict):
    """``api_fees[]``: a fee, as ``usd`` (DESIGN.md's name) or ``amount`` in the run's currency."""

    name: Name
    usd: Money | None = None
    amount: Money | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> ApiFeeIn:
        if (self.usd is None) == (self.amount is None):
            msg = "give the fee as exactly one of usd or amount"
            raise ValueError(msg)
        return self


class RunIn(Strict):
    """One run record."""

    run_id: Name
    service: Name
    namespace: Name
    actions: Count
    compute: tuple[ComputeIn, ...] = ()
    llm: tuple[LlmIn, ...] = ()
    api_fees: tuple[ApiFeeIn, ...] = ()
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "USD"


@dataclass(frozen=True, slots=True)
class RunFile:
    """The runs of one file, and where each sits in it (``""`` for a single run).

    ``problems`` are those of runs that could not be read at all (a missing field, a wrong
    type); :func:`price_run_file` reports them together with the pricing problems of the
    others, so one attempt shows every problem of the file.
    """

    file: str
    runs: tuple[Run, ...]
    paths: tuple[str, ...]
    single: bool
    problems: tuple[Problem, ...] = ()


def load_runs(path: Path) -> RunFile:
    """Read RUN.json (one run or a batch); unreadable runs are in ``problems``.

    Raises:
        SpecError: the file is unreadable or not JSON of the right shape.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError([Problem(str(path), "", "no such file")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), "", f"cannot read file: {exc}")]) from exc
    return parse_runs(str(path), text)


def parse_runs(file: str, text: str) -> RunFile:
    """The runs of ``text`` (see :func:`load_runs`)."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        raise SpecError([Problem(file, f"line {exc.lineno}", f"invalid JSON: {exc.msg}")]) from exc
    items, single = _items(file, data)
    runs: list[Run] = []
    paths: list[str] = []
    problems: list[Problem] = []
    for prefix, item in items:
        parsed, found = problems_of(RunIn, item, file, *prefix)
        problems.extend(found)
        if parsed is not None:
            run, found = _to_run(parsed, file, prefix)
            problems.extend(found)
            runs.append(run)
            paths.append(format_path(prefix))
    return RunFile(file, tuple(runs), tuple(paths), single, tuple(problems))


def price_run_file(run_file: RunFile, table: PriceTable) -> list[PricedRun]:
    """Price every run of the file, or none: all problems of all runs first.

    Raises:
        SpecError: some run could not be read, or cannot be priced under ``table`` (unknown
            model, no rate...); every problem, in file order.
    """
    problems = list(run_file.problems)
    for run, at in zip(run_file.runs, run_file.paths, strict=True):
        problems.extend(run_problems(run, table, file=run_file.file, at=at))
    if problems:
        raise SpecError(sorted(problems, key=_file_order))
    return [PricedRun(r, breakdown_of(r.currency, run_lines(r, table))) for r in run_file.runs]


def _file_order(problem: Problem) -> tuple[int, ...]:
    """Sort problems by the run they belong to (``[3]`` or ``runs[3]``), stably otherwise."""
    head = problem.path.removeprefix("runs")
    if head.startswith("["):
        index = head[1 : head.find("]")]
        if index.isdigit():
            return (int(index),)
    return (-1,)


def _items(file: str, data: Any) -> tuple[list[tuple[tuple[str | int, ...], Any]], bool]:
    if isinstance(data, list):
        return [((i,), item) for i, item in enumerate(data)], False
    if isinstance(data, dict) and "runs" in data:
        runs = data["runs"]
        if not isinstance(runs, list):
            raise SpecError([Problem(file, "runs", "must be a list of runs")])
        extra = sorted(k for k in data if k != "runs")
        if extra:
            raise SpecError([Problem(file, k, "unknown field (next to runs)") for k in extra])
        return [(("runs", i), item) for i, item in enumerate(runs)], False
    if isinstance(data, dict):
        return [((), data)], True
    raise SpecError([Problem(file, "", 'expected a run object, a list of runs or {"runs": [...]}')])


def _to_run(item: RunIn, file: str, prefix: Sequence[str | int]) -> tuple[Run, list[Problem]]:
    problems = [
        Problem(file, format_path((*prefix, "api_fees", i, "usd")),
                f"is in USD but the run's currency is {item.currency}; use amount")
        for i, fee in enumerate(item.api_fees)
        if fee.usd is not None and item.currency != "USD"
    ]  # fmt: skip
    run = Run(
        run_id=item.run_id,
        service=item.service,
        namespace=item.namespace,
        actions=item.actions,
        compute=tuple(
            ComputeUsage(
                c.capability, c.seconds, c.rate_per_second, c.utilisation, c.peak_utilisation
            )
            for c in item.compute
        ),
        llm=tuple(
            LlmUsage(
                u.model,
                u.input_tokens,
                u.output_tokens,
                u.cache_read_tokens,
                u.cache_write_tokens,
                u.reasoning_tokens,
            )
            for u in item.llm
        ),
        api_fees=tuple(ApiFee(f.name, _fee(f)) for f in item.api_fees),
        started_at=item.started_at,
        ended_at=item.ended_at,
        currency=item.currency,
    )
    return run, problems


def _fee(fee: ApiFeeIn) -> Decimal:
    amount = fee.usd if fee.usd is not None else fee.amount
    return amount if amount is not None else Decimal(0)
