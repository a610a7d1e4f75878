"""Load every spec under some paths into domain services, collecting every problem.

Each document is routed by its ``apiVersion``/``kind`` (or Sloth's ``version``). OpenSLO v1
objects refer to each other by name across files, so they are gathered first and resolved
together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opsplane.domain.slo import Service
from opsplane.errors import Problem
from opsplane.spec import openslo_v1, openslo_v1alpha, opsplane_v1, sloth
from opsplane.spec.delivery import parse_delivery
from opsplane.spec.documents import Document, documents_from_text, expand_paths, read_documents
from opsplane.spec.parsed import Parsed
from opsplane.spec.rules import check_service, duplicate_problems

Parser = Callable[[Document], tuple[list[Parsed], list[Problem]]]

_SINGLE: dict[tuple[str, str], Parser] = {
    (opsplane_v1.API_VERSION, "Service"): opsplane_v1.parse_service,
    (sloth.K8S_V1, "PrometheusServiceLevel"): sloth.parse_k8s,
    ("openslo/v1alpha", "SLO"): openslo_v1alpha.parse_openslo_v1alpha,
}
# Valid documents that describe no service by themselves.
_IGNORED = {("sloth.slok.dev/v1", "AlertWindows"), ("openslo/v1alpha", "Service")}
SUPPORTED = (
    "opsplane/v1 Service, Sloth prometheus/v1, sloth.slok.dev/v1 PrometheusServiceLevel, "
    "openslo/v1 and openslo/v1alpha"
)


@dataclass(slots=True)
class LoadResult:
    """The services found, and every problem on the way (empty when all is valid)."""

    parsed: list[Parsed] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def services(self) -> list[Service]:
        """The services, in file and document order."""
        return [p.service for p in self.parsed]


def load_paths(paths: Sequence[str | Path], *, allow_duplicates: bool = False) -> LoadResult:
    """Read, parse and check every spec file under ``paths``."""
    files, problems = expand_paths(paths)
    return _load([(str(file), read_documents(file)) for file in files], problems, allow_duplicates)


def load_texts(sources: Sequence[tuple[str, str]], *, allow_duplicates: bool = False) -> LoadResult:
    """Parse and check specs given as ``(name, YAML or JSON text)`` (the API's request bodies)."""
    read = [(name, documents_from_text(name, text)) for name, text in sources]
    return _load(read, [], allow_duplicates)


def _load(
    read: Sequence[tuple[str, tuple[list[Document], list[Problem]]]],
    problems: list[Problem],
    allow_duplicates: bool,
) -> LoadResult:
    result = LoadResult(problems=list(problems))
    openslo: list[Document] = []
    for name, (docs, read_problems) in read:
        result.problems += read_problems
        if not docs and not read_problems:
            result.problems.append(Problem(name, "", "file holds no spec document"))
        for doc in docs:
            if _is_openslo_v1(doc):
                openslo.append(doc)
            else:
                _parse_one(doc, result)
    if openslo:
        parsed, found = openslo_v1.parse_openslo_v1(openslo)
        result.parsed += parsed
        result.problems += found
    for p in result.parsed:
        result.problems += check_service(p)
        result.problems += parse_delivery(p)[1]
    if not allow_duplicates:
        result.problems += duplicate_problems(result.parsed)
    # Report file by file, in the order each file's problems were found, each problem once
    # (a Sloth group-level plugin chain applies to every SLO of the file).
    result.problems = sorted(dict.fromkeys(result.problems), key=lambda p: p.file)
    return result


def _is_openslo_v1(doc: Document) -> bool:
    return isinstance(doc.data, dict) and doc.data.get("apiVersion") == "openslo/v1"


def _parse_one(doc: Document, result: LoadResult) -> None:
    data = doc.data
    if not isinstance(data, dict):
        result.problems.append(doc.problem(f"expected a mapping, got {type(data).__name__}"))
        return
    if "version" in data and "apiVersion" not in data:
        parsed, problems = sloth.parse_prometheus_v1(doc)
    else:
        key = (str(data.get("apiVersion", "")), str(data.get("kind", "")))
        if key in _IGNORED:
            return
        parser = _SINGLE.get(key)
        if parser is None:
            what = f"apiVersion {key[0]!r} kind {key[1]!r}" if key[0] else "no apiVersion"
            result.problems.append(
                doc.problem(f"unknown spec format ({what}); supported: {SUPPORTED}")
            )
            return
        parsed, problems = parser(doc)
    result.parsed += parsed
    result.problems += problems
