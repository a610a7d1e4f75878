"""Reading spec files: directories, multi-document YAML, and where each problem sits."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from opsplane.errors import Problem

SPEC_SUFFIXES = (".yaml", ".yml", ".json")
_PLAIN_KEY = re.compile(r"^[\w.\-/@$]+\Z")


@dataclass(frozen=True, slots=True)
class Document:
    """One YAML document of one file.

    ``count`` is how many documents the file holds; paths only name the document when the
    file has more than one, so single-document files read ``FILE:slos[0].objective``.
    """

    file: str
    index: int
    count: int
    data: Any

    def path(self, *parts: str | int) -> str:
        """A path inside this document, e.g. ``doc[1].slos[0].objective``."""
        text = format_path(parts)
        if self.count > 1:
            return f"doc[{self.index}]" + (
                "." + text if text and not text.startswith("[") else text
            )
        return text

    def problem(self, message: str, *parts: str | int) -> Problem:
        """A problem at ``parts`` inside this document."""
        return Problem(self.file, self.path(*parts), message)


def format_path(parts: Iterable[str | int]) -> str:
    """Join keys and list indices: ``("slos", 0, "sli")`` -> ``slos[0].sli``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _PLAIN_KEY.match(part):
            out += f"[{json.dumps(part)}]"  # keeps one problem on one line
        else:
            out += f".{part}" if out else part
    return out


def expand_paths(paths: Sequence[str | Path]) -> tuple[list[Path], list[Problem]]:
    """Files to read: each file given, and every spec file under each directory, sorted."""
    files: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                sorted(
                    p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SPEC_SUFFIXES
                )
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(str(raw), "", "no such file or directory"))
    return files, problems


def read_documents(file: Path) -> tuple[list[Document], list[Problem]]:
    """Every non-empty YAML document of ``file``; a syntax error becomes a problem."""
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(name, "", f"cannot read file: {exc}")]
    return documents_from_text(name, text)


def documents_from_text(name: str, text: str) -> tuple[list[Document], list[Problem]]:
    """Every non-empty YAML (or JSON) document of ``text``, reported as coming from ``name``."""
    try:
        raw = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        return [], [Problem(name, _yaml_location(exc), f"invalid YAML: {_yaml_reason(exc)}")]
    except RecursionError:  # PyYAML composes nested collections recursively
        return [], [Problem(name, "", "invalid YAML: nested too deeply")]
    docs = list(_flatten(raw))
    return [Document(name, i, len(docs), d) for i, d in enumerate(docs)], []


def _flatten(raw: list[Any]) -> Iterator[Any]:
    """A document that is a list of objects (OpenSLO's go-sdk style) counts as several."""
    for item in raw:
        if isinstance(item, list):
            yield from item
        else:
            yield item


def _yaml_location(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}" if mark is not None else ""


def _yaml_reason(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem) if problem else str(exc).splitlines()[0]
