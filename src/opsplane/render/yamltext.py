"""A small, fast YAML emitter for generated artefacts (rule files are tens of MB).

PyYAML's pure-Python dumper needs ~9 s per 1,000 SLOs of rules and libyaml still ~1 s, which
misses the 10,000-SLOs-in-10-s target (``bench/generate.py``). Generated rules are only maps,
lists and strings, so this emitter handles exactly those (plus numbers, booleans and None) and
falls back to JSON-style double quotes for any string it is not sure about. Round-tripping
through ``yaml.safe_load`` is checked by a Hypothesis property test.

Multi-line strings use literal block scalars (``|``, ``|-``, ``|+``), as Sloth's output does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import yaml

# Strings that are safe unquoted: no leading indicator, no ": " or " #", no trailing space,
# and not something YAML 1.1 would read as another type (checked separately).
_PLAIN = re.compile(r"^[A-Za-z0-9_./(][^\n\r\t#'\"\\]*(?<![ :])\Z")
# PyYAML's own implicit resolvers decide whether a plain scalar would read back as a string.
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
# YAML's printable set (PyYAML's Reader) minus line breaks other than \n and the BOM.
_PRINTABLE = re.compile(
    "^[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*$"
)
_UNSAFE_CHAR = re.compile(
    "[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)


def dump(data: Any) -> str:
    """``data`` as a YAML document (no ``---`` marker)."""
    lines: list[str] = []
    _node(data, 0, lines)
    return "\n".join(lines) + "\n"


_SCALAR, _MAP, _SEQ = 0, 1, 2


def _kind(value: Any) -> int:
    """Scalar, mapping or sequence; exact-type checks first (ABC checks are slow)."""
    cls = type(value)
    if cls is str:
        return _SCALAR
    if cls is dict:
        return _MAP
    if cls is list or cls is tuple:
        return _SEQ
    if isinstance(value, Mapping):
        return _MAP
    if isinstance(value, Sequence) and not isinstance(value, str):
        return _SEQ
    return _SCALAR


def _node(data: Any, indent: int, lines: list[str]) -> None:
    kind = _kind(data)
    if kind == _MAP:
        _mapping(data, indent, lines)
    elif kind == _SEQ:
        _sequence(data, indent, lines)
    else:
        lines.append(" " * indent + _inline(data, indent or 2))


def _mapping(data: Mapping[Any, Any], indent: int, lines: list[str]) -> None:
    if not data:
        lines.append(" " * indent + "{}")
        return
    pad = " " * indent
    for key, value in data.items():
        head = f"{pad}{_scalar(str(key))}:"
        _entry(head, value, indent, indent + 2, lines)


def _sequence(data: Sequence[Any], indent: int, lines: list[str]) -> None:
    if not data:
        lines.append(" " * indent + "[]")
        return
    for item in data:
        if item and _kind(item) == _MAP:
            start = len(lines)
            _mapping(item, indent + 2, lines)
            lines[start] = " " * indent + "- " + lines[start][indent + 2 :]
        else:
            _entry(" " * indent + "-", item, indent, indent + 2, lines)


def _entry(head: str, value: Any, indent: int, child: int, lines: list[str]) -> None:
    """``head`` followed by a value: inline scalars, nested blocks on the next lines."""
    kind = _kind(value)
    if kind == _MAP and value:
        lines.append(head)
        _mapping(value, child, lines)
    elif kind == _SEQ and value:
        lines.append(head)
        _sequence(value, indent if head.endswith(":") else child, lines)
    else:
        lines.append(f"{head} {_inline(value, child)}")


def _inline(value: Any, indent: int) -> str:
    if type(value) is str:
        return _text(value, indent)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    kind = _kind(value)
    if kind == _MAP:
        return "{}"
    if kind == _SEQ:
        return "[]"
    return _text(str(value), indent)


def _text(text: str, indent: int) -> str:
    if "\n" in text and _PRINTABLE.match(text) and not _hostile_block(text):
        return _block(text, indent)
    return _scalar(text)


def _resolves_to_str(text: str) -> bool:
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return tag == _STR_TAG


def _float(value: float) -> str:
    """YAML 1.1 floats need a dot in the mantissa: ``1e-05`` would read back as a string."""
    text = repr(value)
    mantissa, sep, exponent = text.partition("e")
    if sep and "." not in mantissa:
        return f"{mantissa}.0e{exponent}"
    return text


@lru_cache(maxsize=65536)
def _scalar(text: str) -> str:
    if (
        _PLAIN.match(text)
        and ": " not in text
        and _PRINTABLE.match(text)
        and _resolves_to_str(text)
    ):
        return text
    # JSON strings are YAML double-quoted scalars; escape everything YAML forbids raw.
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE_CHAR.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _hostile_block(text: str) -> bool:
    """Literal blocks cannot start with an empty or more-indented-only body safely."""
    body = text.rstrip("\n")
    return (
        not body
        or body.startswith((" ", "\n"))
        or any(line != line.rstrip(" \t") for line in body.split("\n"))
    )


def _block(text: str, indent: int) -> str:
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    pad = " " * indent
    lines = [pad + line if line else "" for line in body.split("\n")]
    extra = [""] * (trailing - 1) if trailing > 1 else []
    return f"|{chomp}\n" + "\n".join(lines + extra)
