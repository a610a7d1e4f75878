"""Named type aliases shared across layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

Millis: TypeAlias = int
"""A duration in whole milliseconds (Prometheus' own resolution)."""

LATEST_MILLIS: Millis = 253_402_300_799_000
"""9999-12-31T23:59:59Z, the last instant stored: times are shown in RFC 3339 with a four-digit
UTC year, so a time past it (``9999-12-31T23:59:59-14:00`` is in the year 10000) would be
stored and then fail every listing that shows it."""

Labels: TypeAlias = Mapping[str, str]
"""Prometheus labels or annotations. Insertion order is kept but never significant."""

Severity: TypeAlias = Literal["P0", "P1", "P2", "P3"]
"""On-call severity; P0 is the most urgent."""

AlertTier: TypeAlias = Literal["page", "ticket"]
"""The two multiwindow burn-rate tiers of the SRE Workbook."""
