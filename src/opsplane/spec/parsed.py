"""What a parser hands back: the domain service plus where each of its parts was written."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from opsplane.domain.slo import Service
from opsplane.spec.documents import Document

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Parsed:
    """A service parsed from ``doc``.

    Attributes:
        service: The domain service.
        doc: The document it came from.
        service_path: Where the service name is written (``("service",)`` for Sloth).
        slo_paths: For each SLO, the path of its object (``("slos", 0)``).
        field_paths: For each SLO, overrides for logical fields whose path is not
            ``slo_path + (field,)``; keys are ``objective``, ``name``, ``sli``, ``alerting``.
    """

    service: Service
    doc: Document
    service_path: Path
    slo_paths: tuple[Path, ...]
    field_paths: tuple[Mapping[str, Path], ...] = field(default=())

    def slo_field(self, index: int, name: str) -> Path:
        """The path of logical field ``name`` of SLO number ``index``."""
        if index < len(self.field_paths) and name in self.field_paths[index]:
            return self.field_paths[index][name]
        return (*self.slo_paths[index], *name.split("."))
