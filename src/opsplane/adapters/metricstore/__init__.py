"""The embedded metric store: counters and histograms for SLO evaluation, without Prometheus.

- :class:`MetricStore` stores samples durably (write-ahead log, then columnar blocks) and
  answers SLI error ratios exactly as Prometheus 2.42 evaluates the generated rules.
- :func:`parse_openmetrics` reads timestamped OpenMetrics text (what ``promtool tsdb
  create-blocks-from openmetrics`` reads) into samples for backfill.
"""

from __future__ import annotations

from opsplane.adapters.metricstore.ingest import IngestStats
from opsplane.adapters.metricstore.openmetrics import parse_openmetrics, parse_openmetrics_file
from opsplane.adapters.metricstore.store import MetricStore
from opsplane.adapters.metricstore.wal import ReplayStats

__all__ = [
    "IngestStats",
    "MetricStore",
    "ReplayStats",
    "parse_openmetrics",
    "parse_openmetrics_file",
]
