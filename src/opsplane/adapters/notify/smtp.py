"""The email receiver: one multipart message per notification over SMTP (``smtplib``).

The message is ``multipart/alternative`` with a plain-text part and an HTML rendering of the
same text. Its ``Message-ID`` is derived from the delivery id, so a message sent twice
(at-least-once) has the same id both times and mail systems that deduplicate by
``Message-ID`` show it once; ``X-Opsplane-Delivery-Id`` carries the id too.

STARTTLS is optional (``starttls=True``; RFC 3207), verified against the system's or a given
CA bundle. The password is a secret (inline, by env var or by file). SMTP replies are judged by
their code (RFC 5321 section 4.2.1): 4yz is transient and retried, 5yz is permanent; a
connection that fails or times out is retried.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from opsplane.adapters.closing import Closing
from opsplane.adapters.notify.base import config_secret, scrub
from opsplane.domain.notify import Notification, ReceiverError
from opsplane.ports import Clock

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class EmailConfig:
    """An SMTP relay and the addresses to mail.

    Attributes:
        to: The recipients.
        sender: The ``From`` address.
        starttls: Upgrade the connection with STARTTLS before authenticating.
        username: Log in as this user (then a password is required).
        ca_file: Verify the server against this CA bundle instead of the system's.
        hello: The name to greet the server with (the local host name by default).
    """

    name: str
    to: tuple[str, ...]
    sender: str
    host: str
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    ca_file: str | None = None
    hello: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S


def plain_text(notification: Notification) -> str:
    """The plain-text body: summary, links, then every alert's labels."""
    payload = notification.payload
    lines = [notification.title, f"Severity: {payload.severity}", ""]
    if payload.summary.strip():
        lines += [payload.summary.strip(), ""]
    lines += [
        f"{label}: {url}"
        for label, url in (("Runbook", payload.runbook_url), ("Dashboard", payload.dashboard_url))
        if url
    ]
    lines += ["", "Alerts:"]
    for alert in payload.alerts:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        lines.append(f"- [{alert.status}] {labels}")
    if payload.truncated_alerts:
        lines.append(f"- ... and {payload.truncated_alerts} more")
    return "\n".join(lines).strip() + "\n"


def email_message(notification: Notification, config: EmailConfig, now_ms: int) -> EmailMessage:
    """The message for ``notification``, dated ``now_ms``."""
    text = plain_text(notification)
    message = EmailMessage()
    message["Subject"] = f"{notification.title} ({notification.payload.severity})"
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["Date"] = formatdate(now_ms / 1000, usegmt=True)
    message["Message-ID"] = f"<{notification.delivery_id}@opsplane>"
    message["X-Opsplane-Delivery-Id"] = notification.delivery_id
    message.set_content(text)
    message.add_alternative(
        f"<html><body><pre>{html.escape(text)}</pre></body></html>", subtype="html"
    )
    return message


class EmailReceiver(Closing):
    """Mails notifications through one SMTP server, one connection per message."""

    def __init__(
        self, config: EmailConfig, clock: Clock, *, environ: Mapping[str, str] | None = None
    ) -> None:
        """Resolve the password now (when a username is configured).

        Raises:
            UsageError: the password's secret cannot be resolved.
        """
        self._config = config
        self._clock = clock
        self._password = ""
        if config.username is not None:
            self._password = config_secret(config, "password", environ)
        self._where = f"email {config.name!r} at {config.host}:{config.port}"

    @property
    def name(self) -> str:
        """The receiver name."""
        return self._config.name

    def send(self, notification: Notification) -> None:
        """Mail the notification; see :class:`~opsplane.adapters.notify.base.Receiver`."""
        message = email_message(notification, self._config, self._clock.now_ms())
        try:
            self._deliver(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._error(exc) from exc

    def _deliver(self, message: EmailMessage) -> None:
        config = self._config
        with smtplib.SMTP(
            config.host, config.port, local_hostname=config.hello, timeout=config.timeout
        ) as smtp:
            if config.starttls:
                smtp.starttls(context=ssl.create_default_context(cafile=config.ca_file))
            if config.username is not None:
                smtp.login(config.username, self._password)
            # Recipients refused while others accepted: those who got it must not get it
            # twice, so a partial refusal counts as delivered (the server bounces the rest).
            smtp.send_message(message)

    def _error(self, exc: smtplib.SMTPException | OSError) -> ReceiverError:
        """The failure, classified by SMTP reply code, with the password scrubbed."""
        retryable = True
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            retryable = all(400 <= code < 500 for code in codes)
            reason = "recipients refused: " + ", ".join(
                f"{address} ({code})" for address, (code, _) in exc.recipients.items()
            )
        elif isinstance(exc, smtplib.SMTPResponseException):
            retryable = not 500 <= exc.smtp_code < 600
            detail = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            reason = f"SMTP {exc.smtp_code} {detail}"
        elif isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
            retryable = False  # a server without STARTTLS/AUTH, or an untrusted certificate
            reason = f"{type(exc).__name__}: {exc}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        safe = scrub(reason, (self._password,))
        return ReceiverError(f"{self._where}: {safe}", retryable=retryable)

    def close(self) -> None:
        """Nothing to release: each message uses its own connection."""
