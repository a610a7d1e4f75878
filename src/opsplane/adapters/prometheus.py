"""SLI error ratios from a Prometheus server (or Thanos, Mimir) over its HTTP API.

:class:`PrometheusReader` answers :class:`opsplane.ports.SLIReader` with the very queries the
rule compiler records: for every SLO and window, the native window-ratio expression with
``{{.window}}`` filled in, sent to ``/api/v1/query`` as an instant query at the evaluation time
(https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries). The embedded
store answers the same port, so ``slo status --prometheus URL`` and ``--db URL`` print the same
numbers for the same samples.

Credentials in the base URL (``http://user:secret@host:9090``) are sent as HTTP basic auth and
never appear in an error message: every message names the URL without its user info.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from opsplane.adapters.closing import Closing
from opsplane.domain.duration import format_duration
from opsplane.domain.slo import SLO
from opsplane.errors import DatasourceError
from opsplane.ports import RatioRequest
from opsplane.render.prometheus.native import error_ratio_template
from opsplane.render.prometheus.promql import with_window
from opsplane.types import Millis

QUERY_PATH = "/api/v1/query"
DEFAULT_CONCURRENCY = 8
"""Queries in flight at once: enough to hide HTTP latency, few enough not to swamp a server."""


@dataclass(frozen=True, slots=True)
class _Query:
    """One instant query: the error ratio of ``slo`` over ``window``."""

    slo: SLO
    window: Millis
    promql: str

    def describe(self) -> str:
        """``<slo id> over <window>``, for error messages."""
        return f"{self.slo.id} over {format_duration(self.window)}"


class PrometheusReader(Closing):
    """An :class:`~opsplane.ports.SLIReader` backed by the Prometheus HTTP API.

    Args:
        base_url: The server's root, e.g. ``http://prometheus:9090`` or a path-prefixed
            ``https://user:secret@thanos.example/prometheus``; user info becomes basic auth.
        client: An ``httpx.Client`` to send requests with (tests pass one with an
            ``httpx.MockTransport``); by default the reader creates and owns one.
        timeout: Seconds allowed for each query.
        concurrency: How many queries are in flight at once.
    """

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        url = httpx.URL(base_url)
        self._auth = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
        root = url.copy_with(userinfo=b"", query=None, fragment=None)
        self.query_url = root.copy_with(path=root.path.rstrip("/") + QUERY_PATH)
        """The instant-query endpoint, without credentials: safe to show."""
        self._client = client if client is not None else httpx.Client()
        self._owns_client = client is None
        self._timeout = timeout
        self._concurrency = max(1, concurrency)

    def error_ratios(
        self, requests: Sequence[RatioRequest], at: Millis
    ) -> list[Mapping[Millis, float | None]]:
        """For each request, ``{window: error ratio}`` at ``at``; ``None`` where no series.

        Raises:
            DatasourceError: Prometheus is unreachable, too slow, refuses a query, or a query
                returns more than one series. The first failing query (in request order) wins.
        """
        queries = [
            _Query(r.slo, w, with_window(template, w))
            for r in requests
            for template in (error_ratio_template(r.slo),)
            for w in r.windows
        ]
        values = iter(self._run_all(queries, at))
        return [{w: next(values) for w in r.windows} for r in requests]

    def _run_all(self, queries: Sequence[_Query], at: Millis) -> list[float | None]:
        """Run ``queries`` on a bounded thread pool; results in query order."""
        if not queries:
            return []
        pool = ThreadPoolExecutor(max_workers=min(self._concurrency, len(queries)))
        try:
            return list(pool.map(lambda q: self._instant(q, at), queries))
        finally:
            # On a failure, queries not yet started are dropped rather than run to no purpose.
            pool.shutdown(wait=True, cancel_futures=True)

    def _instant(self, query: _Query, at: Millis) -> float | None:
        """Send one instant query and return its single value (or ``None``)."""
        form = {"query": query.promql, "time": _api_time(at)}
        try:
            response = self._client.post(
                self.query_url,
                data=form,
                auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            msg = (
                f"{query.describe()}: Prometheus at {self.query_url} did not answer "
                f"within {self._timeout:g}s"
            )
            raise DatasourceError(msg) from exc
        except httpx.HTTPError as exc:
            msg = f"{query.describe()}: cannot reach Prometheus at {self.query_url}: {exc}"
            raise DatasourceError(msg) from exc
        return self._parse(query, response)

    def _parse(self, query: _Query, response: httpx.Response) -> float | None:
        """The value of a ``/api/v1/query`` answer; API errors become ``DatasourceError``."""
        where = f"{query.describe()}: Prometheus at {self.query_url}"
        try:
            body = response.json()
        except ValueError as exc:
            msg = f"{where} answered HTTP {response.status_code} with a body that is not JSON"
            raise DatasourceError(msg) from exc
        if not isinstance(body, dict):
            msg = f"{where} answered HTTP {response.status_code} with an unexpected body"
            raise DatasourceError(msg)
        if response.is_error or body.get("status") != "success":
            kind = body.get("errorType", "error")
            text = body.get("error", "no error text")
            msg = f"{where} answered HTTP {response.status_code}, {kind}: {text}"
            raise DatasourceError(msg)
        try:
            return _single_value(query, body["data"])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            msg = f"{where} answered a malformed result: {exc!r}"
            raise DatasourceError(msg) from exc

    def close(self) -> None:
        """Close the HTTP client if the reader created it."""
        if self._owns_client:
            self._client.close()


def _single_value(query: _Query, data: Mapping[str, Any]) -> float | None:
    """The one value of a vector or scalar result; ``None`` for an empty vector.

    Prometheus writes sample values as strings (``"0.01"``, ``"NaN"``, ``"+Inf"``), all of which
    ``float`` reads.
    """
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        return float(result[1])
    if kind != "vector":
        msg = f"{query.describe()}: the SLI query returns a {kind}; it must return a vector"
        raise DatasourceError(msg)
    if not result:
        return None
    if len(result) > 1:
        msg = (
            f"{query.describe()}: the SLI query returns {len(result)} series; "
            "it must aggregate to one"
        )
        raise DatasourceError(msg)
    return float(result[0]["value"][1])


def _api_time(at: Millis) -> str:
    """Epoch milliseconds as the API's decimal seconds, exactly (``1500`` -> ``1.5``)."""
    return str(Decimal(at) / 1000)
