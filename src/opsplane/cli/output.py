"""Printing helpers shared by the commands: problems on stderr, one per line."""

from __future__ import annotations

import sys

from opsplane.errors import OpsplaneError, SpecError


def print_error(exc: OpsplaneError) -> None:
    """One line per problem for spec errors, else the message."""
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            sys.stderr.write(f"{problem}\n")
    else:
        sys.stderr.write(f"opsplane: {exc}\n")


def print_warnings(warnings: list[str]) -> None:
    """Warnings go to stderr, prefixed, so stdout stays machine-readable."""
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")
