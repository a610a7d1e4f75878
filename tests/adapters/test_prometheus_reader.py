"""PrometheusReader asks Prometheus the compiled window-ratio queries and reads its answers.

The server here is a fake Prometheus behind ``httpx.MockTransport``: it serves
``/api/v1/query`` (GET or form POST, as Prometheus does) and answers each ``(query, time)`` it
knows with a response shaped like Prometheus 2.42's, and anything else with an empty vector, as
Prometheus answers a query whose series do not exist. Tests assert on what the reader returns or
raises, never on how it was called.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from opsplane.adapters.prometheus import PrometheusReader
from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.slo import SLO, EventsSLI, LatencySLI
from opsplane.domain.windows import GOOGLE_30D
from opsplane.errors import DatasourceError
from opsplane.ports import RatioRequest, Sample
from opsplane.render.prometheus.native import sli_rules
from tests.integration.prometheus_server import (
    free_port,
    local_reader,
    prometheus_binaries,
    running_prometheus,
)

AT = 1_700_000_000_500  # 2023-11-14T22:13:20.5Z
AT_API = "1700000000.5"  # what Prometheus' API expects in ``time``
BASE = "http://prometheus.test:9090"

SHOP = SLO(
    service="shop",
    name="availability",
    objective=99.9,
    sli=EventsSLI(
        error_query='sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))',
        total_query='sum(rate(http_requests_total{job="shop"}[{{.window}}]))',
    ),
)
LATENCY = SLO(
    service="shop",
    name="latency",
    objective=99,
    sli=LatencySLI(metric="http_request_duration_seconds", threshold=0.3, selector='job="shop"'),
)


def recorded_expr(slo: SLO, window: str) -> str:
    """The expression of the SLO's ``slo:sli_error:ratio_rate<window>`` recording rule."""
    for rule in sli_rules(slo, GOOGLE_30D, {}):
        if rule["record"] == f"slo:sli_error:ratio_rate{window}":
            return str(rule["expr"])
    raise AssertionError(f"no ratio_rate{window} rule for {slo.id}")


def vector(*values: str) -> dict[str, Any]:
    """A successful instant-query answer, one series per value (Prometheus 2.42's shape).

    A lone value has no labels, as after ``sum()``; several are told apart by ``pod``.
    """
    result = [
        {"metric": {"pod": str(i)} if len(values) > 1 else {}, "value": [AT / 1000, v]}
        for i, v in enumerate(values)
    ]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


def api_error(kind: str, text: str) -> dict[str, Any]:
    """Prometheus' error envelope (``web/api/v1``'s ``apiError``)."""
    return {"status": "error", "errorType": kind, "error": text}


class FakePrometheus:
    """A Prometheus that knows a few ``(query, time)`` answers.

    Args:
        answers: JSON bodies (status 200) by ``(query, time)``; unknown pairs get an empty vector.
        prefix: The path the API is served under (Thanos and Mimir put one in front).
        basic_auth: ``(user, password)`` the server requires, like ``web.config`` would.
    """

    def __init__(
        self,
        answers: Mapping[tuple[str, str], dict[str, Any] | httpx.Response],
        *,
        prefix: str = "",
        basic_auth: tuple[str, str] | None = None,
    ) -> None:
        self.answers = dict(answers)
        self.prefix = prefix
        self.basic_auth = basic_auth

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != self.prefix + "/api/v1/query":
            return httpx.Response(404, text="404 page not found\n")
        if self.basic_auth is not None and not self._authorized(request):
            return httpx.Response(401, text="Unauthorized\n")
        params = dict(request.url.params)
        if request.method == "POST":
            params.update(httpx.QueryParams(request.content.decode()))
        answer = self.answers.get((params.get("query", ""), params.get("time", "")), vector())
        return answer if isinstance(answer, httpx.Response) else httpx.Response(200, json=answer)

    def _authorized(self, request: httpx.Request) -> bool:
        assert self.basic_auth is not None
        user, password = self.basic_auth
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        sent: str | None = request.headers.get("authorization")
        return sent == f"Basic {token}"


def reader_for(
    handler: Callable[[httpx.Request], httpx.Response], base: str = BASE
) -> PrometheusReader:
    return PrometheusReader(base, client=httpx.Client(transport=httpx.MockTransport(handler)))


def ratios(reader: PrometheusReader, slo: SLO, *windows: int) -> dict[int, float | None]:
    [answer] = reader.error_ratios([RatioRequest(slo, windows)], AT)
    return dict(answer)


# --- Queries and values --------------------------------------------------------------------


def test_each_window_is_the_recorded_ratio_expression_asked_at_the_evaluation_time() -> None:
    fake = FakePrometheus(
        {
            (recorded_expr(SHOP, "5m"), AT_API): vector("0.02"),
            (recorded_expr(SHOP, "1h"), AT_API): vector("0.0015"),
            (recorded_expr(SHOP, "3d"), AT_API): vector("0.0004"),
        }
    )
    got = ratios(reader_for(fake), SHOP, 5 * MINUTE, HOUR, 3 * DAY)
    assert got == {5 * MINUTE: 0.02, HOUR: 0.0015, 3 * DAY: 0.0004}


def test_a_latency_sli_is_read_through_its_bucket_ratio_expression() -> None:
    fake = FakePrometheus({(recorded_expr(LATENCY, "30m"), AT_API): vector("0.125")})
    assert ratios(reader_for(fake), LATENCY, 30 * MINUTE) == {30 * MINUTE: 0.125}


def test_a_window_without_series_has_no_ratio() -> None:
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): vector("0.5")})
    assert ratios(reader_for(fake), SHOP, 5 * MINUTE, HOUR) == {5 * MINUTE: 0.5, HOUR: None}


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ("NaN", math.isnan),
        ("+Inf", lambda x: x == math.inf),
        ("0", lambda x: x == 0.0),
        ("1e-05", lambda x: x == 1e-05),
    ],
    ids=[
        "NaN (0/0, a window with series but no traffic) stays NaN",
        "+Inf stays infinite",
        "0 is a ratio of zero, not missing data",
        "exponent notation is read exactly",
    ],
)
def test_sample_values_are_read_as_prometheus_writes_them(
    text: str, check: Callable[[float], bool]
) -> None:
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): vector(text)})
    value = ratios(reader_for(fake), SHOP, 5 * MINUTE)[5 * MINUTE]
    assert value is not None
    assert check(value)


def test_a_scalar_result_is_read_as_the_ratio() -> None:
    answer = {"status": "success", "data": {"resultType": "scalar", "result": [1.7e9, "0.25"]}}
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): answer})
    assert ratios(reader_for(fake), SHOP, 5 * MINUTE) == {5 * MINUTE: 0.25}


def test_several_slos_and_many_windows_come_back_in_request_order() -> None:
    windows = tuple(sorted(GOOGLE_30D.durations()))
    answers = {}
    for k, slo in enumerate((SHOP, LATENCY)):
        for i, w in enumerate(("5m", "30m", "1h", "2h", "6h", "1d", "3d")):
            answers[(recorded_expr(slo, w), AT_API)] = vector(f"{k}.{i}")
    reader = reader_for(FakePrometheus(answers))
    got = reader.error_ratios([RatioRequest(SHOP, windows), RatioRequest(LATENCY, windows)], AT)
    assert [list(m.values()) for m in got] == [
        [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        [1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6],
    ]
    assert [list(m) for m in got] == [list(windows), list(windows)]


def test_no_requests_ask_nothing_and_answer_nothing() -> None:
    assert reader_for(FakePrometheus({})).error_ratios([], AT) == []


# --- Where the server lives ----------------------------------------------------------------


def test_a_path_prefixed_base_url_queries_below_the_prefix() -> None:
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): vector("0.5")}, prefix="/prom")
    reader = reader_for(fake, "http://thanos.test/prom/")
    assert ratios(reader, SHOP, 5 * MINUTE) == {5 * MINUTE: 0.5}


def test_user_info_in_the_url_is_sent_as_basic_auth() -> None:
    fake = FakePrometheus(
        {(recorded_expr(SHOP, "5m"), AT_API): vector("0.5")}, basic_auth=("ops", "s3cret")
    )
    reader = reader_for(fake, "http://ops:s3cret@prometheus.test:9090")
    assert ratios(reader, SHOP, 5 * MINUTE) == {5 * MINUTE: 0.5}


def test_an_error_message_never_shows_the_password_of_the_url() -> None:
    fake = FakePrometheus({}, basic_auth=("ops", "other"))
    reader = reader_for(fake, "http://ops:s3cret@prometheus.test:9090")
    with pytest.raises(DatasourceError, match="HTTP 401") as caught:
        ratios(reader, SHOP, 5 * MINUTE)
    assert "s3cret" not in str(caught.value)
    assert "http://prometheus.test:9090/api/v1/query" in str(caught.value)


# --- Answers that cannot be used -----------------------------------------------------------


def test_more_than_one_series_is_refused_naming_the_slo() -> None:
    fake = FakePrometheus({(recorded_expr(SHOP, "1h"), AT_API): vector("0.1", "0.2", "0.3")})
    with pytest.raises(
        DatasourceError,
        match=r"shop-availability over 1h: the SLI query returns 3 series; "
        "it must aggregate to one",
    ):
        ratios(reader_for(fake), SHOP, 5 * MINUTE, HOUR)


def test_a_query_prometheus_rejects_carries_its_error_text_and_the_url() -> None:
    rejected = httpx.Response(400, json=api_error("bad_data", '1:6: parse error: unexpected "}"'))
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): rejected})
    with pytest.raises(DatasourceError) as caught:
        ratios(reader_for(fake), SHOP, 5 * MINUTE)
    assert str(caught.value) == (
        "shop-availability over 5m: Prometheus at http://prometheus.test:9090/api/v1/query "
        'answered HTTP 400, bad_data: 1:6: parse error: unexpected "}"'
    )


def test_an_error_status_in_a_200_answer_is_an_error() -> None:
    fake = FakePrometheus(
        {(recorded_expr(SHOP, "5m"), AT_API): api_error("execution", "query timed out")}
    )
    with pytest.raises(DatasourceError, match="HTTP 200, execution: query timed out"):
        ratios(reader_for(fake), SHOP, 5 * MINUTE)


def test_a_body_that_is_not_json_is_an_error_naming_the_status() -> None:
    fake = FakePrometheus(
        {(recorded_expr(SHOP, "5m"), AT_API): httpx.Response(502, text="<html>Bad Gateway")}
    )
    with pytest.raises(DatasourceError, match="HTTP 502 with a body that is not JSON"):
        ratios(reader_for(fake), SHOP, 5 * MINUTE)


def test_a_matrix_result_is_refused() -> None:
    answer = {"status": "success", "data": {"resultType": "matrix", "result": []}}
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): answer})
    with pytest.raises(DatasourceError, match="returns a matrix; it must return a vector"):
        ratios(reader_for(fake), SHOP, 5 * MINUTE)


def test_a_malformed_sample_is_refused() -> None:
    answer = {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}}
    fake = FakePrometheus({(recorded_expr(SHOP, "5m"), AT_API): answer})
    with pytest.raises(DatasourceError, match="answered a malformed result"):
        ratios(reader_for(fake), SHOP, 5 * MINUTE)


# --- Transport failures --------------------------------------------------------------------


def refuse(request: httpx.Request) -> httpx.Response:
    """What the transport does when nothing listens on the port."""
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def hang(request: httpx.Request) -> httpx.Response:
    """What the transport does when the server never answers in time."""
    raise httpx.ReadTimeout("timed out", request=request)


def test_an_unreachable_server_is_a_datasource_error_raised_from_the_cause() -> None:
    with pytest.raises(DatasourceError) as caught:
        ratios(reader_for(refuse, "http://ops:s3cret@prometheus.test:9090"), SHOP, 5 * MINUTE)
    assert str(caught.value) == (
        "shop-availability over 5m: cannot reach Prometheus at "
        "http://prometheus.test:9090/api/v1/query: [Errno 111] Connection refused"
    )
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_a_server_that_does_not_answer_in_time_is_a_datasource_error() -> None:
    reader = PrometheusReader(
        BASE, client=httpx.Client(transport=httpx.MockTransport(hang)), timeout=2.5
    )
    with pytest.raises(DatasourceError, match=r"did not answer within 2\.5s") as caught:
        ratios(reader, SHOP, 5 * MINUTE, HOUR)
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


def test_a_reader_closes_the_client_it_created_but_not_one_it_was_given() -> None:
    given = httpx.Client(transport=httpx.MockTransport(FakePrometheus({})))
    with PrometheusReader(BASE, client=given):
        pass
    assert not given.is_closed
    with PrometheusReader(BASE) as own:
        pass
    assert own._query._client.is_closed


# --- Against a real Prometheus -------------------------------------------------------------

LIVE_START = 1_704_067_200_000  # 2024-01-01T00:00:00Z: fixed, in the past, within retention


def live_samples() -> list[Sample]:
    """Two hours of 1-minute samples: 1000 requests a minute, 10 of them 5xx, on two pods.

    ``idle_requests_total`` never moves (a service without traffic), and
    ``pod_requests_total`` keeps one series per pod (an SLI query that forgets to aggregate).
    """
    samples = []
    for minute in range(121):
        t = LIVE_START + minute * MINUTE
        for pod in ("a", "b"):
            for code, per_minute in (("200", 495), ("500", 5)):
                labels = (("__name__", "http_requests_total"), ("code", code), ("pod", pod))
                samples.append(Sample(labels, t, float(per_minute * minute)))
            samples.append(Sample((("__name__", "pod_requests_total"), ("pod", pod)), t, minute))
        samples.append(Sample((("__name__", "idle_requests_total"),), t, 7.0))
    return samples


def events_slo(name: str, errors: str, total: str, *, aggregate: str = "sum") -> SLO:
    """An events SLO over ``<aggregate>(rate(<selector>[{{.window}}]))`` queries."""

    def query(selector: str) -> str:
        rate = f"rate({selector}[{{{{.window}}}}])"
        return f"{aggregate}({rate})" if aggregate else rate

    return SLO("live", name, 99.9, EventsSLI(query(errors), query(total)))


@pytest.fixture(scope="module")
def live_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusReader]:
    binaries = prometheus_binaries()
    directory = tmp_path_factory.mktemp("prometheus")
    with running_prometheus(live_samples(), directory, binaries) as url, local_reader(url) as r:
        yield r


def test_a_real_prometheus_answers_ratios_none_and_nan(live_reader: PrometheusReader) -> None:
    busy = events_slo("busy", 'http_requests_total{code=~"5.."}', "http_requests_total")
    idle = events_slo("idle", "idle_requests_total", "idle_requests_total")
    ghost = events_slo("ghost", "nothing_total", "nothing_total")
    windows = (5 * MINUTE, HOUR)
    got = live_reader.error_ratios(
        [RatioRequest(s, windows) for s in (busy, idle, ghost)], LIVE_START + 90 * MINUTE
    )
    # 10 of 1000 requests a minute fail in every window inside the data.
    assert [v is not None and math.isclose(v, 0.01) for v in got[0].values()] == [True, True]
    # Flat counters: 0/0 is NaN; a selector that matches nothing returns no series at all.
    assert [v is not None and math.isnan(v) for v in got[1].values()] == [True, True]
    assert got[2] == {5 * MINUTE: None, HOUR: None}


def test_a_real_prometheus_answer_with_one_series_per_pod_is_refused(
    live_reader: PrometheusReader,
) -> None:
    per_pod = events_slo("per-pod", "pod_requests_total", "pod_requests_total", aggregate="")
    with pytest.raises(DatasourceError, match="returns 2 series; it must aggregate to one"):
        live_reader.error_ratios([RatioRequest(per_pod, (HOUR,))], LIVE_START + 90 * MINUTE)


def test_a_real_prometheus_rejecting_a_query_explains_why(live_reader: PrometheusReader) -> None:
    broken = events_slo("broken", "http_requests_total{", "http_requests_total")
    with pytest.raises(DatasourceError, match=r"answered HTTP 400, bad_data: .*parse error"):
        live_reader.error_ratios([RatioRequest(broken, (HOUR,))], LIVE_START)


def test_nothing_listening_on_the_port_is_a_datasource_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with PrometheusReader(url) as reader, pytest.raises(DatasourceError, match="cannot reach"):
        reader.error_ratios([RatioRequest(SHOP, (HOUR,))], LIVE_START)
