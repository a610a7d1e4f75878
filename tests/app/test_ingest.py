"""Pushed batches are stored whole or not at all, with one problem per bad sample."""

from __future__ import annotations

import math

import pytest

from opsplane.app.ingest import push
from opsplane.errors import SpecError
from opsplane.ports import Sample
from opsplane.testing import ListSink


def sample(value: float = 1.0, name: str = "http_requests_total", **labels: str) -> Sample:
    return Sample(tuple(sorted({"__name__": name, **labels}.items())), 1_000, value)


def test_a_valid_batch_is_stored() -> None:
    sink = ListSink()
    assert push(sink, [sample(code="200"), sample(2.0, code="500")]) == 2
    assert [s.value for s in sink.samples] == [1.0, 2.0]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(
            sample(math.nan), "value must be a finite number, got nan", id="NaN is refused"
        ),
        pytest.param(
            sample(math.inf), "value must be a finite number, got inf", id="infinity is refused"
        ),
        pytest.param(sample(name="9lives"), "invalid metric name '9lives'", id="a bad metric name"),
        pytest.param(
            sample(**{"bad-label": "x"}), "invalid label name 'bad-label'", id="a bad label"
        ),
    ],
)
def test_one_bad_sample_rejects_the_whole_batch(bad: Sample, message: str) -> None:
    sink = ListSink()
    with pytest.raises(SpecError) as raised:
        push(sink, [sample(), bad], source="batch")
    assert [str(p) for p in raised.value.problems] == [f"batch[1]: {message}"]
    assert sink.samples == []
