"""What every receiver shares: secrets and their redaction (the protocol is in ``ports``).

Secrets (webhook URLs, routing keys, SMTP passwords) are configured by reference: a config
field ``x`` may be given inline, or as ``x_env`` (an environment variable) or ``x_file`` (a
file, e.g. a mounted Kubernetes secret). :func:`resolve_secret` reads exactly one of them and
its errors name the variable or the file, never the value. A secret must never reach a log
record or an exception message: URLs are shown as :func:`redact_url` (scheme and host only)
and free text from the outside is passed through :func:`scrub` first.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

import httpx

from opsplane.errors import UsageError

REDACTED = "<redacted>"


class NamedConfig(Protocol):
    """A receiver config: every one has a name."""

    @property
    def name(self) -> str:
        """The receiver's name."""
        ...


def config_secret(config: NamedConfig, field: str, environ: Mapping[str, str] | None = None) -> str:
    """A receiver config's secret ``field``: given inline, as ``field_env`` or ``field_file``.

    Every receiver config spells its secrets this way; the error names
    ``receivers.<name>.<field>``, never the value.
    """
    return resolve_secret(
        f"receivers.{config.name}.{field}",
        value=getattr(config, field),
        env=getattr(config, f"{field}_env"),
        file=getattr(config, f"{field}_file"),
        environ=environ,
    )


def resolve_secret(
    what: str,
    *,
    value: str | None = None,
    env: str | None = None,
    file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """The secret given inline, by environment variable or by file (exactly one of them).

    A file's content is stripped of surrounding whitespace (files usually end in a newline).

    Args:
        what: The config field, for messages (``receivers.pager.routing_key``).
        value: The secret itself.
        env: The name of the environment variable holding it.
        file: The path of the file holding it.
        environ: The environment to read (``os.environ`` by default).

    Raises:
        UsageError: none or several sources are given, or the given one is unset or empty.
    """
    given = [source for source in (value, env, file) if source is not None]
    if len(given) != 1:
        raise UsageError(f"{what}: give exactly one of {what}, {what}_env or {what}_file")
    if value is not None:
        secret = value
    elif env is not None:
        secret = (os.environ if environ is None else environ).get(env, "")
        if not secret:
            raise UsageError(f"{what}_env: the environment variable {env} is not set")
    else:
        assert file is not None
        try:
            secret = Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"{what}_file: cannot read {file}: {exc.strerror}") from exc
    if not secret:
        raise UsageError(f"{what}: the secret is empty")
    return secret


def redact_url(url: str | httpx.URL) -> str:
    """``scheme://host[:port]``: what of a URL may be shown (paths and queries hold tokens)."""
    try:
        parsed = httpx.URL(str(url))
    except httpx.InvalidURL:
        return REDACTED
    if not parsed.scheme or not parsed.host:
        return REDACTED
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of every secret replaced by ``<redacted>``."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """A log filter that replaces registered secrets in a record's message and arguments.

    httpx logs every request's full URL at INFO (``HTTP Request: POST https://hooks...``), and
    a Slack webhook URL is a credential. The ``httpx`` logger is process-wide, so one filter
    serves every receiver (:data:`HTTPX_REDACTION`): receivers :meth:`register` their secrets
    when created and :meth:`unregister` them on ``close()``. A single filter also replaces the
    longest secrets first across *all* receivers, so one receiver's secret can never mangle
    another's into a partly visible remainder.
    """

    def __init__(self) -> None:
        super().__init__()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def register(self, secrets: Iterable[str]) -> None:
        """Start redacting ``secrets`` (counted: two receivers may share one)."""
        with self._lock:
            self._counts.update(secret for secret in secrets if secret)

    def unregister(self, secrets: Iterable[str]) -> None:
        """Stop redacting ``secrets`` once every receiver that registered them is done."""
        with self._lock:
            self._counts.subtract(secret for secret in secrets if secret)
            self._counts = +self._counts

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        with self._lock:
            secrets = tuple(self._counts)
        if not secrets:
            return True
        if isinstance(record.args, tuple):
            record.args = tuple(_clean(arg, secrets) for arg in record.args)
        record.msg = _clean(record.msg, secrets)
        return True


def _clean(arg: object, secrets: tuple[str, ...]) -> object:
    if isinstance(arg, str | httpx.URL):
        text = str(arg)
        if any(secret in text for secret in secrets):
            return scrub(text, secrets)
    return arg


HTTPX_REDACTION = RedactSecrets()
"""The one filter on the ``httpx`` logger (attached by :func:`redact_in_httpx_log`)."""


def redact_in_httpx_log(secrets: Iterable[str]) -> None:
    """Keep ``secrets`` out of httpx's log records until :func:`forget_in_httpx_log`."""
    logger = logging.getLogger("httpx")
    if HTTPX_REDACTION not in logger.filters:
        logger.addFilter(HTTPX_REDACTION)
    HTTPX_REDACTION.register(secrets)


def forget_in_httpx_log(secrets: Iterable[str]) -> None:
    """The inverse of :func:`redact_in_httpx_log`."""
    HTTPX_REDACTION.unregister(secrets)
