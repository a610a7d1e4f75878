"""Random Alertmanager routing configurations and alerts, for comparisons with ``amtool``.

The configurations are valid for Alertmanager 0.25 and later: legacy ``match``/``match_re`` and
``matchers:`` lines in every syntax the classic parser reads (quoted, unquoted, in braces,
several per line), regexes, ``continue``, ``group_by`` and nesting up to four levels.
"""

from __future__ import annotations

import random
from typing import Any

NAMES = ("team", "env", "severity", "svc")
VALUES = ("a", "b", "db", "prod", "dev", "x1", "")
REGEXES = ("a|b", "prod.*", ".+", "[ab]", "(a|db)?", r"x\d", ".*", "p(ro)?d", "(?i)PROD", "[^a]*")
RECEIVERS = tuple(f"r{i}" for i in range(6))


def _matcher_line(rng: random.Random, used: list[str]) -> str:
    name = rng.choice(NAMES)
    op = rng.choice(("=", "!=", "=~", "!~"))
    value = rng.choice(REGEXES if "~" in op else VALUES)
    used.append(value)
    style = rng.randrange(4)
    if style == 0 and "\\" not in value and op in ("=", "!=") and value:
        return f"{name}{op}{value}"  # unquoted
    if style == 1:
        return f'{{{name}{op}"{value}"}}'  # braces
    if style == 2:
        other = rng.choice(NAMES)
        return f'{name} {op} "{value}", {other}!="zz"'  # a list with spaces
    return f'{name}{op}"{value}"'


def _route(rng: random.Random, depth: int, used: list[str]) -> dict[str, Any]:
    route: dict[str, Any] = {}
    if rng.random() < 0.6:
        route["receiver"] = rng.choice(RECEIVERS)
    kind = rng.randrange(4)
    if kind == 0:
        value = rng.choice(VALUES)
        used.append(value)
        route["match"] = {rng.choice(NAMES): value}
    elif kind == 1:
        route["match_re"] = {rng.choice(NAMES): rng.choice(REGEXES)}
    else:
        route["matchers"] = [_matcher_line(rng, used) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.3:
        route["continue"] = True
    if rng.random() < 0.2:
        route["group_by"] = rng.choice([["..."], ["team"], []])
    if depth < 3 and rng.random() < 0.4:
        route["routes"] = [_route(rng, depth + 1, used) for _ in range(rng.randint(1, 3))]
    return route


def random_config(rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """A valid configuration and the label values its matchers mention."""
    used: list[str] = []
    routes = [_route(rng, 1, used) for _ in range(rng.randint(1, 4))]
    root = {"receiver": rng.choice(RECEIVERS), "group_wait": "10s", "routes": routes}
    return {"route": root, "receivers": [{"name": r} for r in RECEIVERS]}, used


def random_labels(rng: random.Random, used: list[str]) -> list[str]:
    out = []
    for name in rng.sample(NAMES, rng.randint(0, len(NAMES))):
        value = rng.choice([*VALUES, *used, "prod", "PROD", "a", "b"])
        if not all(c.isalnum() or c in "._-" for c in value):
            continue  # regexes mentioned by the config are not label values
        out.append(f'{name}="{value}"' if rng.random() < 0.2 else f"{name}={value}")
    return out
