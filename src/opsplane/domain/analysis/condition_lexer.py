"""Tokens of the condition language (a subset of expr-lang, which Argo Rollouts evaluates).

The lexer knows numbers, strings, names, the predicate placeholder ``#`` and the operators of
:mod:`.condition_parser`; anything else is an :class:`ExpressionError` that names the column.
Nothing here evaluates anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

TokenKind: TypeAlias = Literal["number", "string", "name", "op", "end"]

_NUMBER: Final = re.compile(r"\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest first, so that "**" wins over "*" and "<=" over "<".
_OPERATORS: Final = (
    "**", "==", "!=", "<=", ">=", "&&", "||", "??", "..", "?.",
    "+", "-", "*", "/", "%", "^", "<", ">", "!", "(", ")", "[", "]", "{", "}",
    ",", ".", "?", ":", "#",
)  # fmt: skip
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class ExpressionError(ValueError):
    """A condition cannot be parsed or evaluated; the message says where and why.

    Added in 0.1.0 for analysis runs: the phase of such a measurement is ``Error``.
    """


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its text (a string's decoded value) and its 1-based column."""

    kind: TokenKind
    text: str
    column: int


def tokenize(source: str) -> list[Token]:
    """Split ``source`` into tokens, ending with an ``end`` token.

    Raises:
        ExpressionError: an unterminated string or a character the language does not use.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char.isspace():
            pos += 1
            continue
        token, pos = _next_token(source, pos)
        tokens.append(token)
    tokens.append(Token("end", "", len(source) + 1))
    return tokens


def _next_token(source: str, pos: int) -> tuple[Token, int]:
    column = pos + 1
    char = source[pos]
    if char in "\"'":
        text, end = _string(source, pos)
        return Token("string", text, column), end
    if (number := _NUMBER.match(source, pos)) is not None:
        return Token("number", number.group(), column), number.end()
    if (name := _NAME.match(source, pos)) is not None:
        return Token("name", name.group(), column), name.end()
    for op in _OPERATORS:
        if source.startswith(op, pos):
            return Token("op", op, column), pos + len(op)
    raise ExpressionError(f"unexpected character {char!r} at column {column}")


def _string(source: str, start: int) -> tuple[str, int]:
    """The decoded text of the string literal opening at ``start``, and the index after it."""
    quote = source[start]
    out: list[str] = []
    pos = start + 1
    while pos < len(source):
        char = source[pos]
        if char == quote:
            return "".join(out), pos + 1
        if char == "\\":
            escaped = source[pos + 1 : pos + 2]
            if escaped not in _ESCAPES:
                msg = f"unknown escape '\\{escaped}' in the string at column {start + 1}"
                raise ExpressionError(msg)
            out.append(_ESCAPES[escaped])
            pos += 2
            continue
        out.append(char)
        pos += 1
    raise ExpressionError(f"unterminated string starting at column {start + 1}")
