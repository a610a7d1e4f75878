"""The scrape loop pulls real HTTP ``/metrics`` endpoints on loopback into a sample sink."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from opsplane.adapters.scrape import HttpScraper
from opsplane.app.scrape import Target, due_targets, scrape_once, targets
from opsplane.domain.slo import Origin, ScrapeConfig, Service
from opsplane.testing import FakeClock, ListSink

EXPOSITION = b"""# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200"} 1027
http_requests_total{code="500"} 3
"""


class _Metrics(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/metrics":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(EXPOSITION)

    def log_message(self, *args: object) -> None:  # keep test output clean
        return


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_scrape_stores_every_sample_with_job_instance_and_up(endpoint: str) -> None:
    sink, clock = ListSink(), FakeClock()
    (target,) = [Target(f"{endpoint}/metrics", "shop", endpoint.removeprefix("http://"), 15_000)]
    (result,) = scrape_once([target], HttpScraper(), sink, clock.now_ms())
    assert (result.samples, result.error) == (2, None)
    got = {
        dict(s.labels)["__name__"] + dict(s.labels).get("code", ""): s.value for s in sink.samples
    }
    assert got == {"http_requests_total200": 1027.0, "http_requests_total500": 3.0, "up": 1.0}
    assert all(s.timestamp == clock.now_ms() for s in sink.samples)
    assert all(dict(s.labels)["job"] == "shop" for s in sink.samples)


def test_a_failing_target_records_up_zero_and_does_not_stop_the_others(endpoint: str) -> None:
    sink = ListSink()
    good = Target(f"{endpoint}/metrics", "shop", "a", 15_000)
    bad = Target(f"{endpoint}/missing", "shop", "b", 15_000)
    results = scrape_once([bad, good], HttpScraper(timeout=2.0), sink, 0)
    assert results[0].error is not None
    assert "404" in results[0].error
    assert results[1].error is None
    ups = {
        dict(s.labels)["instance"]: s.value
        for s in sink.samples
        if dict(s.labels)["__name__"] == "up"
    }
    assert ups == {"a": 1.0, "b": 0.0}


def test_targets_come_from_the_specs_and_are_due_once_per_interval() -> None:
    svc = Service(
        "shop",
        (),
        Origin("x", 0, "opsplane/v1", "Service"),
        scrape=ScrapeConfig(("http://127.0.0.1:9/metrics",), 15_000),
    )
    (target,) = targets([svc])
    assert (target.job, target.instance) == ("shop", "127.0.0.1:9")
    last: dict[str, int] = {}
    assert due_targets([target], 0, last) == [target]
    assert due_targets([target], 14_999, last) == []
    assert due_targets([target], 15_000, last) == [target]
