"""Gathering ``openslo/v1`` objects from every document, by kind and name.

OpenSLO objects refer to each other by ``metadata.name`` across files, so the parser first
validates each document on its own and files it here; references are resolved afterwards
with :func:`lookup`, which reports a missing object at the path of the reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.edge import parse_model
from opsplane.spec.openslo_v1_models import (
    API_VERSION,
    AlertConditionSpec,
    AlertNotificationTargetSpec,
    AlertPolicySpec,
    DataSourceSpec,
    Obj,
    ServiceSpec,
    SLISpec,
    SLOSpec,
    dns_label_problem,
)

T = TypeVar("T")
V = TypeVar("V")
M = TypeVar("M", bound=Obj[Any])

# kind -> its model. DataSource names are not checked as DNS labels: nothing is
# generated from them (README snippets call one "string").
_MODELS: dict[str, type[Obj[Any]]] = {
    "Service": Obj[ServiceSpec],
    "SLO": Obj[SLOSpec],
    "SLI": Obj[SLISpec],
    "AlertPolicy": Obj[AlertPolicySpec],
    "AlertCondition": Obj[AlertConditionSpec],
    "AlertNotificationTarget": Obj[AlertNotificationTargetSpec],
    "DataSource": Obj[DataSourceSpec],
}
_UNCHECKED_NAMES = {"DataSource"}


@dataclass(frozen=True, slots=True)
class Loc:
    """A place inside one document: where an object, or a field of it, is written."""

    doc: Document
    path: tuple[str | int, ...] = ()

    def at(self, *parts: str | int) -> Loc:
        """A place below this one."""
        return Loc(self.doc, (*self.path, *parts))

    def problem(self, message: str, *parts: str | int) -> Problem:
        """A problem at ``parts`` below this place."""
        return self.doc.problem(message, *self.path, *parts)

    def where(self) -> str:
        """``FILE:PATH``, to point at another definition in a message."""
        return f"{self.doc.file}:{self.doc.path(*self.path)}"


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    """One object and where it is written; ``valid`` is false when it had any problem."""

    obj: T
    loc: Loc
    valid: bool = True


@dataclass(slots=True)
class Catalog:
    """Every object given, by kind and name, in document order."""

    services: dict[str, Entry[Obj[ServiceSpec]]] = field(default_factory=dict)
    slos: dict[str, Entry[Obj[SLOSpec]]] = field(default_factory=dict)
    slis: dict[str, Entry[Obj[SLISpec]]] = field(default_factory=dict)
    policies: dict[str, Entry[Obj[AlertPolicySpec]]] = field(default_factory=dict)
    conditions: dict[str, Entry[Obj[AlertConditionSpec]]] = field(default_factory=dict)
    targets: dict[str, Entry[Obj[AlertNotificationTargetSpec]]] = field(default_factory=dict)
    sources: dict[str, Entry[Obj[DataSourceSpec]]] = field(default_factory=dict)

    def table(self, kind: str) -> dict[str, Entry[Any]]:
        """The objects of ``kind``."""
        tables: dict[str, dict[str, Entry[Any]]] = {
            "Service": self.services,
            "SLO": self.slos,
            "SLI": self.slis,
            "AlertPolicy": self.policies,
            "AlertCondition": self.conditions,
            "AlertNotificationTarget": self.targets,
            "DataSource": self.sources,
        }
        return tables[kind]


def build_catalog(docs: list[Document]) -> tuple[Catalog, list[Problem]]:
    """Validate every document as its kind and file it by name; duplicates are problems."""
    catalog = Catalog()
    problems: list[Problem] = []
    for doc in docs:
        kind = doc.data.get("kind")
        if not isinstance(kind, str) or kind not in _MODELS:
            known = ", ".join(_MODELS)
            msg = (
                f"is required: one of {known}"
                if kind is None
                else f"unknown {API_VERSION} kind {kind!r}; expected one of {known}"
            )
            problems.append(doc.problem(msg, "kind"))
            continue
        obj, found = parse_model(_MODELS[kind], doc, doc.data)
        problems += found
        if obj is None:
            continue
        loc = Loc(doc)
        name_problems = [] if kind in _UNCHECKED_NAMES else check_name(obj.metadata.name, loc)
        problems += name_problems
        problems += _register(catalog.table(kind), kind, Entry(obj, loc, not name_problems))
    return catalog, problems


def check_name(name: str, loc: Loc) -> list[Problem]:
    """``metadata.name`` below ``loc`` must be an RFC 1123 DNS label (OpenSLO, go-sdk)."""
    msg = dns_label_problem(name)
    return [loc.problem(msg, "metadata", "name")] if msg else []


def _register(table: dict[str, Entry[Any]], kind: str, entry: Entry[Any]) -> list[Problem]:
    name = entry.obj.metadata.name
    first = table.get(name)
    if first is not None:
        where = first.loc.at("metadata", "name").where()
        msg = f"duplicate {kind} name {name!r} (first defined at {where})"
        return [entry.loc.problem(msg, "metadata", "name")]
    table[name] = entry
    return []


def lookup(table: Mapping[str, V], kind: str, name: str, at: Loc) -> tuple[V | None, list[Problem]]:
    """The object ``name`` of ``kind``, or a problem at ``at`` (the reference) naming it."""
    if name in table:
        return table[name], []
    msg = f"{kind} {name!r} not found: no {API_VERSION} {kind} has that name in the given files"
    return None, [at.problem(msg)]


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference by name, and where it is written (the ``...Ref`` field)."""

    name: str
    at: Loc


def ref_or_inline(
    item: Any, at: Loc, ref_keys: tuple[str, ...], kind: str, model: type[M]
) -> tuple[Ref | M | None, list[Problem]]:
    """An item that is either ``{<ref_key>: name}`` or an inline object of ``kind``.

    Returns the reference, the validated inline object, or ``None`` with the problems.
    """
    fields = item if isinstance(item, dict) else {}
    refs = [key for key in ref_keys if key in fields]
    inline = [key for key in ("kind", "metadata", "spec") if key in fields]
    if not refs and not inline:
        return None, [at.problem(f"expected {ref_keys[0]} or an inline {kind}")]
    if refs and inline:
        return None, [at.problem(f"{refs[0]} and an inline {kind} are mutually exclusive")]
    if refs:
        name = fields[refs[0]]
        if not isinstance(name, str) or not name:
            return None, [at.problem(f"must be the name of an {kind}", refs[0])]
        return Ref(name, at.at(refs[0])), []
    obj, problems = parse_model(model, at.doc, item, *at.path)
    if obj is None:
        return None, problems
    if obj.kind != kind:
        problems.append(at.problem(f"must be {kind!r} for an inline {kind}", "kind"))
    problems += check_name(obj.metadata.name, at)
    return (None if problems else obj), problems
