"""Go (RE2) regular expressions, run on Python's ``re`` with Go's meaning.

Alertmanager compiles every regex matcher with Go's ``regexp`` package as ``^(?:value)$``
(``pkg/labels/matcher.go`` ``NewMatcher``). Python's ``re`` reads much of that syntax
differently, so :func:`compile_go` translates a pattern construct by construct (the grammar is
Go's ``regexp/syntax/parse.go`` with the ``Perl`` flags) instead of handing it over verbatim:

- ``^`` and ``$`` are the start and end of the text unless ``(?m)`` is set; Python's ``$``
  also matches before a final newline, so both become explicit assertions.
- ``\\d``, ``\\s``, ``\\w``, ``\\b`` and the POSIX classes ``[[:alpha:]]`` are ASCII-only in Go.
- Flags may appear mid-pattern (``a(?i)b``) and last to the end of the group; Python 3.11
  only accepts global flags at the start, so ``i`` becomes scoped groups and ``s``/``m`` are
  applied while translating ``.``, ``^`` and ``$``. ``U`` (ungreedy) cannot change whether a
  full match exists, so it is accepted and ignored.
- ``x{,3}`` is a literal in Go, a repetition in Python; ``\\Q...\\E`` quotes literally.
- What RE2 rejects is rejected: backreferences, lookaround, atomic groups, possessive or
  nested repetition, repeat counts above 1000.

Not supported (rejected with a clear message): Unicode classes ``\\p{...}``/``\\P{...}`` and
``\\C``. Character classes are emitted as explicit code-point ranges, which also keeps Python
from warning about ``[[`` or ``--`` inside a class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

_MAX_REPEAT = 1000  # regexp/syntax: maxRepeat
_MAX_RUNE = 0x10FFFF
_WORD = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_PERL: dict[str, tuple[tuple[int, int], ...]] = {
    "d": ((0x30, 0x39),),
    "s": ((0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)),
    "w": _WORD,
}
_POSIX: dict[str, tuple[tuple[int, int], ...]] = {  # regexp/syntax/perl_groups.go
    "alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "ascii": ((0x00, 0x7F),),
    "blank": ((0x09, 0x09), (0x20, 0x20)),
    "cntrl": ((0x00, 0x1F), (0x7F, 0x7F)),
    "digit": ((0x30, 0x39),),
    "graph": ((0x21, 0x7E),),
    "lower": ((0x61, 0x7A),),
    "print": ((0x20, 0x7E),),
    "punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "space": ((0x09, 0x0D), (0x20, 0x20)),
    "upper": ((0x41, 0x5A),),
    "word": _WORD,
    "xdigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
}
_SIMPLE_ESCAPES = {"a": 7, "f": 12, "t": 9, "n": 10, "r": 13, "v": 11}
_WORD_CLASS = "[0-9A-Za-z_]"
_ASCII_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))"
_ASCII_NON_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))"
_REPEAT = re.compile(r"\{(\d+)(,(\d*))?\}")
_NAME = re.compile(r"[A-Za-z0-9_]+")
_HEX = re.compile(r"\\x(?:\{([0-9a-fA-F]{1,8})\}|([0-9a-fA-F]{2}))")
_POSIX_CLASS = re.compile(r"\[:(\^?)([a-z]+):\]")
_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([:)])")


class GoRegexError(ValueError):
    """The pattern is not a valid Go regular expression (or uses an unsupported construct)."""


@dataclass(frozen=True, slots=True)
class _Flags:
    i: bool = False
    m: bool = False
    s: bool = False


@dataclass(slots=True)
class _Translator:  # a cursor over one pattern: private, short-lived, mutable by design
    src: str
    pos: int = 0
    out: list[str] = field(default_factory=list)
    flags: _Flags = field(default_factory=_Flags)
    # One entry per open group: (flags outside it, whether a mid-group ``(?i)`` scope is open).
    stack: list[tuple[_Flags, bool]] = field(default_factory=list)
    scoped: bool = False  # a ``(?i:``/``(?-i:`` opened by a mid-group flag is open
    can_repeat: bool = False  # the previous item may take a repetition operator

    def fail(self, message: str) -> GoRegexError:
        """Go's ``syntax.Error`` text; messages without a quoted fragment quote the pattern."""
        if "`" not in message:
            message += f": `{self.src}`"
        return GoRegexError(f"error parsing regexp: {message}")

    def run(self) -> str:
        while self.pos < len(self.src):
            self.step()
        if self.stack:
            raise self.fail("missing closing )")
        self.close_scope()
        return "".join(self.out)

    def step(self) -> None:
        c = self.src[self.pos]
        if c in "*+?{":
            self.repeat(c)
            return
        self.can_repeat = True
        if c == "(":
            self.open_group()
        elif c == ")":
            self.close_group()
        elif c == "|":
            self.pos += 1
            self.alternate()
        elif c == "[":
            self.out.append(self.char_class())
        elif c == "\\":
            self.escape()
        else:
            self.pos += 1
            self.out.append(self.atom(c))

    def atom(self, c: str) -> str:
        if c == ".":
            return "[\\s\\S]" if self.flags.s else "[^\\n]"
        # assertions are wrapped: Go may repeat them (``^*``), Python's bare ``\\A*`` is an error
        if c == "^":
            return "(?:(?<=\\n)|\\A)" if self.flags.m else "(?:\\A)"
        if c == "$":
            return "(?=\\n|\\Z)" if self.flags.m else "(?:\\Z)"
        return re.escape(c)

    def alternate(self) -> None:
        # a mid-group ``(?i)`` lasts to the end of the group, across ``|``
        reopen = self.scoped
        self.close_scope()
        self.out.append("|")
        if reopen:
            self.open_scope()
        self.can_repeat = False

    def open_scope(self) -> None:
        self.out.append("(?i:" if self.flags.i else "(?-i:")
        self.scoped = True

    def close_scope(self) -> None:
        if self.scoped:
            self.out.append(")")
            self.scoped = False

    def repeat(self, c: str) -> None:
        if c == "{":
            found = _REPEAT.match(self.src, self.pos)
            if found is None:  # not a repeat: Go reads "{" as a literal
                self.pos += 1
                self.out.append("\\{")
                self.can_repeat = True
                return
            self.check_count(found)
            text = found.group(0)
        else:
            text = c
        if not self.can_repeat:
            op = self.src[self.pos : self.pos + len(text) + 1]
            nested = self.out and self.out[-1][-1:] in "*+?}"
            raise self.fail(
                f"{'invalid nested' if nested else 'missing argument to'} "
                f"repetition operator: `{op.rstrip()}`"
            )
        self.pos += len(text)
        if self.src.startswith("?", self.pos):
            self.pos += 1
            text += "?"
        self.out.append(text)
        self.can_repeat = False

    def check_count(self, found: re.Match[str]) -> None:
        low = int(found.group(1))
        high = low if found.group(2) is None else (int(found.group(3) or -1))
        if low > _MAX_REPEAT or high > _MAX_REPEAT or (high != -1 and high < low):
            raise self.fail(f"invalid repeat count: `{found.group(0)}`")

    def open_group(self) -> None:
        if not self.src.startswith("(?", self.pos):
            self.push("(", 1)
            return
        flags = _FLAGS.match(self.src, self.pos)
        if flags is not None:
            self.flag_group(flags)
            return
        for prefix in ("(?P<", "(?<"):
            if self.src.startswith(prefix, self.pos):
                end = self.src.find(">", self.pos)
                name = self.src[self.pos + len(prefix) : end] if end != -1 else ""
                if end == -1 or not _NAME.fullmatch(name):
                    raise self.fail(f"invalid named capture: `{self.src[self.pos :]}`")
                self.push("(", end + 1 - self.pos)
                return
        raise self.fail(
            f"invalid or unsupported Perl syntax: `{self.src[self.pos : self.pos + 3]}`"
        )

    def flag_group(self, found: re.Match[str]) -> None:
        on, off, end = found.group(1), found.group(2), found.group(3)
        if (not on and off is None and end == ")") or off == "":
            raise self.fail(f"invalid or unsupported Perl syntax: `{found.group(0)}`")
        settings = dict.fromkeys(on, True) | dict.fromkeys(off or "", False)
        settings.pop("U", None)  # ungreedy: no effect on whether a full match exists
        new = replace(self.flags, **settings)
        self.pos = found.end()
        if end == ":":
            self.push("(?:", 0, new)
            return
        changed_i = new.i != self.flags.i
        self.flags = new
        self.can_repeat = False
        if changed_i:
            self.close_scope()
            self.open_scope()

    def push(self, text: str, advance: int, flags: _Flags | None = None) -> None:
        self.pos += advance
        self.stack.append((self.flags, self.scoped))
        self.scoped = False
        if flags is not None and flags.i != self.flags.i:
            text = "(?i:" if flags.i else "(?-i:"
        self.flags = flags if flags is not None else self.flags
        self.out.append(text)
        self.can_repeat = False

    def close_group(self) -> None:
        if not self.stack:
            raise self.fail("unexpected )")
        self.pos += 1
        self.close_scope()
        self.flags, self.scoped = self.stack.pop()
        self.out.append(")")
        self.can_repeat = True

    def escape(self) -> None:
        if self.src.startswith("\\Q", self.pos):
            end = self.src.find("\\E", self.pos + 2)
            stop = len(self.src) if end == -1 else end
            # one atom per character, so a following ``*`` repeats the last one, as in Go
            self.out.extend(re.escape(ch) for ch in self.src[self.pos + 2 : stop])
            self.pos = len(self.src) if end == -1 else end + 2
            return
        c = self.src[self.pos + 1 : self.pos + 2]
        special = {"A": "(?:\\A)", "z": "(?:\\Z)", "b": _ASCII_BOUNDARY, "B": _ASCII_NON_BOUNDARY}
        if c in special and c:
            self.pos += 2
            self.out.append(special[c])
            return
        ranges, negated = self.class_escape()
        self.out.append(_emit_class(ranges, negated))

    def class_escape(self) -> tuple[list[tuple[int, int]], bool]:
        """An escape that stands for a set of characters (or one): ``\\d``, ``\\x41``, ``\\.``."""
        c = self.src[self.pos + 1 : self.pos + 2]
        if not c:
            raise self.fail("trailing backslash at end of expression")
        if c.lower() in _PERL:
            self.pos += 2
            return list(_PERL[c.lower()]), c.isupper()
        if c in "pP":
            raise self.fail(f"unsupported Unicode class escape: `\\{c}` (use an explicit class)")
        code = self.char_escape()
        return [(code, code)], False

    def char_escape(self) -> int:
        """One escaped character; ``self.pos`` is at the backslash."""
        c = self.src[self.pos + 1]
        if c in _SIMPLE_ESCAPES:
            self.pos += 2
            return _SIMPLE_ESCAPES[c]
        if c == "x":
            return self.hex_escape()
        if "0" <= c <= "7":
            return self.octal_escape()
        if c.isascii() and not c.isalnum():
            self.pos += 2
            return ord(c)
        raise self.fail(f"invalid escape sequence: `\\{c}`")

    def hex_escape(self) -> int:
        """``\\x41`` (exactly two digits) or ``\\x{10FFFF}``."""
        found = _HEX.match(self.src, self.pos)
        digits = found.group(1) or found.group(2) if found else None
        if found is None or not digits or int(digits, 16) > _MAX_RUNE:
            raise self.fail(f"invalid escape sequence: `{self.src[self.pos : self.pos + 4]}`")
        self.pos = found.end()
        return int(digits, 16)

    def octal_escape(self) -> int:
        # regexp/syntax: a single digit 1-7 is a backreference (unsupported); \0 and \12 are octal
        digits = self.src[self.pos + 1]
        rest = self.src[self.pos + 2 : self.pos + 4]
        if digits != "0" and not (rest[:1] and "0" <= rest[0] <= "7"):
            raise self.fail(f"invalid escape sequence: `\\{digits}`")
        for d in rest:
            if not "0" <= d <= "7":
                break
            digits += d
        self.pos += 1 + len(digits)
        return int(digits, 8)

    def char_class(self) -> str:
        start = self.pos
        self.pos += 1
        negated = self.src.startswith("^", self.pos)
        self.pos += negated
        ranges: list[tuple[int, int]] = []
        first = True
        while self.pos < len(self.src) and (first or self.src[self.pos] != "]"):
            first = False
            ranges.extend(self.class_item())
        if self.pos >= len(self.src):
            raise self.fail(f"missing closing ]: `{self.src[start:]}`")
        self.pos += 1
        return _emit_class(ranges, negated)

    def class_item(self) -> list[tuple[int, int]]:
        posix = _POSIX_CLASS.match(self.src, self.pos)
        if posix is not None:
            if posix.group(2) not in _POSIX:
                raise self.fail(f"invalid character class range: `{posix.group(0)}`")
            self.pos = posix.end()
            ranges = list(_POSIX[posix.group(2)])
            return _complement(ranges) if posix.group(1) else ranges
        low = self.class_char()
        if isinstance(low, list):
            return low
        if self.src.startswith("-", self.pos) and not self.src.startswith("-]", self.pos):
            self.pos += 1
            high = self.class_char()
            if isinstance(high, list) or high < low:
                raise self.fail("invalid character class range")
            return [(low, high)]
        return [(low, low)]

    def class_char(self) -> int | list[tuple[int, int]]:
        """One character of a class, or the set a Perl class escape (``\\d``) stands for."""
        c = self.src[self.pos]
        if c != "\\":
            self.pos += 1
            return ord(c)
        perl = self.src[self.pos + 1 : self.pos + 2].lower() in _PERL
        ranges, negated = self.class_escape()
        if perl:
            return _complement(ranges) if negated else ranges
        return ranges[0][0]


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    nxt = 0
    for low, high in sorted(ranges):
        if low > nxt:
            out.append((nxt, low - 1))
        nxt = max(nxt, high + 1)
    if nxt <= _MAX_RUNE:
        out.append((nxt, _MAX_RUNE))
    return out


def _emit_class(ranges: list[tuple[int, int]], negated: bool) -> str:
    def char(code: int) -> str:
        return f"\\U{code:08x}"

    body = "".join(char(lo) if lo == hi else f"{char(lo)}-{char(hi)}" for lo, hi in ranges)
    if not body:  # Go's empty class matches nothing; its negation matches anything
        return "[\\s\\S]" if negated else "(?!)"
    return f"[{'^' if negated else ''}{body}]"


def translate_go(pattern: str) -> str:
    """The Python ``re`` pattern with the meaning of the Go pattern ``pattern``.

    Raises:
        GoRegexError: ``pattern`` is not valid Go regexp syntax or uses ``\\p{...}``/``\\C``.
    """
    return _Translator(pattern).run()


def compile_go(pattern: str) -> re.Pattern[str]:
    """Compile a Go regex; ``search`` then behaves as Go's ``MatchString``.

    Raises:
        GoRegexError: see :func:`translate_go`.
    """
    translated = translate_go(pattern)
    try:
        return re.compile(translated)
    except re.error as exc:  # a translation gap: report it as the user's pattern being invalid
        msg = f"error parsing regexp: {exc}: `{pattern}`"
        raise GoRegexError(msg) from exc
