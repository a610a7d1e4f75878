"""The one exception tree of opsplane.

Every error raised on purpose is an :class:`OpsplaneError`. The CLI maps the tree to exit codes
and (later) the server maps it to RFC 9457 problem JSON, in one handler each::

    OpsplaneError
    ├── SpecError            a spec file is invalid; carries one Problem per finding
    ├── NotFoundError        a named object does not exist
    ├── ConflictError        an object clashes with another (duplicate SLO id, ...)
    ├── DatasourceError      a metrics backend failed or answered nonsense
    ├── DeliveryError        a notification could not be delivered
    ├── OutputError          a generated file could not be written
    ├── StorageError         the state database or metric store cannot be used
    └── UsageError           a command-line or API argument is invalid (exit 2)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one place in one input file.

    Attributes:
        file: The file the finding is about (as the user gave it).
        path: A dotted/indexed path inside the document, e.g. ``slos[0].objective``.
        message: What is wrong, phrased for the person who wrote the file.
    """

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        location = f"{self.file}:{self.path}" if self.path else self.file
        return f"{location}: {self.message}"


class OpsplaneError(Exception):
    """Base class of every error opsplane raises on purpose."""

    exit_code: int = 1


class SpecError(OpsplaneError):
    """One or more spec files are invalid."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class NotFoundError(OpsplaneError):
    """A named object does not exist."""


class ConflictError(OpsplaneError):
    """An object clashes with another one."""


class DatasourceError(OpsplaneError):
    """A metrics backend failed or gave an answer we cannot use."""


class DeliveryError(OpsplaneError):
    """A notification could not be delivered."""


class OutputError(OpsplaneError):
    """A generated artefact could not be written (permissions, a file where a folder goes)."""


class StorageError(OpsplaneError):
    """The state database or the metric store is unreachable or unusable."""


class UsageError(OpsplaneError):
    """A command-line or API argument is invalid (not a spec problem)."""

    exit_code = 2
