"""Evaluate a parsed condition against a measurement's ``result``, as expr-lang would.

Values are ``None`` (expr's ``nil``), ``bool``, ``int``, ``float``, ``str``, arrays (``list`` or
``tuple``) and maps (``Mapping`` with string keys). The rules follow expr-lang's runtime:

- ``==``/``!=`` compare numbers by value (``1 == 1.0``) and anything else by type and value;
  values of different types are unequal, never an error.
- ``<``, ``<=``, ``>``, ``>=`` need two numbers or two strings; ``&&``, ``||``, ``!`` and ``?:``
  need booleans; anything else is an :class:`ExpressionError` (the measurement becomes Error).
- ``/`` and ``**`` give floats; dividing a float by zero gives ``Inf``/``NaN`` as in Go;
  ``%`` needs integers.
- ``result[i]`` accepts a negative ``i`` (from the end); out of range is an error. A missing
  map key (``result.x``, ``result["x"]``) is ``nil``.
- ``isNil(x)`` and ``default(x, d)`` look at their argument. Argo's versions look at the whole
  result whatever the argument is; the two agree on the ``isNil(result)`` and
  ``default(result, d)`` that templates write.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeGuard

from opsplane.domain.analysis.condition_lexer import ExpressionError
from opsplane.domain.analysis.condition_parser import (
    ArrayNode,
    Binary,
    Call,
    Conditional,
    Field,
    Index,
    Literal,
    Node,
    Placeholder,
    Unary,
    Variable,
)


def evaluate(node: Node, result: object) -> object:
    """The value of ``node`` with ``result`` bound to the variable ``result``.

    Raises:
        ExpressionError: an operation does not apply to its operands.
    """
    return _Evaluator(result).eval(node)


class _Evaluator:
    def __init__(self, result: object) -> None:
        self.result = result
        self.elements: list[object] = []  # the '#' of each enclosing predicate

    def eval(self, node: Node) -> object:
        match node:
            case Literal(value):
                return value
            case Variable():
                return self.result
            case Placeholder():
                return self.elements[-1]
            case ArrayNode(items):
                return [self.eval(item) for item in items]
            case Unary(op, operand):
                return _unary(op, self.eval(operand))
            case Binary(op, left, right):
                return self.binary(op, left, right)
            case Conditional(test, then, otherwise):
                chosen = then if _bool(self.eval(test), "?:") else otherwise
                return self.eval(chosen)
            case Index(target, index):
                return _index(self.eval(target), self.eval(index))
            case Field(target, name):
                return _field(self.eval(target), name)
            case Call(function, args):
                return self.call(function, args)
        raise ExpressionError(f"cannot evaluate {node!r}")  # pragma: no cover - exhaustive

    def binary(self, op: str, left_node: Node, right_node: Node) -> object:
        left = self.eval(left_node)
        if op in ("&&", "and"):
            return _bool(left, op) and _bool(self.eval(right_node), op)
        if op in ("||", "or"):
            return _bool(left, op) or _bool(self.eval(right_node), op)
        if op == "??":
            return self.eval(right_node) if left is None else left
        return _BINARY[op](left, self.eval(right_node))

    def call(self, function: str, args: tuple[Node, ...]) -> object:
        if function in ("all", "any", "none"):
            return self.predicate(function, self.eval(args[0]), args[1])
        values = [self.eval(arg) for arg in args]
        return _FUNCTIONS[function](*values)

    def predicate(self, function: str, collection: object, predicate: Node) -> bool:
        if not _is_array(collection):
            raise ExpressionError(f"{function}() needs an array, not {_type(collection)}")
        for element in collection:
            self.elements.append(element)
            try:
                outcome = _bool(self.eval(predicate), f"the predicate of {function}()")
            finally:
                self.elements.pop()
            # The first element that decides the answer ends the scan, as in expr-lang.
            if function == "all" and not outcome:
                return False
            if outcome and function != "all":
                return function == "any"
        return function != "any"


def _type(value: object) -> str:
    """expr-lang's (Go's) name for the type of ``value``, for messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if _is_array(value):
        return "array"
    return "map" if isinstance(value, Mapping) else type(value).__name__


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_array(value: object) -> TypeGuard[Sequence[object]]:
    return isinstance(value, list | tuple)


def _bool(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ExpressionError(f"{where} needs a bool, not {_type(value)}")
    return value


def _number(value: object, where: str) -> int | float:
    if not _is_number(value):
        raise ExpressionError(f"{where} needs a number, not {_type(value)}")
    return value


def _unary(op: str, value: object) -> object:
    if op in ("!", "not"):
        return not _bool(value, op)
    number = _number(value, f"unary {op}")
    return -number if op == "-" else number


def _equal(left: object, right: object) -> bool:
    if _is_number(left) and _is_number(right):
        return left == right
    if _is_array(left) and _is_array(right):
        return len(left) == len(right) and all(
            _equal(a, b) for a, b in zip(left, right, strict=True)
        )
    return type(left) is type(right) and left == right


_ORDERINGS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _compare(op: str) -> Callable[[object, object], object]:
    """An ordering of two numbers or two strings; ``NaN`` compares false, as in Go."""

    def compare(left: object, right: object) -> object:
        numbers = _is_number(left) and _is_number(right)
        if not (numbers or (isinstance(left, str) and isinstance(right, str))):
            raise ExpressionError(f"invalid operation: {_type(left)} {op} {_type(right)}")
        return _ORDERINGS[op](left, right)

    return compare


def _arithmetic(op: str) -> Callable[[object, object], object]:
    def apply(left: object, right: object) -> object:
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        a, b = _number(left, op), _number(right, op)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return _divide(float(a), float(b))
        if op == "%":
            return _modulo(left, right)
        return _power(float(a), float(b))

    return apply


def _divide(a: float, b: float) -> float:
    """Go's float division: no error on zero, ``±Inf`` or ``NaN`` instead."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _modulo(left: object, right: object) -> int:
    if not (isinstance(left, int) and isinstance(right, int)):
        raise ExpressionError(f"% needs two ints, not {_type(left)} and {_type(right)}")
    if right == 0:
        raise ExpressionError("integer divide by zero")
    remainder = abs(left) % abs(right)  # Go's % truncates toward zero: the sign of left
    return remainder if left >= 0 else -remainder


def _power(a: float, b: float) -> float:
    try:
        return math.pow(a, b)
    except OverflowError:
        return math.inf
    except ValueError:  # a negative base with a fractional exponent: Go gives NaN
        return math.nan


def _membership(negate: bool) -> Callable[[object, object], object]:
    def contains(item: object, collection: object) -> object:
        if _is_array(collection):
            found = any(_equal(item, element) for element in collection)
        elif isinstance(collection, Mapping):
            found = item in collection
        else:
            raise ExpressionError(f"'in' needs an array or a map, not {_type(collection)}")
        return found != negate

    return contains


def _index(target: object, index: object) -> object:
    if isinstance(target, Mapping):
        if not isinstance(index, str):
            raise ExpressionError(f"a map key must be a string, not {_type(index)}")
        return target.get(index)
    if not _is_array(target):
        raise ExpressionError(f"cannot index {_type(target)}")
    if not isinstance(index, int) or isinstance(index, bool):
        raise ExpressionError(f"an array index must be an int, not {_type(index)}")
    length = len(target)
    position = index + length if index < 0 else index
    if not 0 <= position < length:
        raise ExpressionError(f"index out of range: {index} (array length is {length})")
    return target[position]


def _field(target: object, name: str) -> object:
    if not isinstance(target, Mapping):
        raise ExpressionError(
            f"cannot read field '{name}' of {_type(target)}: only maps have fields"
        )
    return target.get(name)


def _len(value: object) -> int:
    if isinstance(value, str | Mapping) or _is_array(value):
        return len(value)
    raise ExpressionError(f"len() needs a string, an array or a map, not {_type(value)}")


def _as_int(value: object) -> int:
    """Argo's ``asInt``: numbers truncate, strings must be base-10 integers."""
    if _is_number(value):
        number = value
        if math.isnan(number) or math.isinf(number):
            raise ExpressionError(f"asInt() cannot convert {number}")
        return int(number)
    if isinstance(value, str):
        text = value[1:] if value[:1] in "+-" else value
        if text.isascii() and text.isdigit():
            return int(value)
        raise ExpressionError(f'asInt() cannot parse "{value}" as an integer')
    raise ExpressionError(f"asInt() not supported on {_type(value)}")


def _as_float(value: object) -> float:
    """Argo's ``asFloat``: numbers convert, strings are parsed (``NaN`` and ``Inf`` too)."""
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        if value.strip() != value or "_" in value:
            raise ExpressionError(f'asFloat() cannot parse "{value}" as a float')
        try:
            return float(value)
        except ValueError as exc:
            raise ExpressionError(f'asFloat() cannot parse "{value}" as a float') from exc
    raise ExpressionError(f"asFloat() not supported on {_type(value)}")


def _abs(value: object) -> object:
    return abs(_number(value, "abs()"))


def _is_nan(value: object) -> bool:
    number = _number(value, "isNaN()")
    return isinstance(number, float) and math.isnan(number)


def _is_inf(value: object) -> bool:
    number = _number(value, "isInf()")
    return isinstance(number, float) and math.isinf(number)


def _default(value: object, fallback: object) -> object:
    return fallback if value is None else value


_BINARY: Final[dict[str, Callable[[object, object], object]]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    **{op: _compare(op) for op in ("<", "<=", ">", ">=")},
    **{op: _arithmetic(op) for op in ("+", "-", "*", "/", "%", "**", "^")},
    "in": _membership(negate=False),
    "not in": _membership(negate=True),
}
_FUNCTIONS: Final[dict[str, Callable[..., object]]] = {
    "len": _len,
    "abs": _abs,
    "asInt": _as_int,
    "asFloat": _as_float,
    "isNaN": _is_nan,
    "isInf": _is_inf,
    "isNil": lambda value: value is None,
    "default": _default,
}
