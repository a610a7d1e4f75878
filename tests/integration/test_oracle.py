"""The oracle: on the same samples, opsplane's engine and Prometheus agree (issue 4's must-show).

Each scenario of ``scenarios.py`` (24, drawn from ``random.Random(i)``: steady traffic, error
spikes, counter resets, scrape gaps, idle stretches, late series, 1-minute, 30 s and 15 s
scrapes, three hours to two days, three SLOs each: events, latency histogram, good/total) is
generated once and fed to

- the embedded engine, ``MetricStore.in_memory()``, through ``append``; and
- a real Prometheus: every scenario's samples are backfilled into one TSDB with ``promtool tsdb
  create-blocks-from openmetrics`` (their ``scenario`` labels keep them apart) and served by one
  ``prometheus`` process for the whole module.

**Window ratios.** At about 40 instants per scenario (a 24-point grid on whole minutes from 2
minutes before the data to 15 minutes after it, ten one-minute steps across its first change,
and eight instants at arbitrary milliseconds), every window the evaluator reads (the catalog's
5m to 3d and the period) plus 1m and 10m, of every SLO, is read from ``MetricStore.error_ratios``
and from ``PrometheusReader.error_ratios`` (the compiled window-ratio queries). They agree to
1e-9 relative; ``None`` (no series) only with ``None``, NaN (0/0) only with NaN.

**Alert states.** For each 1-minute scenario, the native rules run in ``promtool test rules``
over a slice of at most 6 hours of its samples (moved to time 0), evaluated every minute with
recordings before alerts. At every minute of the slice and 20 minutes past it, opsplane's
evaluator, fed ``MetricStore`` ratios of the same slice and its own previous states, says which
alerts fire and which are pending; promtool fails unless Prometheus fires exactly those, with
the same labels and annotations (``alert_rule_test``), and holds exactly those pending
(``ALERTS{alertstate="pending"}``). A resolved alert is in neither, in Prometheus as in the
engine. Longer slices cost promtool quadratic time: every minute re-reads windows up to 30 days.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.adapters.prometheus import PrometheusReader
from opsplane.domain.duration import HOUR, MINUTE, format_duration
from opsplane.domain.evaluation import AlertStatus, SLOStatus
from opsplane.domain.evaluator import evaluate, evaluation_windows
from opsplane.domain.slo import SLO, Service
from opsplane.domain.windows import AlertWindows, catalog_for
from opsplane.ports import RatioRequest, Sample
from opsplane.render.prometheus import RuleOptions
from opsplane.render.prometheus.promql import label_filter
from opsplane.spec import load_paths
from opsplane.types import Millis
from tests.integration.prometheus_server import (
    Binaries,
    local_reader,
    prometheus_binaries,
    running_prometheus,
)
from tests.integration.promtool_series import (
    AlertTemplates,
    on_minutes,
    run_promtool_test,
    series_notation,
    write_test_file,
)
from tests.integration.scenarios import BASE, Scenario, all_scenarios, samples_of
from tests.render.promtool_helpers import write_rule_files

pytestmark = pytest.mark.promtool

SCENARIOS = all_scenarios()  # parameters only: the samples are made once, in a fixture
ONE_MINUTE = [s for s in SCENARIOS if s.interval == MINUTE]
RULES = RuleOptions(output="plain")
EXTRA_WINDOWS = (MINUTE, 10 * MINUTE)
"""Windows no catalog has: 1m holds one or two 1-minute samples, 10m is off the catalog grid."""
GRID_POINTS, DENSE_POINTS, ODD_POINTS = 24, 10, 8
ALERT_SPAN, ALERT_TAIL = 6 * HOUR, 20 * MINUTE


# --- Fixtures: the samples once, one Prometheus for the module -----------------------------


@pytest.fixture(scope="module")
def binaries() -> Binaries:
    return prometheus_binaries()


@pytest.fixture(scope="module")
def samples() -> dict[str, list[Sample]]:
    return {s.name: samples_of(s) for s in SCENARIOS}


@pytest.fixture(scope="module")
def reader(
    binaries: Binaries, samples: dict[str, list[Sample]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusReader]:
    every = [sample for series in samples.values() for sample in series]
    directory = tmp_path_factory.mktemp("prometheus")
    with running_prometheus(every, directory, binaries) as url, local_reader(url) as reader:
        yield reader


def load_service(scenario: Scenario, directory: Path) -> Service:
    path = directory / f"{scenario.name}.yaml"
    path.write_text(scenario.spec)
    loaded = load_paths([path])
    assert loaded.problems == []
    [service] = loaded.services
    return service


def catalog(slo: SLO) -> AlertWindows:
    found = catalog_for(slo.windows, RULES.period(slo), RULES.catalogs, derive=True)
    assert found is not None
    return found


def engine(samples: Sequence[Sample]) -> MetricStore:
    """An in-memory engine holding ``samples``; it must store every one of them."""
    store = MetricStore.in_memory()
    assert store.append(samples) == len(samples), f"samples refused: {store.stats}"
    return store


# --- Window ratios -------------------------------------------------------------------------


def instants(scenario: Scenario) -> list[Millis]:
    """When to compare: a grid, one-minute steps across the first change, odd milliseconds.

    The grid steps by whole minutes, so on jitter-free scrapes its instants fall exactly on
    sample timestamps, where a range's closed or open left end decides whether a sample counts.
    """
    rng = random.Random(scenario.index)
    end = scenario.duration + 15 * MINUTE
    step = max(MINUTE, math.ceil(end / GRID_POINTS / MINUTE) * MINUTE)
    first = scenario.events[0] if scenario.events else scenario.duration // 2
    offsets = {
        *range(-2 * MINUTE, end, step),
        *range(first - 2 * MINUTE, first + (DENSE_POINTS - 2) * MINUTE, MINUTE),
        *(rng.randrange(0, end) for _ in range(ODD_POINTS)),
    }
    return [BASE + t for t in sorted(offsets)]


def windows_of(slo: SLO) -> tuple[Millis, ...]:
    """Every window the evaluator reads (alert windows and the period), plus the extra ones."""
    read = evaluation_windows(slo, catalog(slo), RULES.default_period, BASE)
    return tuple(sorted({*read, *EXTRA_WINDOWS}))


def ratio_requests(slos: Sequence[SLO]) -> list[RatioRequest]:
    """One request per SLO for all of :func:`windows_of`."""
    return [RatioRequest(slo, windows_of(slo)) for slo in slos]


def agree(ours: float | None, theirs: float | None) -> bool:
    """Equal to 1e-9 relative; ``None`` only with ``None`` and NaN only with NaN."""
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if math.isnan(ours) or math.isnan(theirs):
        return math.isnan(ours) and math.isnan(theirs)
    return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-15)


def offset(delta: Millis) -> str:
    """``+1h5m``, ``-2m`` or ``+0s``: an instant relative to the start of the data."""
    return ("-" if delta < 0 else "+") + (format_duration(abs(delta)) or "0s")


def disagreements(
    scenario: Scenario,
    at: Millis,
    requests: Sequence[RatioRequest],
    ours: Sequence[Mapping[Millis, float | None]],
    theirs: Sequence[Mapping[Millis, float | None]],
) -> list[str]:
    """One line per window whose ratios differ, with the instant and both values."""
    return [
        f"{scenario.name} at {offset(at - BASE)} (t={at}) {r.slo.id} over {format_duration(w)}: "
        f"engine {mine.get(w)!r}, prometheus {other.get(w)!r}"
        for r, mine, other in zip(requests, ours, theirs, strict=True)
        for w in r.windows
        if not agree(mine.get(w), other.get(w))
    ]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_every_window_ratio_agrees_with_prometheus(
    scenario: Scenario,
    samples: dict[str, list[Sample]],
    reader: PrometheusReader,
    tmp_path: Path,
) -> None:
    requests = ratio_requests(load_service(scenario, tmp_path).slos)
    found: list[str] = []
    numbers = 0
    with engine(samples[scenario.name]) as store:
        for at in instants(scenario):
            theirs = reader.error_ratios(requests, at)
            ours = store.error_ratios(requests, at)
            found += disagreements(scenario, at, requests, ours, theirs)
            numbers += sum(v is not None and not math.isnan(v) for m in theirs for v in m.values())
    assert not found, f"{len(found)} window ratios differ:\n" + "\n".join(found[:40])
    assert numbers > 0, "Prometheus returned no ratio at all: the comparison proved nothing"


# --- Alert states --------------------------------------------------------------------------


def alert_slice(scenario: Scenario) -> tuple[Millis, Millis]:
    """``(start, length)`` of the samples promtool gets: from an hour before the first burn."""
    if scenario.duration <= ALERT_SPAN:
        return 0, scenario.duration
    burns = [start for start, _, _ in scenario.traffic.spikes] or scenario.events or [0]
    start = max(0, min(burns) - HOUR) // MINUTE * MINUTE
    return min(start, scenario.duration - ALERT_SPAN), ALERT_SPAN


def evaluator_timeline(
    slos: Sequence[SLO], samples: Sequence[Sample], minutes: int
) -> list[list[SLOStatus]]:
    """The engine's SLO statuses at every minute ``0..minutes``, alert states carried over."""
    requests = ratio_requests(slos)
    previous: dict[str, dict[str, AlertStatus]] = {slo.id: {} for slo in slos}
    timeline = []
    with engine(samples) as store:
        for at in range(0, minutes * MINUTE + 1, MINUTE):
            statuses = []
            for request, ratios in zip(requests, store.error_ratios(requests, at), strict=True):
                slo = request.slo
                status, _ = evaluate(
                    slo, catalog(slo), RULES.default_period, ratios, previous[slo.id], at=at
                )
                previous[slo.id] = {a.key: a for a in status.alerts}
                statuses.append(status)
            timeline.append(statuses)
    return timeline


def slo_ids(status: SLOStatus) -> dict[str, str]:
    """The id labels every alert of the SLO carries (its expressions' output labels)."""
    return {"sloth_id": status.slo_id, "sloth_service": status.service, "sloth_slo": status.slo}


def alert_rule_tests(
    timeline: Sequence[Sequence[SLOStatus]], templates: AlertTemplates
) -> list[dict[str, Any]]:
    """One promtool ``alert_rule_test`` per minute and alert name: what the engine fires."""
    tests = []
    for minute, statuses in enumerate(timeline):
        for status in statuses:
            for name in sorted({a.name for a in status.alerts}):
                exp = [
                    templates.expected(slo_ids(status), name, a.severity, a.key)
                    for a in status.alerts
                    if a.name == name and a.state == "firing"
                ]
                tests.append({"eval_time": f"{minute}m", "alertname": name, "exp_alerts": exp})
    return tests


def pending_tests(timeline: Sequence[Sequence[SLOStatus]], service: str) -> list[dict[str, Any]]:
    """One ``promql_expr_test`` per minute: the service's pending alerts in ``ALERTS``.

    ``alert_rule_test`` only sees firing alerts; Prometheus writes every pending and firing
    alert to the ``ALERTS`` series with an ``alertstate`` label, so this checks the rest of
    the observable state (a resolved alert is no longer in ``ALERTS``).
    """
    tests = []
    for minute, statuses in enumerate(timeline):
        exp = []
        for status in statuses:
            for a in (a for a in status.alerts if a.state == "pending"):
                labels = {
                    "alertname": a.name,
                    "alertstate": "pending",
                    "severity": a.severity,
                    "sloth_severity": a.key,
                    **slo_ids(status),
                }
                exp.append({"labels": "ALERTS" + label_filter(labels), "value": 1})
        expr = f'ALERTS{{alertstate="pending",sloth_service="{service}"}}'
        tests.append({"expr": expr, "eval_time": f"{minute}m", "exp_samples": exp})
    return tests


def promtool_report(stdout: str, stderr: str, lines: int = 60) -> str:
    """promtool's report without its blank lines, cut to ``lines``."""
    kept = [line for line in (stdout + stderr).splitlines() if line.strip()]
    return "\n".join(kept[:lines])


Timelines = dict[str, list[list[SLOStatus]]]


@pytest.fixture(scope="module")
def timelines() -> Timelines:
    """The engine's alert timeline of each 1-minute scenario, shared with the coverage test."""
    return {}


def sliced_samples(scenario: Scenario, samples: Sequence[Sample]) -> list[Sample]:
    """The scenario's samples inside its alert slice, on whole minutes from time 0."""
    start, length = alert_slice(scenario)
    return [s for s in on_minutes(samples, BASE + start) if 0 <= s.timestamp <= length]


def timeline_of(
    scenario: Scenario, service: Service, sliced: Sequence[Sample], timelines: Timelines
) -> list[list[SLOStatus]]:
    if scenario.name not in timelines:
        minutes = (alert_slice(scenario)[1] + ALERT_TAIL) // MINUTE
        timelines[scenario.name] = evaluator_timeline(service.slos, sliced, minutes)
    return timelines[scenario.name]


@pytest.mark.parametrize("scenario", ONE_MINUTE, ids=lambda s: s.id)
def test_every_alert_state_agrees_with_promtool(
    scenario: Scenario,
    samples: dict[str, list[Sample]],
    binaries: Binaries,
    timelines: Timelines,
    tmp_path: Path,
) -> None:
    service = load_service(scenario, tmp_path)
    sliced = sliced_samples(scenario, samples[scenario.name])
    timeline = timeline_of(scenario, service, sliced, timelines)
    rule_files = write_rule_files([service], RULES, tmp_path)
    tests = alert_rule_tests(timeline, AlertTemplates(rule_files))
    test_file = write_test_file(
        tmp_path / "oracle.json", rule_files, series_notation(sliced), tests
    )
    proc = run_promtool_test(binaries.promtool, test_file)
    if proc.returncode != 0:
        start = format_duration(alert_slice(scenario)[0]) or "0s"
        pytest.fail(
            f"Prometheus' alerts differ from the engine's (minute 0 is +{start}):\n"
            + promtool_report(proc.stdout, proc.stderr)
        )


def test_the_alert_scenarios_fire_and_resolve_every_kind_of_alert(
    samples: dict[str, list[Sample]], timelines: Timelines, tmp_path: Path
) -> None:
    # Agreement on alerts that never fire would prove little: the scenarios must make the
    # page, the ticket and the no-data alert fire, and some of them resolve, somewhere.
    for scenario in ONE_MINUTE:
        service = load_service(scenario, tmp_path)
        timeline_of(scenario, service, sliced_samples(scenario, samples[scenario.name]), timelines)
    seen = {
        (alert.key, alert.state)
        for timeline in timelines.values()
        for statuses in timeline
        for status in statuses
        for alert in status.alerts
    }
    for key in ("page", "ticket", "no_data"):
        assert (key, "firing") in seen, f"no scenario makes the {key} alert fire"
    assert {k for k, state in seen if state == "resolved"}, "no alert ever resolves"


# --- The scenarios themselves --------------------------------------------------------------


def test_the_scenarios_cover_what_the_oracle_must_show() -> None:
    kinds = {s.kind for s in SCENARIOS}
    assert len(SCENARIOS) >= 20
    assert {"steady", "spikes", "resets", "gaps", "idle", "late", "mixed"} <= kinds
    assert any(pod.resets for s in SCENARIOS for pod in s.pods), "no counter reset"
    assert any(pod.gaps for s in SCENARIOS for pod in s.pods), "no scrape gap"
    assert any(pod.start for s in SCENARIOS for pod in s.pods), "no series appearing late"
    assert any(s.traffic.idle for s in SCENARIOS), "no idle stretch (flat counters)"
    assert {s.interval for s in SCENARIOS} == {15_000, 30_000, MINUTE}
    durations = [s.duration for s in SCENARIOS]
    assert min(durations) <= 4 * HOUR
    assert max(durations) == 48 * HOUR
