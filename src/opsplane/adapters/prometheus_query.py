"""Arbitrary PromQL instant queries against a Prometheus server (or Thanos, Mimir).

:class:`PrometheusQuery` is the backend of rollout analysis metrics with ``provider:
prometheus``, as Argo Rollouts' Prometheus provider (``metricproviders/prometheus``) runs a
metric's ``query`` against its ``address``: its :meth:`~PrometheusQuery.instant` sends the
query to ``/api/v1/query`` at the measurement time and returns the vector as
``{labels: value}``, which :class:`opsplane.app.providers.QueryProvider` turns into
``result`` (``result[0]`` is the first series by labels). A scalar answer is one value without
labels; an empty vector is ``{}`` (no data: an Error measurement, as in Argo).

It is also the transport of :class:`~opsplane.adapters.prometheus.PrometheusReader`. An
unreachable or slow server, an API error (a bad query) or a malformed answer raise
``DatasourceError`` naming the URL without its credentials, so the analysis records an Error
measurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import httpx

from opsplane.adapters.closing import Closing
from opsplane.errors import DatasourceError
from opsplane.types import Millis

QUERY_PATH = "/api/v1/query"
Labels = tuple[tuple[str, str], ...]


class PrometheusQuery(Closing):
    """Instant queries over the Prometheus HTTP API.

    Args:
        address: The server's root (Argo's ``provider.prometheus.address``), e.g.
            ``http://prometheus:9090``; user info in it becomes basic auth.
        client: An ``httpx.Client`` to use (by default one of its own, closed by ``close``).
        timeout: Seconds allowed for each query (Argo's ``timeout``, default 10 s there too).
    """

    def __init__(
        self, address: str, *, client: httpx.Client | None = None, timeout: float = 10.0
    ) -> None:
        url = httpx.URL(address)
        self._auth = httpx.BasicAuth(url.username, url.password) if url.userinfo else None
        root = url.copy_with(userinfo=b"", query=None, fragment=None)
        self.query_url = root.copy_with(path=root.path.rstrip("/") + QUERY_PATH)
        """The endpoint without credentials: safe to show."""
        self._client = client if client is not None else httpx.Client()
        self._owns_client = client is None
        self._timeout = timeout

    def instant(self, query: str, at: Millis) -> dict[Labels, float]:
        """The value of every series ``query`` returns at ``at``, by sorted labels.

        Raises:
            DatasourceError: the server cannot be reached in time, refuses the query, or
                answers something that is not a vector or a scalar.
        """
        form = {"query": query, "time": str(Decimal(at) / 1000)}
        try:
            response = self._client.post(
                self.query_url,
                data=form,
                auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            msg = f"Prometheus at {self.query_url} did not answer within {self._timeout:g}s"
            raise DatasourceError(msg) from exc
        except httpx.HTTPError as exc:
            raise DatasourceError(f"cannot reach Prometheus at {self.query_url}: {exc}") from exc
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> dict[Labels, float]:
        where = f"Prometheus at {self.query_url}"
        try:
            body = response.json()
        except ValueError as exc:
            msg = f"{where} answered HTTP {response.status_code} with a body that is not JSON"
            raise DatasourceError(msg) from exc
        if not isinstance(body, dict):
            raise DatasourceError(f"{where} answered HTTP {response.status_code}, not an object")
        if response.is_error or body.get("status") != "success":
            kind = body.get("errorType", "error")
            text = body.get("error", "no error text")
            raise DatasourceError(f"{where} answered HTTP {response.status_code}, {kind}: {text}")
        try:
            return _values(body["data"])
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise DatasourceError(f"{where} answered a malformed result: {exc!r}") from exc

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            self._client.close()


def _values(data: Mapping[str, Any]) -> dict[Labels, float]:
    """A vector as ``{labels: value}``; a scalar as ``{(): value}``.

    Values are strings in the API (``"0.01"``, ``"NaN"``, ``"+Inf"``), all of which ``float``
    reads. A range vector (matrix) or a string cannot be judged by a condition on ``result``.
    """
    kind, result = data["resultType"], data["result"]
    if kind == "scalar":
        return {(): float(result[1])}
    if kind != "vector":
        raise DatasourceError(f"the query returns a {kind}; it must return a vector or a scalar")
    return {
        tuple(sorted((str(k), str(v)) for k, v in series["metric"].items())): float(
            series["value"][1]
        )
        for series in result
    }
