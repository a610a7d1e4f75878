"""Metric providers for rollout analyses: the embedded store, the judge, burn rates, counters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.app.providers import (
    BurnRateProvider,
    CounterRatioProvider,
    JudgeProvider,
    Providers,
    QueryProvider,
    SLIProvider,
)
from opsplane.domain.analysis import AnalysisMetric, AnalysisRun
from opsplane.domain.canary import CanaryConfig, MetricConfig, ScoreThresholds
from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.evaluation import SLOStatus, WindowStatus
from opsplane.errors import DatasourceError
from opsplane.ports import Sample
from opsplane.testing import FunctionMetricProvider
from tests.domain.builders import shop_slo

T0 = 1_767_225_600_000
SLO = shop_slo()


@pytest.fixture
def store() -> Iterator[MetricStore]:
    """The embedded store holding 10 minutes of shop traffic: 100 req/s, 2 % of them 5xx."""
    opened = MetricStore.in_memory()
    samples = []
    for i in range(41):  # every 15 s
        at = T0 - 10 * MINUTE + i * 15_000
        for code, per_second in (("200", 98), ("500", 2)):
            labels = (("__name__", "http_requests_total"), ("code", code), ("job", "shop"))
            samples.append(Sample(labels, at, float(per_second * 15 * i)))
    opened.append(samples)
    try:
        yield opened
    finally:
        opened.close()


def metric(query: str, condition: str = "result[0] < 0.05", provider: str = "") -> AnalysisMetric:
    return AnalysisMetric("m", success_condition=condition, query=query, provider=provider)


def test_the_sli_provider_reads_an_slos_error_ratio_from_the_embedded_store(
    store: MetricStore,
) -> None:
    provider = SLIProvider(store, {SLO.id: SLO}, window=5 * MINUTE)
    measured = provider.measure(metric(SLO.id), T0)
    assert measured.phase == "Successful"
    assert float(measured.value.strip("[]")) == pytest.approx(0.02)
    strict = provider.measure(metric(f"{SLO.id}[1m]", "result[0] < 0.01"), T0)
    assert strict.phase == "Failed"


def test_an_sli_without_data_is_an_error_measurement(store: MetricStore) -> None:
    provider = SLIProvider(store, {SLO.id: SLO})
    measured = provider.measure(metric(SLO.id), T0 - HOUR)
    assert measured.phase == "Error"
    assert "no data" in measured.message
    with pytest.raises(DatasourceError, match="no SLO"):
        provider.measure(metric("nope"), T0)
    with pytest.raises(DatasourceError, match="invalid duration"):
        provider.measure(metric(f"{SLO.id}[soon]"), T0)


def test_the_query_provider_returns_the_vector_as_argo_does(store: MetricStore) -> None:
    provider = QueryProvider(store.instant)
    by_code = provider.measure(
        metric('rate(http_requests_total{job="shop"}[5m])', "result[1] < 5"), T0
    )
    assert (by_code.phase, by_code.value) == ("Successful", "[98.0,2.0]")


def test_the_counter_provider_measures_only_the_requests_since_the_last_measurement() -> None:
    counts = {"canary": (100, 0)}
    provider = CounterRatioProvider(counts.get)
    assert provider.measure(metric("canary"), T0).value == "[0.0]"
    counts["canary"] = (200, 50)  # the canary turned bad: half of the new requests fail
    turned = provider.measure(metric("canary"), T0 + 1)
    assert (turned.phase, turned.value) == ("Failed", "[0.5]")
    idle = provider.measure(metric("canary"), T0 + 2)
    assert idle.phase == "Error"  # no new request: no data
    with pytest.raises(DatasourceError, match="no counters"):
        provider.measure(metric("stable"), T0)


CANARY = CanaryConfig((MetricConfig("latency", groups=("performance",), direction="increase"),))


@pytest.mark.parametrize(
    ("shift", "phase"),
    [(0.0, "Successful"), (5.0, "Failed")],
    ids=["an experiment like its control passes", "one far slower fails"],
)
def test_the_judge_provider_gives_the_verdicts_phase(shift: float, phase: str) -> None:
    control = [1.0 + 0.01 * i for i in range(50)]
    experiment = [v + shift for v in control]
    provider = JudgeProvider(
        CANARY,
        ScoreThresholds(95, 75),
        lambda m, at: ({"latency": control}, {"latency": experiment}),
    )
    measured = provider.measure(AnalysisMetric("judge"), T0)
    assert measured.phase == phase
    with_condition = provider.measure(
        AnalysisMetric("judge", success_condition="result.score >= 0"), T0
    )
    assert with_condition.phase == "Successful"


def status(burn_5m: float | None, burn_1h: float) -> SLOStatus:
    windows = (WindowStatus(HOUR, 0.01, burn_1h), WindowStatus(5 * MINUTE, 0.02, burn_5m))
    return SLOStatus(SLO.id, "shop", "availability", 99.9, "30d", T0, T0, windows, 0.0, 1, 0, ())


def test_the_burn_rate_provider_reads_the_engines_latest_status() -> None:
    provider = BurnRateProvider(lambda: [status(20.0, 10.0)])
    shortest = provider.measure(metric(SLO.id, "result[0] < 14.4"), T0)
    assert (shortest.phase, shortest.value) == ("Failed", "[20.0]")
    hour = provider.measure(metric(f"{SLO.id}[1h]", "result[0] < 14.4"), T0)
    assert hour.phase == "Successful"
    with pytest.raises(DatasourceError, match="has windows 5m, 1h"):
        provider.measure(metric(f"{SLO.id}[6h]"), T0)
    assert (
        BurnRateProvider(lambda: [status(None, 1.0)]).measure(metric(SLO.id), T0).phase == "Error"
    )


def test_providers_dispatch_by_name_and_an_unknown_name_errors_the_measurement() -> None:
    providers = Providers({"fixed": FunctionMetricProvider(lambda m, at: [0.01])}, default="fixed")
    assert providers.measure(metric("x"), T0).phase == "Successful"
    run = AnalysisRun.start([metric("x", provider="prometheus")], T0).tick(T0, providers.measure)
    [measured] = run.result("m").measurements
    assert measured.phase == "Error"
    assert "no provider 'prometheus' (known: fixed)" in measured.message
