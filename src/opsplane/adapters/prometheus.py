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

import httpx

from opsplane.adapters.closing import Closing
from opsplane.adapters.prometheus_query import Labels, PrometheusQuery
from opsplane.domain.duration import format_duration
from opsplane.domain.slo import SLO
from opsplane.errors import DatasourceError
from opsplane.ports import RatioRequest
from opsplane.render.prometheus.native import error_ratio_template
from opsplane.render.prometheus.promql import with_window
from opsplane.types import Millis

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
        self._query = PrometheusQuery(base_url, client=client, timeout=timeout)
        self.query_url = self._query.query_url
        """The instant-query endpoint, without credentials: safe to show."""
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
        try:
            values = self._query.instant(query.promql, at)
        except DatasourceError as exc:  # name the SLO and window; keep the transport's cause
            raise DatasourceError(f"{query.describe()}: {exc}") from exc.__cause__ or exc
        return _single_value(query, values)

    def close(self) -> None:
        """Close the HTTP client if the reader created it."""
        self._query.close()


def _single_value(query: _Query, values: Mapping[Labels, float]) -> float | None:
    """The one value of a vector or scalar result; ``None`` for an empty vector."""
    if not values:
        return None
    if len(values) > 1:
        msg = (
            f"{query.describe()}: the SLI query returns {len(values)} series; "
            "it must aggregate to one"
        )
        raise DatasourceError(msg)
    return next(iter(values.values()))
