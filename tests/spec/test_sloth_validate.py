"""``sloth validate`` conformance: every ``validate`` case of the Sloth fixtures.

The vectors are Sloth v0.16's own integration inputs (``../shared/conformance/sloth``,
``cases.json`` key ``validate``). Each bad file is expected to fail for the reason the
manifest gives, and that reason is pinned down as the exact ``FILE:PATH: message`` line the
CLI prints, with FILE as the user typed it (the tests run from the conformance directory).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsplane.domain.duration import DAY
from opsplane.domain.slo import GoodTotalSLI, Period
from opsplane.render.prometheus import RuleOptions, render_rules
from opsplane.spec import LoadResult, load_paths
from tests.conftest import shared_path

OBJECTIVE_101 = "slos[1].objective: objective must be > 0 and <= 100, got 101"


@pytest.fixture
def sloth(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Sloth conformance directory, made the working directory so FILEs read as given."""
    root = shared_path("conformance", "sloth")
    monkeypatch.chdir(root)
    return root


def lines(result: LoadResult) -> list[str]:
    """Every problem as the CLI prints it."""
    return [str(p) for p in result.problems]


def duplicate(file: str, at: str, slo_id: str, first_file: str, first_at: str) -> str:
    return f"{file}:{at}: duplicate SLO id {slo_id!r} (first defined at {first_file}:{first_at})"


BAD = [
    pytest.param(
        "validate/bad/bad-aa.yaml",
        [f"validate/bad/bad-aa.yaml:{OBJECTIVE_101}"],
        id="bad-aa: an objective of 101 is rejected at slos[1].objective",
    ),
    pytest.param(
        "validate/bad/bad-ab.yaml",
        [f"validate/bad/bad-ab.yaml:{OBJECTIVE_101}"],
        id="bad-ab: an objective of 101 is rejected at slos[1].objective",
    ),
    pytest.param(
        "validate/bad/bad-ba.yaml",
        [f"validate/bad/bad-ba.yaml:{OBJECTIVE_101}"],
        id="bad-ba: an objective of 101 is rejected at slos[1].objective",
    ),
    pytest.param(
        "validate/bad/bad-k8s.yaml",
        ["validate/bad/bad-k8s.yaml:spec.service: service name is required"],
        id="bad-k8s: an empty spec.service of a PrometheusServiceLevel is rejected",
    ),
    pytest.param(
        "validate/bad/bad-multi.yaml",
        [
            "validate/bad/bad-multi.yaml:doc[1].slos[1].sli: "
            "at least one SLI type is required (events or raw)"
        ],
        id="bad-multi: 'sli: {}' in the second document needs an SLI type",
    ),
    pytest.param(
        "validate/bad/bad-multi-k8s.yaml",
        [
            "validate/bad/bad-multi-k8s.yaml:doc[0].spec.slos[0].alerting: "
            "page alert: alert name is required",
            "validate/bad/bad-multi-k8s.yaml:doc[0].spec.slos[0].alerting: "
            "ticket alert: alert name is required",
        ],
        id="bad-multi-k8s: an empty alerting.name with both alerts enabled fails for each tier",
    ),
]

DUPLICATES = [
    pytest.param(
        "validate_with_duplicates/prom/",
        [
            duplicate(
                "validate_with_duplicates/prom/bad-prom-1-original.yaml",
                f"slos[{i}]",
                slo_id,
                "validate_with_duplicates/prom/bad-prom-1-duplicate.yaml",
                f"slos[{i}]",
            )
            for i, slo_id in enumerate(["svc01-slo1", "svc01-slo02"])
        ],
        id="two prometheus/v1 files declaring the same SLO ids are duplicates",
    ),
    pytest.param(
        "validate_with_duplicates/k8s/",
        [
            duplicate(
                "validate_with_duplicates/k8s/bad-k8s-1-original.yaml",
                f"spec.slos[{i}]",
                slo_id,
                "validate_with_duplicates/k8s/bad-k8s-1-duplicate.yaml",
                f"spec.slos[{i}]",
            )
            for i, slo_id in enumerate(["svc01-slo1", "svc01-slo02"])
        ],
        id="two PrometheusServiceLevel files declaring the same SLO ids are duplicates",
    ),
    pytest.param(
        "validate_with_duplicates/openslo/",
        [
            duplicate(
                "validate_with_duplicates/openslo/bad-openslo-1-original.yaml",
                "spec.objectives[0]",
                "svc01-slo1-0",
                "validate_with_duplicates/openslo/bad-openslo-1-duplicate.yaml",
                "spec.objectives[0]",
            )
        ],
        id="two openslo/v1alpha files with the same objective are duplicates",
    ),
    pytest.param(
        "validate_with_duplicates/bad-prom-multi-duplicates.yaml",
        [
            duplicate(
                "validate_with_duplicates/bad-prom-multi-duplicates.yaml",
                f"doc[1].slos[{i}]",
                slo_id,
                "validate_with_duplicates/bad-prom-multi-duplicates.yaml",
                f"doc[0].slos[{i}]",
            )
            for i, slo_id in enumerate(["svc01-slo1", "svc01-slo02"])
        ],
        id="a second document of one file repeating the SLO ids is a duplicate",
    ),
]

GOOD = "validate/good/"
STALE = "validate/bad/bad-openslo.yaml"


def test_every_validate_case_of_the_manifest_is_covered() -> None:
    manifest = json.loads(shared_path("conformance", "sloth", "cases.json").read_text())
    inputs = {case["input"] for case in manifest["validate"]}
    covered = {p.values[0] for p in BAD + DUPLICATES} | {GOOD, STALE}
    assert inputs == covered


def test_the_good_specs_are_valid_when_duplicates_are_allowed(sloth: Path) -> None:
    result = load_paths([GOOD], allow_duplicates=True)
    assert lines(result) == []
    assert len(result.services) == 9
    assert sum(len(s.slos) for s in result.services) == 17


def test_the_good_specs_only_clash_on_duplicate_ids(sloth: Path) -> None:
    # good-aa, good-ab and good-ba are byte-identical, hence --ignore-slo-duplicates upstream.
    result = load_paths([GOOD])
    assert result.problems
    assert all(p.message.startswith("duplicate SLO id ") for p in result.problems)


def test_prometheus_v1_ignores_the_camel_case_alert_keys_as_sloth_does(sloth: Path) -> None:
    # good-aa writes pageAlert/ticketAlert, which prometheus/v1 does not know: both alerts stay
    # enabled and the labels under those keys are dropped (cases.json, validate/good note).
    (service,) = load_paths(["validate/good/good-aa.yaml"]).services
    alerting = service.slos[0].alerting
    assert (alerting.page.disabled, alerting.ticket.disabled) == (False, False)
    assert (dict(alerting.page.labels), dict(alerting.ticket.labels)) == ({}, {})


@pytest.mark.parametrize(("path", "expected"), BAD)
def test_a_bad_spec_fails_for_its_documented_reason(
    sloth: Path, path: str, expected: list[str]
) -> None:
    assert lines(load_paths([path])) == expected
    # None of these is about duplicates, so allowing them changes nothing.
    assert lines(load_paths([path], allow_duplicates=True)) == expected


def test_the_bad_directory_fails_in_every_file_but_the_stale_one(sloth: Path) -> None:
    result = load_paths(["validate/bad/"], allow_duplicates=True)
    failing = {Path(p.file).name for p in result.problems}
    assert failing == {
        "bad-aa.yaml",
        "bad-ab.yaml",
        "bad-ba.yaml",
        "bad-k8s.yaml",
        "bad-multi.yaml",
        "bad-multi-k8s.yaml",
    }


def test_the_stale_bad_openslo_file_is_valid_because_28d_periods_are_supported(
    sloth: Path,
) -> None:
    # It is marked "# BAD!" for `count: 28`, from 2021 when Sloth only knew 30d. Sloth (and
    # opsplane) now embed Google's 28d alert windows, so the file is a valid 28d SLO: it loads
    # without problems and renders even in Sloth-compatible mode, which refuses any period
    # that has no alert-window catalog.
    result = load_paths([STALE])
    assert lines(result) == []
    (service,) = result.services
    (slo,) = service.slos
    assert slo.period == Period(28 * DAY)
    assert slo.objective == pytest.approx(99.9)
    assert isinstance(slo.sli, GoodTotalSLI)
    (document,) = render_rules(result.services, RuleOptions(sloth_compat=True)).documents
    assert document.content["groups"]


@pytest.mark.parametrize(("path", "expected"), DUPLICATES)
def test_duplicate_slo_ids_fail_unless_allowed(sloth: Path, path: str, expected: list[str]) -> None:
    assert lines(load_paths([path])) == expected
    allowed = load_paths([path], allow_duplicates=True)
    assert lines(allowed) == []
    assert len(allowed.services) == 2
