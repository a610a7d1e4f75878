"""The push interface: samples sent by clients (the server's ingest API exposes this).

Every sample of a batch is checked before any is stored, so a rejected batch changes nothing;
each problem names the sample by its position in the batch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from opsplane.errors import Problem, SpecError
from opsplane.ports import Sample, SampleSink

LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*\Z")
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*\Z")


def push(sink: SampleSink, samples: Sequence[Sample], source: str = "push") -> int:
    """Validate the whole batch, then store it; returns how many samples were stored.

    Raises:
        SpecError: one problem per invalid sample (nothing is stored).
    """
    problems = [p for i, s in enumerate(samples) for p in sample_problems(s, f"{source}[{i}]")]
    if problems:
        raise SpecError(problems)
    return sink.append(samples)


def sample_problems(sample: Sample, where: str) -> list[Problem]:
    """What is wrong with one sample (empty when it is valid)."""
    labels = dict(sample.labels)
    out = []
    if len(labels) != len(sample.labels):
        out.append("a label is given twice")
    name = labels.get("__name__", "")
    if not METRIC_NAME.match(name):
        out.append(f"invalid metric name {name!r}")
    out += [
        f"invalid label name {k!r}" for k in labels if k != "__name__" and not LABEL_NAME.match(k)
    ]
    if not math.isfinite(sample.value):
        out.append(f"value must be a finite number, got {sample.value}")
    if sample.timestamp < 0:
        out.append(f"timestamp must be after 1970, got {sample.timestamp}")
    return [Problem(where, "", message) for message in out]
