"""Stable identifiers: dashboard and folder uids, file names and query refIds.

Grafana uids are at most 40 characters of ``[A-Za-z0-9_-]`` (Grafana ``util.IsValidShortUID``
and the dashboard schema's "string (8-40)"). They must not change between runs, or every
``generate grafana`` would create a new dashboard instead of updating the old one, so they are
derived from the namespace, the service name and the dashboard kind only.
"""

from __future__ import annotations

import hashlib
import re

MAX_UID = 40
_NAME = re.compile(r"^[a-z0-9-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_HASH_CHARS = 8


def dashboard_uid(namespace: str, service: str, kind: str) -> str:
    """The uid of one of a service's dashboards, e.g. ``payments_checkout-golden``.

    The readable form joins namespace and service with ``_``, which opsplane names
    (``[a-z0-9-]``) never contain, so two services cannot share it. Names with other characters
    (Sloth and OpenSLO allow more) or a form longer than 40 characters get a hashed form
    instead: the readable form cut short, the kind, and 8 hex digits of a SHA-256 over all
    three parts (``a-long-namespace_a-long-serv-golden-1a2b3c4d``). A hashed uid ends in hex
    digits and a readable one in the kind, so the two never meet.
    """
    readable = f"{namespace}_{service}-{kind}"
    if _NAME.match(namespace) and _NAME.match(service) and len(readable) <= MAX_UID:
        return readable
    return _hashed(f"{namespace}_{service}", f"-{kind}", f"{namespace}/{service}/{kind}")


def folder_uid(namespace: str) -> str:
    """The uid of a namespace's folder, e.g. ``opsplane-payments``."""
    readable = f"opsplane-{namespace}"
    if _NAME.match(namespace) and len(readable) <= MAX_UID:
        return readable
    return _hashed(readable, "", f"folder/{namespace}")


def file_stem(name: str) -> str:
    """A name made safe for a file or folder name (``[A-Za-z0-9_-]`` only)."""
    return _UNSAFE.sub("-", name).strip("-") or "unnamed"


def ref_id(index: int) -> str:
    """The ``refId`` of the ``index``-th query of a panel: A..Z, then AA, AB, ... like Grafana."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _hashed(readable: str, tail: str, key: str) -> str:
    """``<readable, cut to fit><tail>-<8 hex digits of sha256(key)>``, at most 40 characters."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:_HASH_CHARS]
    room = MAX_UID - len(tail) - _HASH_CHARS - 1
    prefix = _UNSAFE.sub("-", readable)[:room].rstrip("-_")
    return f"{prefix}{tail}-{digest}"
