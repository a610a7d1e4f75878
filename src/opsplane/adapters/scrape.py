"""Scraping ``/metrics`` over HTTP with httpx, parsed by prometheus-client's parsers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text
from prometheus_client.samples import Sample as ClientSample

from opsplane.adapters.closing import Closing
from opsplane.errors import DatasourceError
from opsplane.ports import Sample
from opsplane.types import Millis

OPENMETRICS = "application/openmetrics-text"
ACCEPT = f"{OPENMETRICS};version=1.0.0,text/plain;version=0.0.4;q=0.5"


class HttpScraper(Closing):
    """The :class:`~opsplane.ports.Scraper` port over HTTP (loopback or anywhere)."""

    def __init__(self, client: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self._client = client or httpx.Client(timeout=timeout, headers={"Accept": ACCEPT})

    def scrape(self, url: str, at: Millis, labels: Mapping[str, str]) -> list[Sample]:
        """GET ``url`` and parse it; samples without a timestamp get ``at``."""
        try:
            response = self._client.get(url)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise DatasourceError(f"scrape of {url} failed: {exc}") from exc
        openmetrics = response.headers.get("content-type", "").startswith(OPENMETRICS)
        try:
            families = (parse_openmetrics if openmetrics else parse_text)(response.text)
            return list(_samples(families, at, labels))
        except ValueError as exc:
            raise DatasourceError(f"scrape of {url}: unparsable exposition: {exc}") from exc

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()


def _samples(families: Iterable[object], at: Millis, labels: Mapping[str, str]) -> Iterable[Sample]:
    for family in families:
        for s in getattr(family, "samples", []):
            yield _sample(s, at, labels)


def _sample(s: ClientSample, at: Millis, labels: Mapping[str, str]) -> Sample:
    pairs = {**s.labels, **labels, "__name__": s.name}
    stamp = at if s.timestamp is None else round(float(s.timestamp) * 1000)
    return Sample(tuple(sorted(pairs.items())), stamp, float(s.value))
