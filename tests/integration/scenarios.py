"""Randomized but reproducible traffic scenarios for the oracle test.

Scenario ``i`` is drawn from ``random.Random(i)``: the same samples on every run and machine.
Each is one service (``s<i>``) with three SLOs over its own series (every series carries
``scenario="s<i>"``, so all scenarios share one Prometheus TSDB):

- ``availability``: an events SLI on ``http_requests_total`` (5xx over all codes);
- ``latency``: a latency SLI on the ``http_request_duration_seconds`` histogram;
- ``jobs``: a good/total SLI on ``jobs_total`` (``outcome="ok"`` over all outcomes).

Traffic is simulated per pod as whole-number counter increments, so values are exact in every
system and in promtool's series notation. What a scenario does is drawn by its kind (steady,
spikes, counter resets, scrape gaps, idle stretches, late series, all of them) and written in its
``id`` sentence.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from opsplane.domain.duration import DAY, HOUR, MINUTE, format_duration
from opsplane.ports import Sample
from opsplane.types import Millis

BASE: Millis = 1_704_067_200_000
"""2024-01-01T00:00:00Z. Fixed so runs are identical; Prometheus keeps it (10y retention)."""

KINDS = ("steady", "spikes", "resets", "gaps", "idle", "late", "mixed", "mixed")
BUCKETS = ("0.1", "0.3", "1", "+Inf")
"""Histogram bounds as a Go client exposes them (whole bounds without ``.0``)."""

Interval = tuple[Millis, Millis]
SECOND: Millis = 1_000


@dataclass(frozen=True, slots=True)
class Pod:
    """One scrape target.

    Attributes:
        name: The ``instance`` label.
        start: Offset of its first scrape: a pod that appears late has no series before.
        resets: Offsets of restarts: every counter of the pod drops to 0 there.
        gaps: ``[from, to)`` offsets without scrapes (the counters keep counting).
    """

    name: str
    start: Millis = 0
    resets: tuple[Millis, ...] = ()
    gaps: tuple[Interval, ...] = ()


@dataclass(frozen=True, slots=True)
class Traffic:
    """What the service sees, for all pods alike.

    Attributes:
        per_second: Mean requests a second per pod.
        error_ratio: Baseline share of 5xx answers (0: the 5xx series appear only in spikes).
        spikes: ``(from, to, error ratio)``: a burn, with slow requests too.
        idle: ``[from, to)`` stretches without any request: flat counters.
    """

    per_second: float
    error_ratio: float
    spikes: tuple[tuple[Millis, Millis, float], ...] = ()
    idle: tuple[Interval, ...] = ()

    def ratio_at(self, offset: Millis) -> float:
        """The error ratio in force at ``offset``."""
        for start, end, ratio in self.spikes:
            if start <= offset < end:
                return ratio
        return self.error_ratio

    def idle_at(self, offset: Millis) -> bool:
        """Whether no request arrives at ``offset``."""
        return any(start <= offset < end for start, end in self.idle)


@dataclass(frozen=True, slots=True)
class Scenario:
    """One generated scenario: its parameters, its spec and its samples."""

    index: int
    kind: str
    interval: Millis
    duration: Millis
    jitter: Millis
    pods: tuple[Pod, ...]
    traffic: Traffic
    objectives: dict[str, float] = field(default_factory=dict)
    period: str = "30d"
    latency_threshold: str = "0.3"

    @property
    def events(self) -> list[Millis]:
        """Offsets where the traffic or the scraping changes, in time order."""
        marks = [t for a, b, _ in self.traffic.spikes for t in (a, b)]
        marks += [t for a, b in self.traffic.idle for t in (a, b)]
        for pod in self.pods:
            marks += [pod.start, *pod.resets, *(t for a, b in pod.gaps for t in (a, b))]
        return sorted({t for t in marks if 0 < t < self.duration})

    @property
    def name(self) -> str:
        """The service name and ``scenario`` label, ``s07``."""
        return f"s{self.index:02d}"

    @property
    def id(self) -> str:
        """One sentence that says what the scenario does."""
        parts = [
            f"{self.name} {self.kind}: {_span(self.duration)} of {_span(self.interval)} samples "
            f"on {len(self.pods)} pods at {self.traffic.per_second:g} req/s, "
            f"{self.traffic.error_ratio:.2%} errors"
        ]
        parts += [
            f"{ratio:.0%} errors {_span(a)}-{_span(b)}" for a, b, ratio in self.traffic.spikes
        ]
        parts += [f"idle {_span(a)}-{_span(b)}" for a, b in self.traffic.idle]
        for pod in self.pods:
            parts += [f"{pod.name} appears at {_span(pod.start)}"] if pod.start else []
            parts += [f"{pod.name} resets at {_span(r)}" for r in pod.resets]
            parts += [f"{pod.name} unscraped {_span(a)}-{_span(b)}" for a, b in pod.gaps]
        if self.jitter:
            parts.append(f"scrapes jitter {self.jitter} ms")
        return ", ".join(parts)

    @property
    def spec(self) -> str:
        """The scenario's opsplane/v1 service with its three SLOs."""
        sel = f'scenario="{self.name}"'
        window = "[{{.window}}]"
        return f"""\
apiVersion: opsplane/v1
kind: Service
metadata:
  name: {self.name}
slos:
  - name: availability
    objective: {self.objectives["availability"]}
    period: {self.period}
    sli:
      events:
        error_query: sum(rate(http_requests_total{{{sel},code=~"5.."}}{window}))
        total_query: sum(rate(http_requests_total{{{sel}}}{window}))
  - name: latency
    objective: {self.objectives["latency"]}
    sli:
      latency:
        metric: http_request_duration_seconds
        threshold: {self.latency_threshold}
        selector: '{sel}'
  - name: jobs
    objective: {self.objectives["jobs"]}
    period: 7d
    sli:
      ratio:
        good_query: sum(rate(jobs_total{{{sel},outcome="ok"}}{window}))
        total_query: sum(rate(jobs_total{{{sel}}}{window}))
"""


def _span(millis: Millis) -> str:
    return format_duration(millis) if millis else "0s"


# --- Drawing the parameters ----------------------------------------------------------------


def draw(index: int) -> Scenario:
    """The parameters of scenario ``index``, drawn from ``random.Random(index)``."""
    rng = random.Random(index)
    kind = KINDS[index % len(KINDS)]
    interval = _interval(index)
    duration = rng.choice(_durations(interval))
    names = ("a", "b", "c")[: rng.choice((1, 2, 2, 3))]
    traffic = _traffic(rng, kind, duration)
    pods = tuple(_pod(rng, kind, name, duration, first=i == 0) for i, name in enumerate(names))
    return Scenario(
        index=index,
        kind=kind,
        interval=interval,
        duration=duration,
        jitter=rng.choice((0, 0, 250, 1500)) if interval >= 30 * SECOND else 0,
        pods=pods,
        traffic=traffic,
        objectives={
            "availability": rng.choice((99.0, 99.5, 99.9)),
            "latency": rng.choice((95.0, 99.0)),
            "jobs": rng.choice((98.0, 99.0)),
        },
        period=rng.choice(("30d", "28d", "7d")),
        latency_threshold=rng.choice(("0.3", "1")),
    )


def samples_of(scenario: Scenario) -> list[Sample]:
    """Every scraped sample of the scenario (its own random stream, so drawing stays cheap)."""
    return list(simulate(scenario, random.Random(scenario.index + 1_000)))


def _interval(index: int) -> Millis:
    """Most scenarios scrape every minute; one in four every 15 s or 30 s."""
    if index % 4 != 3:
        return MINUTE
    return 15 * SECOND if index % 8 == 3 else 30 * SECOND


def _durations(interval: Millis) -> tuple[Millis, ...]:
    """A few hours to two days; fewer days at finer resolution to bound the sample count."""
    if interval == MINUTE:
        return (3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY)
    if interval == 30 * SECOND:
        return (4 * HOUR, 12 * HOUR, DAY)
    return (3 * HOUR, 8 * HOUR)


def _stretch(rng: random.Random, duration: Millis, shortest: Millis, longest: Millis) -> Interval:
    """A random ``[from, to)`` inside the data, on whole minutes."""
    length = rng.randrange(shortest, longest + 1, MINUTE)
    start = rng.randrange(10 * MINUTE, max(11 * MINUTE, duration - length), MINUTE)
    return start, start + length


def _traffic(rng: random.Random, kind: str, duration: Millis) -> Traffic:
    busy = kind in ("spikes", "resets", "mixed")
    spikes = tuple(
        (*_stretch(rng, duration, 5 * MINUTE, 90 * MINUTE), rng.choice((0.03, 0.1, 0.3, 0.6)))
        for _ in range(rng.randint(1, 3) if busy or kind == "late" else 0)
    )
    idle: tuple[Interval, ...] = ()
    if kind == "idle":
        # One scenario in two stays idle from the start: every window is 0/0 until traffic.
        first = (0, rng.randrange(30 * MINUTE, 2 * HOUR, MINUTE)) if rng.random() < 0.5 else ()
        idle = tuple(x for x in (first, _stretch(rng, duration, 10 * MINUTE, 3 * HOUR)) if x)
    elif kind == "mixed":
        idle = (_stretch(rng, duration, 5 * MINUTE, 40 * MINUTE),)
    return Traffic(
        per_second=rng.choice((0.2, 1.0, 5.0, 40.0)),
        error_ratio=0.0 if kind == "late" else rng.choice((0.0, 0.0005, 0.002, 0.01)),
        spikes=spikes,
        idle=idle,
    )


def _pod(rng: random.Random, kind: str, name: str, duration: Millis, *, first: bool) -> Pod:
    late = kind in ("late", "mixed") and not first
    resets = kind in ("resets", "mixed")
    gaps = kind in ("gaps", "mixed")
    start = rng.randrange(10 * MINUTE, duration // 2, MINUTE) if late else 0
    restarts = rng.randint(1, 2) if resets else 0
    return Pod(
        name=name,
        start=start,
        resets=tuple(
            sorted(rng.randrange(start + 5 * MINUTE, duration, MINUTE) for _ in range(restarts))
        ),
        gaps=(_stretch(rng, duration, 3 * MINUTE, 45 * MINUTE),) if gaps else (),
    )


# --- Simulating the counters ---------------------------------------------------------------


def simulate(scenario: Scenario, rng: random.Random) -> Iterator[Sample]:
    """Every scraped sample of the scenario, oldest first, at ``BASE``-relative timestamps.

    Each pod's counters grow by whole numbers every interval (and keep counting through scrape
    gaps), drop to 0 at its restarts, and are scraped from its start. A 5xx series appears at
    the pod's first 5xx answer, as client libraries create labelled children lazily.
    """
    counters = {pod.name: dict.fromkeys(_series_keys(), 0.0) for pod in scenario.pods}
    seen: dict[str, set[str]] = {pod.name: set() for pod in scenario.pods}
    for step in range(scenario.duration // scenario.interval + 1):
        offset = step * scenario.interval
        for pod in scenario.pods:
            if offset < pod.start:
                continue
            values = counters[pod.name]
            if any(offset - scenario.interval < r <= offset for r in pod.resets):
                values.update(dict.fromkeys(values, 0.0))
            elif offset > pod.start:
                _count(values, scenario, offset, rng)
            if any(a <= offset < b for a, b in pod.gaps):
                continue
            jitter = rng.randint(-scenario.jitter, scenario.jitter) if scenario.jitter else 0
            yield from _scrape(scenario, pod, values, seen[pod.name], BASE + offset + jitter)


def _series_keys() -> list[str]:
    return ["ok", "err", *(f"le={b}" for b in BUCKETS), "jobs_ok", "jobs_failed"]


def _count(
    values: dict[str, float], scenario: Scenario, offset: Millis, rng: random.Random
) -> None:
    """Add one interval of traffic to a pod's counters."""
    traffic = scenario.traffic
    if traffic.idle_at(offset):
        return
    seconds = scenario.interval / SECOND
    requests = round(traffic.per_second * seconds * rng.uniform(0.5, 1.5))
    ratio = traffic.ratio_at(offset)
    errors = min(requests, round(requests * ratio * rng.uniform(0.5, 1.5)))
    values["err"] += errors
    values["ok"] += requests - errors
    # Latency: slow requests come with errors; cumulative buckets never decrease with le.
    over_1 = round(requests * ratio * rng.uniform(0.0, 0.5))
    over_03 = min(requests, over_1 + round(requests * rng.uniform(0.0, 0.01 + ratio)))
    over_01 = min(requests, over_03 + round(requests * rng.uniform(0.0, 0.2)))
    for bound, over in (("0.1", over_01), ("0.3", over_03), ("1", over_1), ("+Inf", 0)):
        values[f"le={bound}"] += requests - over
    jobs = round(traffic.per_second * seconds * 0.2 * rng.uniform(0.5, 1.5))
    failed = min(jobs, round(jobs * (ratio * 2 + 0.005) * rng.uniform(0.0, 2.0)))
    values["jobs_failed"] += failed
    values["jobs_ok"] += jobs - failed


def _scrape(
    scenario: Scenario, pod: Pod, values: dict[str, float], seen: set[str], at: Millis
) -> Iterator[Sample]:
    """The samples of one scrape of ``pod``."""
    base = (("instance", pod.name), ("job", "shop"), ("scenario", scenario.name))

    def sample(name: str, value: float, *extra: tuple[str, str]) -> Sample:
        return Sample(tuple(sorted((("__name__", name), *base, *extra))), at, value)

    if values["err"] > 0:
        seen.add("err")
    yield sample("http_requests_total", values["ok"], ("code", "200"))
    if "err" in seen:
        yield sample("http_requests_total", values["err"], ("code", "500"))
    for bound in BUCKETS:
        yield sample("http_request_duration_seconds_bucket", values[f"le={bound}"], ("le", bound))
    yield sample("http_request_duration_seconds_count", values["le=+Inf"])
    yield sample("jobs_total", values["jobs_ok"], ("outcome", "ok"))
    yield sample("jobs_total", values["jobs_failed"], ("outcome", "failed"))


SCENARIO_COUNT = 24


def all_scenarios() -> list[Scenario]:
    """The oracle's scenarios, ``s00`` to ``s23``, without their samples."""
    return [draw(i) for i in range(SCENARIO_COUNT)]
