"""Named type aliases shared across layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias

Millis: TypeAlias = int
"""A duration in whole milliseconds (Prometheus' own resolution)."""

Labels: TypeAlias = Mapping[str, str]
"""Prometheus labels or annotations. Insertion order is kept but never significant."""

Severity: TypeAlias = Literal["P0", "P1", "P2", "P3"]
"""On-call severity; P0 is the most urgent."""

AlertTier: TypeAlias = Literal["page", "ticket"]
"""The two multiwindow burn-rate tiers of the SRE Workbook."""
