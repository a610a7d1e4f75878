"""PrometheusQuery runs an analysis metric's PromQL against a real Prometheus server.

The server is Debian's ``prometheus`` on backfilled samples (``tests/integration/
prometheus_server.py``); the test is skipped, with the reason, when the binary is absent, and
fails in CI. Everything asserted is what Prometheus answered, through the same path a rollout
takes: ``Providers`` -> ``QueryProvider`` -> ``PrometheusQuery.instant``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from opsplane.adapters.prometheus_query import PrometheusQuery
from opsplane.app.providers import Providers, QueryProvider
from opsplane.domain.analysis import AnalysisMetric, AnalysisRun
from opsplane.domain.duration import MINUTE
from opsplane.errors import DatasourceError
from opsplane.ports import Sample
from tests.integration.prometheus_server import free_port, running_prometheus

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
BY_CODE = 'sum by (code) (rate(http_requests_total{job="shop"}[5m]))'


def shop_samples() -> list[Sample]:
    """Ten minutes of shop traffic every 15 s: 98 req/s answered 200, 2 req/s answered 500."""
    samples = []
    for i in range(41):
        at = T0 - 10 * MINUTE + i * 15_000
        for code, per_second in (("200", 98), ("500", 2)):
            labels = (
                ("__name__", "http_requests_total"),
                ("code", code),
                ("instance", "a"),
                ("job", "shop"),
            )
            samples.append(Sample(labels, at, float(per_second * 15 * i)))
    return samples


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusQuery]:
    directory = tmp_path_factory.mktemp("prometheus")
    with (
        running_prometheus(shop_samples(), directory) as url,
        httpx.Client(trust_env=False) as client,
    ):
        yield PrometheusQuery(url, client=client)


def metric(query: str, condition: str) -> AnalysisMetric:
    return AnalysisMetric("m", success_condition=condition, provider="prometheus", query=query)


def test_an_instant_query_returns_each_series_by_its_labels(prometheus: PrometheusQuery) -> None:
    vector = prometheus.instant(BY_CODE, T0)
    assert vector.keys() == {(("code", "200"),), (("code", "500"),)}
    assert vector[(("code", "200"),)] == pytest.approx(98.0)
    assert vector[(("code", "500"),)] == pytest.approx(2.0)
    assert prometheus.instant("scalar(vector(2)) * 3", T0) == {(): 6.0}
    assert prometheus.instant('http_requests_total{job="nope"}', T0) == {}


def test_a_prometheus_analysis_metric_is_judged_on_the_vector_as_argo_does(
    prometheus: PrometheusQuery,
) -> None:
    providers = Providers({"prometheus": QueryProvider(prometheus.instant)})
    ok = providers.measure(metric(BY_CODE, "result[1] < 5"), T0)
    assert (ok.phase, ok.value) == ("Successful", "[98.0,2.0]")
    ratio = (
        'sum(rate(http_requests_total{job="shop",code=~"5.."}[5m]))'
        ' / sum(rate(http_requests_total{job="shop"}[5m]))'
    )
    assert providers.measure(metric(ratio, "result[0] <= 0.001"), T0).phase == "Failed"
    no_data = providers.measure(metric('up{job="nope"}', "result[0] == 1"), T0)
    assert no_data.phase == "Error"

    run = AnalysisRun.start([metric(ratio, "result[0] < 0.05")], T0).tick(T0, providers.measure)
    assert run.phase == "Successful"


def test_a_bad_query_or_an_unreachable_server_is_a_datasource_error(
    prometheus: PrometheusQuery,
) -> None:
    with pytest.raises(DatasourceError, match=r"bad_data: .*parse error"):
        prometheus.instant("sum(", T0)
    with pytest.raises(DatasourceError, match="returns a matrix"):
        prometheus.instant('http_requests_total{job="shop"}[1m]', T0)
    secret = f"http://user:hunter2@127.0.0.1:{free_port()}"
    with (
        httpx.Client(trust_env=False) as client,
        pytest.raises(DatasourceError, match="cannot reach Prometheus") as caught,
    ):
        PrometheusQuery(secret, client=client, timeout=2.0).instant("up", T0)
    assert "hunter2" not in str(caught.value)
    run = AnalysisRun.start([metric("sum(", "result[0] < 1")], T0)
    measured = run.tick(T0, Providers({"prometheus": QueryProvider(prometheus.instant)}).measure)
    assert measured.results[0].error == 1
