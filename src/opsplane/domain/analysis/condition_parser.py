"""Parse a condition into a small syntax tree (the subset of expr-lang that Argo templates use).

Argo Rollouts compiles ``successCondition`` and ``failureCondition`` with expr-lang
(``utils/evaluate/evaluate.go``, ``EvalCondition``). This parser accepts the part of that
language that analysis templates use, with expr-lang's precedences
(``parser/operator/operator.go``), and rejects the rest with a message that names it:

- literals: numbers (``0.95``, ``1e-3``, ``1_000``), strings, ``true``, ``false``, ``nil``,
  arrays ``[1, 2]``;
- the one variable ``result``; ``result[0]``, ``result[-1]``, ``result.field`` and
  ``result["field"]`` (fields and keys of a map result only);
- ``!``/``not``, unary ``-``/``+``; ``**``/``^``; ``*``, ``/``, ``%``; ``+``, ``-``;
  ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in``, ``not in``; ``&&``/``and``;
  ``||``/``or``; ``??``; ``cond ? a : b``;
- calls of the functions in :data:`FUNCTIONS` only; ``all``, ``any`` and ``none`` take a
  predicate over ``#`` (``all(result, {# < 0.5})``, braces optional).

There is no ``eval``: the tree is walked by :mod:`.condition_eval`, which reads map keys
(never Python attributes) and calls only its own functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias

from opsplane.domain.analysis.condition_lexer import ExpressionError, Token, tokenize

MAX_LENGTH: Final = 4096
"""The longest condition accepted (templates use a few dozen characters)."""
MAX_DEPTH: Final = 100
"""The deepest syntax tree accepted (parentheses, operands of operands, ...), so that parsing
and evaluation never exhaust Python's stack; templates nest a handful of levels."""

# expr-lang's precedences (parser/operator/operator.go); higher binds tighter.
BINARY: Final[dict[str, int]] = {
    "||": 10, "or": 10, "&&": 15, "and": 15,
    "==": 20, "!=": 20, "<": 20, ">": 20, "<=": 20, ">=": 20, "in": 20, "not in": 20,
    "+": 30, "-": 30, "*": 60, "/": 60, "%": 60, "**": 100, "^": 100, "??": 500,
}  # fmt: skip
RIGHT_ASSOCIATIVE: Final = frozenset({"**", "^"})
UNARY: Final[dict[str, int]] = {"!": 50, "not": 50, "-": 90, "+": 90}
UNSUPPORTED: Final[dict[str, str]] = {
    "matches": "the 'matches' operator",
    "contains": "the 'contains' operator",
    "startsWith": "the 'startsWith' operator",
    "endsWith": "the 'endsWith' operator",
    "..": "ranges ('..')",
    "?.": "optional chaining ('?.')",
    "|": "pipes ('|')",
    "let": "variables ('let')",
}
FUNCTIONS: Final[dict[str, int]] = {
    "len": 1, "abs": 1, "asInt": 1, "asFloat": 1, "isNaN": 1, "isInf": 1, "isNil": 1,
    "default": 2, "all": 2, "any": 2, "none": 2,
}  # fmt: skip
"""The callable functions and their arity (Argo's environment plus expr-lang built-ins)."""
PREDICATE_FUNCTIONS: Final = frozenset({"all", "any", "none"})
VARIABLES: Final = frozenset({"result"})
_LITERALS: Final[dict[str, object]] = {"true": True, "false": False, "nil": None}


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant."""

    value: object


@dataclass(frozen=True, slots=True)
class Variable:
    """``result``."""

    name: str


@dataclass(frozen=True, slots=True)
class Placeholder:
    """``#``: the element a predicate of ``all``/``any``/``none`` is applied to."""


@dataclass(frozen=True, slots=True)
class ArrayNode:
    """``[a, b, ...]``."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary:
    """``op operand``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional:
    """``test ? then : otherwise``."""

    test: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Index:
    """``target[index]``: an array element or a map key."""

    target: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Field:
    """``target.name``: a map key (never a Python attribute)."""

    target: Node
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """``function(args...)`` of one of :data:`FUNCTIONS`."""

    function: str
    args: tuple[Node, ...]


Node: TypeAlias = (
    Literal
    | Variable
    | Placeholder
    | ArrayNode
    | Unary
    | Binary
    | Conditional
    | Index
    | Field
    | Call
)


def parse(source: str) -> Node:
    """The syntax tree of a condition.

    Raises:
        ExpressionError: the text is not in the supported language; the message names the
            construct and its column.
    """
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"condition is longer than {MAX_LENGTH} characters")
    parser = _Parser(tokenize(source))
    node = parser.expression(0)
    parser.expect_end()
    if _depth(node) > MAX_DEPTH:
        raise ExpressionError(f"condition is nested deeper than {MAX_DEPTH} levels")
    return node


class _Parser:
    """A precedence-climbing parser over one token list (private; use :func:`parse`)."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.predicates = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        self.pos = min(self.pos + 1, len(self.tokens) - 1)
        return token

    def at(self, text: str) -> bool:
        return self.peek.kind in ("op", "name") and self.peek.text == text

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise _unexpected(self.peek, f"expected '{text}'")
        self.advance()

    def expect_end(self) -> None:
        if self.peek.kind != "end":
            raise _unexpected(self.peek)

    def expression(self, min_precedence: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"condition is nested deeper than {MAX_DEPTH} levels")
        left = self.unary()
        while (op := self.binary_operator()) is not None and BINARY[op] >= min_precedence:
            self.advance()
            if op == "not in":
                self.advance()
            precedence = BINARY[op]
            right = self.expression(precedence if op in RIGHT_ASSOCIATIVE else precedence + 1)
            left = Binary(op, left, right)
        if min_precedence == 0 and self.at("?"):
            left = self.conditional(left)
        self.depth -= 1
        return left

    def binary_operator(self) -> str | None:
        token = self.peek
        if token.kind not in ("op", "name"):
            return None
        if token.text in UNSUPPORTED:
            raise _unsupported(token)
        if token.text == "not" and self.tokens[self.pos + 1].text == "in":
            return "not in"
        return token.text if token.text in BINARY else None

    def conditional(self, test: Node) -> Node:
        self.expect("?")
        then = self.expression(0)
        self.expect(":")
        return Conditional(test, then, self.expression(0))

    def unary(self) -> Node:
        token = self.peek
        if token.kind in ("op", "name") and token.text in UNARY:
            self.advance()
            operand = self.expression(UNARY[token.text])
            return self.postfix(Unary(token.text, operand))
        return self.postfix(self.primary())

    def primary(self) -> Node:
        token = self.advance()
        if token.kind == "number":
            return Literal(_number(token))
        if token.kind == "string":
            return Literal(token.text)
        if token.kind == "name":
            return self.name(token)
        if token.text == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if token.text == "[":
            return ArrayNode(self.arguments("]"))
        if token.text == "#":
            if self.predicates == 0:
                msg = f"'#' at column {token.column} is only allowed in a predicate of all/any/none"
                raise ExpressionError(msg)
            return Placeholder()
        raise _unexpected(token)

    def name(self, token: Token) -> Node:
        if token.text in _LITERALS:
            return Literal(_LITERALS[token.text])
        if token.text in UNSUPPORTED:
            raise _unsupported(token)
        if token.text in BINARY:  # "and", "or", "in" where an operand belongs
            raise _unexpected(token)
        if self.at("("):
            return self.call(token)
        if token.text in VARIABLES:
            return Variable(token.text)
        if token.text in FUNCTIONS:
            msg = f"function '{token.text}' at column {token.column} must be called"
            raise ExpressionError(msg)
        msg = (
            f"unknown name '{token.text}' at column {token.column} (the only variable is 'result')"
        )
        raise ExpressionError(msg)

    def call(self, token: Token) -> Node:
        if token.text not in FUNCTIONS:
            supported = ", ".join(sorted(FUNCTIONS))
            msg = (
                f"unknown function '{token.text}' at column {token.column} (supported: {supported})"
            )
            raise ExpressionError(msg)
        self.expect("(")
        if token.text in PREDICATE_FUNCTIONS:
            collection = self.expression(0)
            self.expect(",")
            args: tuple[Node, ...] = (collection, self.predicate())
            self.expect(")")
        else:
            args = self.arguments(")")
        if len(args) != FUNCTIONS[token.text]:
            msg = (
                f"function '{token.text}' at column {token.column} takes "
                f"{FUNCTIONS[token.text]} argument(s), not {len(args)}"
            )
            raise ExpressionError(msg)
        return Call(token.text, args)

    def predicate(self) -> Node:
        self.predicates += 1
        braced = self.at("{")
        if braced:
            self.advance()
        node = self.expression(0)
        if braced:
            self.expect("}")
        self.predicates -= 1
        return node

    def arguments(self, closing: str) -> tuple[Node, ...]:
        items: list[Node] = []
        while not self.at(closing):
            items.append(self.expression(0))
            if not self.at(closing):
                self.expect(",")
        self.advance()
        return tuple(items)

    def postfix(self, node: Node) -> Node:
        while True:
            token = self.peek
            if token.text == "[" and token.kind == "op":
                self.advance()
                index = self.expression(0)
                if self.at(":"):
                    raise ExpressionError(f"slices are not supported (column {self.peek.column})")
                self.expect("]")
                node = Index(node, index)
            elif token.text == "." and token.kind == "op":
                self.advance()
                name = self.advance()
                if name.kind != "name":
                    raise _unexpected(name, "expected a field name")
                node = Field(node, name.text)
            elif token.text == "(" and token.kind == "op":
                msg = f"only the functions {', '.join(sorted(FUNCTIONS))} can be called"
                raise ExpressionError(f"{msg} (column {token.column})")
            else:
                return node


def _number(token: Token) -> int | float:
    text = token.text
    if text.endswith("_") or "__" in text or "_." in text or "._" in text:
        raise ExpressionError(f"invalid number '{text}' at column {token.column}")
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


def _unexpected(token: Token, expected: str = "") -> ExpressionError:
    found = "end of condition" if token.kind == "end" else f"'{token.text}'"
    suffix = f": {expected}" if expected else ""
    return ExpressionError(f"unexpected {found} at column {token.column}{suffix}")


def _unsupported(token: Token) -> ExpressionError:
    return ExpressionError(f"{UNSUPPORTED[token.text]} is not supported (column {token.column})")


def _depth(root: Node) -> int:
    """The depth of a tree, walked without recursion (a long ``a + b + ...`` is deep)."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(node))
    return deepest


def _children(node: Node) -> tuple[Node, ...]:
    match node:
        case ArrayNode(items) | Call(_, items):
            return items
        case Unary(_, operand) | Field(operand, _):
            return (operand,)
        case Binary(_, left, right) | Index(left, right):
            return (left, right)
        case Conditional(test, then, otherwise):
            return (test, then, otherwise)
    return ()
