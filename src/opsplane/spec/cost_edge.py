"""Pydantic errors of the cost files as problems phrased like the domain's own checks."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from opsplane.errors import Problem
from opsplane.spec.documents import format_path

M = TypeVar("M", bound=BaseModel)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "unknown field",
    "finite_number": "must be a finite number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "decimal_type": 'must be a decimal number (a JSON number or a string like "0.002")',
    "decimal_parsing": 'must be a decimal number (a JSON number or a string like "0.002")',
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "timezone_aware": "needs a time zone (e.g. 2026-01-01T00:00:00Z)",
}


def problems_of(
    model: type[M], data: Any, file: str, *prefix: str | int
) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` as ``model``; on failure, one problem per error, naming the field."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_problem(file, prefix, err) for err in exc.errors(include_url=False)]


def _problem(file: str, prefix: tuple[str | int, ...], err: Any) -> Problem:
    path = format_path((*prefix, *err["loc"]))
    kind = err["type"]
    message = _MESSAGES.get(kind)
    if kind == "greater_than_equal" and err.get("ctx", {}).get("ge") == 0:
        message = f"must not be negative (got {err.get('input')})"
    if message is None:
        message = str(err["msg"]).removeprefix("Value error, ")
    return Problem(file, path, message)
