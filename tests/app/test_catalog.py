"""The catalog parses each stored spec once, and a changed spec is parsed again."""

from __future__ import annotations

import pytest

from opsplane.app import catalog
from opsplane.ports import StoredSpec
from opsplane.spec import load_texts
from tests.server.conftest import spec


class DictSpecs:
    """A minimal :class:`~opsplane.ports.SpecCatalog` over a dict."""

    def __init__(self) -> None:
        self.stored: dict[str, StoredSpec] = {}

    def put_spec(self, stored: StoredSpec) -> None:
        self.stored[stored.name] = stored

    def specs(self, namespace: str | None = None) -> list[StoredSpec]:
        found = self.stored.values()
        return [s for s in found if namespace is None or s.namespace == namespace]

    def delete_spec(self, namespace: str, name: str) -> bool:
        return self.stored.pop(name, None) is not None


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the specs parsed from now on (the cache starts empty)."""
    parsed: list[str] = []

    def counting(texts: list[tuple[str, str]]) -> object:
        parsed.extend(name for name, _ in texts)
        return load_texts(texts)

    catalog._parsed.cache_clear()
    monkeypatch.setattr(catalog, "load_texts", counting)
    return parsed


def test_rereading_a_catalog_parses_only_the_changed_spec(parses: list[str]) -> None:
    specs = DictSpecs()
    for i in range(5):
        specs.put_spec(StoredSpec("payments", f"svc-{i}", spec(f"svc-{i}", "payments"), 0))
    first = catalog.services(specs)
    assert sorted(parses) == [f"svc-{i}" for i in range(5)]

    changed = spec("svc-2", "payments").replace("objective: 99.9", "objective: 99.5")
    assert changed != specs.stored["svc-2"].source
    specs.put_spec(StoredSpec("payments", "svc-2", changed, 1))
    second = catalog.services(specs)

    assert parses[5:] == ["svc-2"]
    objectives = {s.name: s.slos[0].objective for s in second}
    assert objectives["svc-2"] == pytest.approx(99.5)
    assert objectives["svc-1"] == pytest.approx(first[1].slos[0].objective)
    assert all(s.namespace == "payments" for s in second)


def test_the_same_source_in_another_namespace_keeps_its_own_namespace(
    parses: list[str],
) -> None:
    source = spec("svc", "default")
    a = catalog.services(_one(StoredSpec("alpha", "svc", source, 0)))
    b = catalog.services(_one(StoredSpec("beta", "svc", source, 0)))
    assert (a[0].namespace, b[0].namespace) == ("alpha", "beta")


def _one(stored: StoredSpec) -> DictSpecs:
    specs = DictSpecs()
    specs.put_spec(stored)
    return specs
