"""The UTF-8 matcher parser: a port of ``matcher/parse`` (Alertmanager >= 0.27).

A lexer (``lexer.go``) and a small state machine (``parse.go``):

- Names and values are either double-quoted Go string literals (``"foo\\n"``, ``"\\U0001f642"``;
  an invalid escape such as ``"\\d"`` is an error) or unquoted runs of any characters except
  whitespace and ``{}!=~,\\"'``` (so ``foo=🙂`` works, ``foo=bar\\n`` does not).
- Braces are optional but must be balanced; a trailing comma is allowed.

Positions in error messages count characters (Go counts runes; the two agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeAlias

from opsplane.domain.routing.goregex import GoRegexError
from opsplane.domain.routing.matchers import GO_WHITESPACE, Matcher, MatcherParseError, MatchType

_RESERVED = frozenset(GO_WHITESPACE + "{}!=~,\\\"'`")
_SIMPLE = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


class _Kind(Enum):
    EOF = "EOF"
    OPEN_BRACE = "OpenBrace"
    CLOSE_BRACE = "CloseBrace"
    COMMA = "Comma"
    EQUALS = "="
    NOT_EQUALS = "!="
    MATCHES = "=~"
    NOT_MATCHES = "!~"
    QUOTED = "Quoted"
    UNQUOTED = "Unquoted"


_OPERATORS = (_Kind.EQUALS, _Kind.NOT_EQUALS, _Kind.MATCHES, _Kind.NOT_MATCHES)


class _EndOfInputError(MatcherParseError):
    """``errEOF``: the parser wanted a token and the input ended."""

    def __init__(self) -> None:
        super().__init__("end of input")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    value: str = ""
    start: int = 0
    end: int = 0

    def unquote(self) -> str:
        """The text of a name or value; a quoted one is read as a Go string literal."""
        if self.kind is not _Kind.QUOTED:
            return self.value
        try:
            return go_unquote(self.value)
        except ValueError as exc:
            raise MatcherParseError(
                f"{self.start}:{self.end}: {self.value}: invalid input"
            ) from exc


def go_unquote(literal: str) -> str:
    """Go's ``strconv.Unquote`` for a double-quoted literal, whose result must be UTF-8.

    Raises:
        ValueError: not a valid literal, or its bytes are not valid UTF-8.
    """
    body, out, i = literal[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch in '"\n':
            raise ValueError("unescaped quote or newline")
        if ch != "\\":
            out += ch.encode()
            i += 1
            continue
        code, width, is_byte = _escape(body, i + 1)
        out += bytes([code]) if is_byte else chr(code).encode()
        i += 1 + width
    return out.decode()  # UnicodeDecodeError is a ValueError


def _escape(body: str, i: int) -> tuple[int, int, bool]:
    """One escape after a backslash: (code, characters used, whether the code is a raw byte)."""
    ch = body[i : i + 1]
    if ch in _SIMPLE:
        return _SIMPLE[ch], 1, False
    digits = {"x": 2, "u": 4, "U": 8}.get(ch)
    if digits is not None:
        text = body[i + 1 : i + 1 + digits]
        if len(text) != digits or any(c not in "0123456789abcdefABCDEF" for c in text):
            raise ValueError("bad hex escape")
        code = int(text, 16)
        if ch != "x" and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
            raise ValueError("invalid code point")
        return code, 1 + digits, ch == "x"
    text = body[i : i + 3]
    if len(text) == 3 and all("0" <= c <= "7" for c in text) and int(text, 8) <= 255:
        return int(text, 8), 3, True
    raise ValueError("invalid escape")


class _Lexer:
    """``lexer.go``: one token per :meth:`scan`; positions are character offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.start = 0
        self.pos = 0

    def scan(self) -> _Token:
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            single = {"{": _Kind.OPEN_BRACE, "}": _Kind.CLOSE_BRACE, ",": _Kind.COMMA}.get(ch)
            if single is not None:
                self.pos += 1
                return self.emit(single)
            if ch in "=!":
                return self.scan_operator()
            if ch == '"':
                return self.scan_quoted()
            if ch not in _RESERVED:
                return self.scan_unquoted()
            if ch not in GO_WHITESPACE:
                self.pos += 1
                raise MatcherParseError(f"{self.start}:{self.pos}: {ch}: invalid input")
            self.pos += 1
            self.start = self.pos
        return _Token(_Kind.EOF)

    def peek(self) -> _Token:
        start, pos = self.start, self.pos
        try:
            return self.scan()
        finally:
            self.start, self.pos = start, pos

    def emit(self, kind: _Kind) -> _Token:
        token = _Token(kind, self.text[self.start : self.pos], self.start, self.pos)
        self.start = self.pos
        return token

    def accept(self, valid: str) -> bool:
        if self.text[self.pos : self.pos + 1] and self.text[self.pos] in valid:
            self.pos += 1
            return True
        return False

    def scan_operator(self) -> _Token:
        if self.accept("!"):
            if self.accept("="):
                return self.emit(_Kind.NOT_EQUALS)
            if self.accept("~"):
                return self.emit(_Kind.NOT_MATCHES)
            raise self.expected("=~")
        self.accept("=")
        return self.emit(_Kind.MATCHES if self.accept("~") else _Kind.EQUALS)

    def expected(self, what: str) -> MatcherParseError:
        if self.pos >= len(self.text):
            return MatcherParseError(
                f"{self.start}:{self.pos}: unexpected end of input, expected one of '{what}'"
            )
        return MatcherParseError(
            f"{self.start}:{self.pos}: {self.text[self.start : self.pos]}: expected one of '{what}'"
        )

    def scan_quoted(self) -> _Token:
        self.pos += 1
        escaped = False
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                self.pos += 1
                return self.emit(_Kind.QUOTED)
            self.pos += 1
        raise MatcherParseError(
            f'{self.start}:{self.pos}: {self.text[self.start : self.pos]}: missing end "'
        )

    def scan_unquoted(self) -> _Token:
        while self.pos < len(self.text) and self.text[self.pos] not in _RESERVED:
            self.pos += 1
        return self.emit(_Kind.UNQUOTED)


_State: TypeAlias = "Callable[[], _State | None]"


class _Parser:
    """``parse.go``: states return the next state, or ``None`` at the end."""

    def __init__(self, text: str) -> None:
        self.lexer = _Lexer(text)
        self.matchers: list[Matcher] = []
        self.has_open_brace = False

    def run(self) -> list[Matcher]:
        state: _State | None = self.open_brace
        while state is not None:
            state = state()
        return self.matchers

    def peek(self, *kinds: _Kind) -> _Token:
        """``expectPeek``: the next token if it is one of ``kinds``."""
        token = self.lexer.peek()
        if token.kind is _Kind.EOF:
            raise _EndOfInputError
        if token.kind not in kinds:
            raise MatcherParseError(f"{token.start}:{token.end}: unexpected {token.value}")
        return token

    def expect(self, *kinds: _Kind) -> _Token:
        token = self.peek(*kinds)
        self.lexer.scan()
        return token

    def open_brace(self) -> _State | None:
        token = self.lexer.peek()
        if token.kind is _Kind.EOF:
            return self.eof
        if token.kind is _Kind.OPEN_BRACE:
            self.has_open_brace = True
            self.lexer.scan()
        token = self.lexer.peek()
        if token.kind in (_Kind.EOF, _Kind.CLOSE_BRACE):
            return self.close_brace
        return self.matcher

    def close_brace(self) -> _State | None:
        if self.has_open_brace:
            try:
                self.expect(_Kind.CLOSE_BRACE)
            except MatcherParseError as exc:
                msg = f"0:{self.lexer.pos}: {exc}: expected close brace"
                raise MatcherParseError(msg) from exc
            return self.eof
        try:
            self.expect(_Kind.CLOSE_BRACE)
        except MatcherParseError:
            return self.eof
        raise MatcherParseError(f"0:{self.lexer.pos}: }}: expected opening brace")

    def matcher(self) -> _State | None:
        name = self.wrapped(lambda: self.expect(_Kind.QUOTED, _Kind.UNQUOTED), "label name")
        op = self.wrapped(
            lambda: self.expect(*_OPERATORS),
            "an operator such as '=', '!=', '=~' or '!~'",
        )
        value = self.wrapped(lambda: self.expect(_Kind.UNQUOTED, _Kind.QUOTED), "label value")
        op_type: MatchType = op.kind.value  # type: ignore[assignment]  # one of _OPERATORS
        try:
            self.matchers.append(Matcher(op_type, name.unquote(), value.unquote()))
        except GoRegexError as exc:
            raise MatcherParseError(f"failed to create matcher: {exc}") from exc
        return self.end_of_matcher

    @staticmethod
    def wrapped(step: Callable[[], _Token], what: str) -> _Token:
        try:
            return step()
        except MatcherParseError as exc:
            raise MatcherParseError(f"{exc}: expected {what}") from exc

    def end_of_matcher(self) -> _State | None:
        try:
            token = self.peek(_Kind.COMMA, _Kind.CLOSE_BRACE)
        except _EndOfInputError:
            return self.close_brace
        except MatcherParseError as exc:
            raise MatcherParseError(f"{exc}: expected a comma or close brace") from exc
        return self.comma if token.kind is _Kind.COMMA else self.close_brace

    def comma(self) -> _State | None:
        self.expect(_Kind.COMMA)
        try:
            token = self.peek(_Kind.CLOSE_BRACE, _Kind.UNQUOTED, _Kind.QUOTED)
        except _EndOfInputError:
            return self.close_brace
        except MatcherParseError as exc:
            msg = f"{exc}: expected a matcher or close brace after comma"
            raise MatcherParseError(msg) from exc
        return self.close_brace if token.kind is _Kind.CLOSE_BRACE else self.matcher

    def eof(self) -> _State | None:
        try:
            token = self.lexer.scan()
        except MatcherParseError as exc:
            raise MatcherParseError(f"{exc}: expected end of input") from exc
        if token.kind is not _Kind.EOF:
            msg = f"{token.start}:{token.end}: {token.value}: expected end of input"
            raise MatcherParseError(msg)
        return None


def parse_matchers(text: str) -> list[Matcher]:
    """``parse.Matchers``: zero or more matchers, such as ``{foo="bar", "a b"=~"x.*"}``.

    Raises:
        MatcherParseError: the text does not follow the grammar (or a regex does not compile).
    """
    return _Parser(text).run()


def parse_matcher(text: str) -> Matcher:
    """``parse.Matcher``: exactly one matcher.

    Raises:
        MatcherParseError: the text is invalid, or holds no or several matchers.
    """
    found = parse_matchers(text)
    if not found:
        raise MatcherParseError("no matchers")
    if len(found) > 1:
        raise MatcherParseError(f"expected 1 matcher, found {len(found)}")
    return found[0]
