"""The scrape loop: pull every target listed in the specs into the embedded store.

Like Prometheus, each scrape also records ``up{job, instance}`` (1 on success, 0 on failure)
so a target that disappears is visible, and one failing target never stops the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from opsplane.domain.slo import Service
from opsplane.errors import DatasourceError
from opsplane.ports import Sample, SampleSink, Scraper
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class Target:
    """One endpoint, with the ``job`` and ``instance`` labels Prometheus would give it.

    ``namespace`` (the service's) is added to every sample as the label ``namespace``, which
    is what a tenant's SLIs must select on (:mod:`opsplane.spec.promql_scope`); it replaces a
    ``namespace`` label the target exposes itself.
    """

    url: str
    job: str
    instance: str
    interval: Millis
    namespace: str = ""


@dataclass(frozen=True, slots=True)
class ScrapeResult:
    """What one scrape of one target gave."""

    target: Target
    samples: int
    error: str | None = None


def targets(services: Sequence[Service]) -> list[Target]:
    """Every scrape target of every service; ``job`` is the service name."""
    return [
        Target(url, svc.name, urlsplit(url).netloc, svc.scrape.interval, svc.namespace)
        for svc in services
        if svc.scrape is not None
        for url in svc.scrape.targets
    ]


def scrape_once(
    due: Sequence[Target], scraper: Scraper, sink: SampleSink, at: Millis
) -> list[ScrapeResult]:
    """Scrape ``due`` targets at ``at`` and store what they return plus ``up``."""
    results = []
    for target in due:
        labels = {"job": target.job, "instance": target.instance}
        if target.namespace:
            labels["namespace"] = target.namespace
        try:
            samples = scraper.scrape(target.url, at, labels)
        except DatasourceError as exc:
            sink.append([_up(labels, at, 0.0)])
            results.append(ScrapeResult(target, 0, str(exc)))
            continue
        stored = sink.append([*samples, _up(labels, at, 1.0)])
        results.append(ScrapeResult(target, stored - 1))
    return results


def due_targets(all_targets: Sequence[Target], at: Millis, last: dict[str, Millis]) -> list[Target]:
    """Targets whose interval has passed since their last scrape (updates ``last``)."""
    due = [t for t in all_targets if at - last.get(t.url, -t.interval) >= t.interval]
    last.update({t.url: at for t in due})
    return due


def _up(labels: dict[str, str], at: Millis, value: float) -> Sample:
    pairs = tuple(sorted({"__name__": "up", **labels}.items()))
    return Sample(pairs, at, value)
