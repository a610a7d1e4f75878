"""Shared helpers for the pydantic edge: strict base models and error translation."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from opsplane.errors import Problem
from opsplane.spec.documents import Document

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Our own formats reject unknown keys: a typo must not silently disable an alert."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Lenient(BaseModel):
    """Foreign formats (Sloth, OpenSLO) ignore unknown keys, as their own tools do."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def parse_model(
    model: type[M], doc: Document, data: Any, *prefix: str | int
) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` as ``model``; on failure, one problem per pydantic error."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_problem(doc, prefix, err) for err in exc.errors(include_url=False)]


def _problem(doc: Document, prefix: tuple[str | int, ...], err: Any) -> Problem:
    loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    message = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "is required"
    elif err["type"] == "extra_forbidden":
        message = "unknown field"
    return doc.problem(message, *prefix, *loc)


def _is_union_tag(part: Any) -> bool:
    """pydantic puts class names of union members in ``loc``; users never wrote those."""
    return isinstance(part, str) and part[:1].isupper() and part.isidentifier() and "_" not in part


def _stringify(value: Any) -> Any:
    """Go's YAML decoder reads ``true`` or ``0.2`` into a string field as their text."""
    if isinstance(value, dict):
        return {k: _scalar_text(v) for k, v in value.items()}
    return value


def _scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


LabelMap = Annotated[dict[str, str], BeforeValidator(_stringify)]
"""Labels or annotations: scalar values are taken as their text, as Sloth does."""
