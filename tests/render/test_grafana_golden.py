"""The dashboards generated for ``examples/`` are pinned in ``tests/golden/grafana/``.

Each dashboard is stored at its ``filename`` (``<namespace>/<service>-<kind>.json``) and the
folders manifest as ``folders.json``. Only the services that load are rendered: a spec whose
parser is not there yet is left out, as ``opsplane generate grafana`` would leave it out.

To regenerate the golden files after an intended change, run::

    OPSPLANE_UPDATE_GOLDEN=1 python -m pytest tests/render/test_grafana_golden.py

and review the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from opsplane.render.grafana import GrafanaOutput, render_dashboards
from opsplane.spec import load_paths
from tests.conftest import REPO

GOLDEN = REPO / "tests" / "golden" / "grafana"
UPDATE = os.environ.get("OPSPLANE_UPDATE_GOLDEN") == "1"
FOLDERS = "folders.json"


def _output() -> GrafanaOutput:
    return render_dashboards(load_paths([REPO / "examples"]).services)


OUTPUT = _output()
FILES: dict[str, Any] = {f.filename: f.model for f in OUTPUT.dashboards} | {FOLDERS: OUTPUT.folders}


def _compare(path: Path, generated: Any) -> None:
    text = json.dumps(generated, indent=2, ensure_ascii=False) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; run with OPSPLANE_UPDATE_GOLDEN=1 to create it")
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text)


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_generated_file_matches_its_golden_copy(name: str) -> None:
    _compare(GOLDEN / name, FILES[name])


def test_the_checkout_and_search_examples_are_among_the_golden_files() -> None:
    assert {
        "payments/checkout-golden.json",
        "payments/checkout-slo.json",
        "default/search-golden.json",
        "default/search-slo.json",
    } <= set(FILES)


def test_every_golden_file_is_still_generated() -> None:
    stored = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*.json")}
    if UPDATE:
        for stale in stored - set(FILES):
            (GOLDEN / stale).unlink()
        return
    assert stored <= set(FILES), f"stale golden files: {sorted(stored - set(FILES))}"
