"""Hypothesis strategies for runs priced under ``builders.TABLE``."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, Run


def decimals(max_int: int, max_places: int) -> st.SearchStrategy[Decimal]:
    """Non-negative decimals ``n * 10**-p`` with ``n <= max_int`` and ``p <= max_places``."""
    return st.builds(
        lambda n, p: Decimal(n).scaleb(-p), st.integers(0, max_int), st.integers(0, max_places)
    )


COUNTS = st.integers(0, 10**9)
SECONDS = decimals(10**9, 9)
RATE_LIMIT = 10**8
RATES = decimals(RATE_LIMIT, 18)
FEES = decimals(10**9, 12)

COMPUTE = st.builds(
    ComputeUsage,
    st.sampled_from(["cpu", "gpu", "memory-gb"]),
    SECONDS,
    st.none() | RATES,
)


@st.composite
def llm_usage(draw: st.DrawFn) -> LlmUsage:
    """Token usage of a model of the table; the embedding model never outputs."""
    model = draw(st.sampled_from(["gpt-4o-mini", "openai/gpt-4o-mini", "thinker", "embedder"]))
    output = 0 if model == "embedder" else draw(COUNTS)
    return LlmUsage(
        model,
        draw(COUNTS),
        output,
        draw(COUNTS),
        draw(COUNTS),
        draw(st.integers(0, output)),
    )


@st.composite
def runs(draw: st.DrawFn) -> Run:
    """A valid run under ``builders.TABLE``."""
    return Run(
        run_id=draw(st.text("abc123", min_size=1, max_size=4)),
        service=draw(st.sampled_from(["checkout", "search"])),
        namespace="payments",
        actions=draw(COUNTS),
        compute=tuple(draw(st.lists(COMPUTE, max_size=3))),
        llm=tuple(draw(st.lists(llm_usage(), max_size=3))),
        api_fees=tuple(draw(st.lists(st.builds(ApiFee, st.just("search"), FEES), max_size=2))),
    )


BAD_COUNTS = st.sampled_from([-1, -(10**12), 10**16])
BAD_DECIMALS = st.sampled_from(
    [Decimal("NaN"), Decimal("-Infinity"), Decimal("-0.1"), Decimal("1E+10"), Decimal("1E-19")]
)


@st.composite
def maybe_invalid_runs(draw: st.DrawFn) -> Run:
    """A run that is sometimes invalid in one or more fields."""
    run = draw(runs())
    if draw(st.booleans()):
        run = Run(**{**_fields(run), "actions": draw(BAD_COUNTS)})  # type: ignore[arg-type]
    if draw(st.booleans()):
        bad = ComputeUsage(draw(st.sampled_from(["cpu", "tpu", ""])), draw(BAD_DECIMALS | SECONDS))
        run = Run(**{**_fields(run), "compute": (*run.compute, bad)})  # type: ignore[arg-type]
    if draw(st.booleans()):
        bad_llm = LlmUsage(
            draw(st.sampled_from(["gpt-4o-mini", "nope", "embedder", "dall-e"])),
            draw(COUNTS | BAD_COUNTS),
            draw(st.integers(0, 5)),
            reasoning_tokens=draw(st.integers(0, 10)),
        )
        run = Run(**{**_fields(run), "llm": (bad_llm, *run.llm)})  # type: ignore[arg-type]
    if draw(st.booleans()):
        fee = ApiFee(draw(st.sampled_from(["", "ocr"])), draw(BAD_DECIMALS | FEES))
        run = Run(**{**_fields(run), "api_fees": (*run.api_fees, fee)})  # type: ignore[arg-type]
    return run


def _fields(run: Run) -> dict[str, object]:
    return {name: getattr(run, name) for name in Run.__dataclass_fields__}
