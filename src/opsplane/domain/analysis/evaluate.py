"""The phase of one measurement from its result and the metric's conditions.

A port of ``utils/evaluate/evaluate.go`` (``EvaluateResult``, ``EvalCondition``) of Argo
Rollouts. Conditions are parsed by :mod:`.condition_parser` and evaluated by
:mod:`.condition_eval`; there is no ``eval``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from opsplane.domain.analysis.condition_eval import evaluate
from opsplane.domain.analysis.condition_lexer import ExpressionError
from opsplane.domain.analysis.condition_parser import Node, parse
from opsplane.domain.analysis.phases import MeasurementPhase

ResultValue: TypeAlias = (
    "bool | int | float | str | Sequence[ResultValue] | Mapping[str, ResultValue] | None"
)
"""What a metric provider measured: a number, a vector of numbers, a map, or nothing."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed ``successCondition`` or ``failureCondition``."""

    source: str
    tree: Node

    def holds(self, result: ResultValue) -> bool:
        """Whether the condition is true of ``result``.

        Raises:
            ExpressionError: the condition does not apply to this result, or is not a bool.
        """
        value = evaluate(self.tree, result)
        if not isinstance(value, bool):
            kind = "nil" if value is None else type(value).__name__
            raise ExpressionError(f"expected bool, but got {kind}")
        return value


def compile_condition(source: str) -> Condition:
    """Parse a condition once, to evaluate it against many results (or to validate a spec).

    Raises:
        ExpressionError: the text is not in the supported language.
    """
    return Condition(source, parse(source))


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The phase of one measurement and, for an Error, why."""

    phase: MeasurementPhase
    message: str = ""


def evaluate_result(
    result: ResultValue, *, success_condition: str = "", failure_condition: str = ""
) -> Evaluation:
    """``EvaluateResult``: the phase of a measurement whose value is ``result``.

    An empty condition is "not set". The truth table (``evaluate.go``):

    - neither set: Successful (only an error makes it anything else);
    - only ``success_condition``: Successful when true, else Failed;
    - only ``failure_condition``: Failed when true, else Successful;
    - both: Failed when the failure condition is true (even if success is true too),
      Successful when only success is true, Inconclusive when neither is;
    - a condition that cannot be evaluated: Error, with the reason.
    """
    outcomes: dict[str, bool] = {}
    for kind, source in (
        ("successCondition", success_condition),
        ("failureCondition", failure_condition),
    ):
        if not source:
            continue
        try:
            outcomes[kind] = compile_condition(source).holds(result)
        except ExpressionError as exc:
            return Evaluation("Error", _error_message(exc, kind, source, result))
    success = outcomes.get("successCondition")
    failure = outcomes.get("failureCondition")
    if success is None and failure is None:
        return Evaluation("Successful")
    if failure is None:
        failure = not success
    if success is None:
        success = not failure
    if failure:
        return Evaluation("Failed")
    return Evaluation("Successful" if success else "Inconclusive")


def _error_message(exc: ExpressionError, kind: str, source: str, result: ResultValue) -> str:
    """``formatEvalError``: name the condition, and say so when there was no data at all."""
    if result is None or (isinstance(result, list | tuple) and not result):
        reason = "metric result is nil or empty: no data returned from the metric provider"
        return f'could not evaluate {kind} "{source}": {reason}'
    return f'could not evaluate {kind} "{source}": {exc}'
