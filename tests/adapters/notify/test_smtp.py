"""The email receiver mails a multipart message through a real local SMTP server."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterator

import pytest

from opsplane.adapters.notify import EmailConfig, EmailReceiver
from opsplane.domain.notify import ReceiverError
from opsplane.testing import FakeClock
from tests.adapters.notify.conftest import Certificate
from tests.adapters.notify.factories import DASHBOARD, RUNBOOK, notification
from tests.adapters.notify.smtp_server import SmtpServer, smtp_server

PASSWORD = "smtp-Pa55-SECRET"
PASSWORD_VARIABLE = "SMTP_PASSWORD"


@pytest.fixture
def relay() -> Iterator[SmtpServer]:
    """A plain SMTP server without TLS or AUTH."""
    with smtp_server() as running:
        yield running


def mailer(port: int, **changes: object) -> EmailReceiver:
    config = EmailConfig(
        "mail",
        to=("oncall@example.com", "sre@example.com"),
        sender="opsplane@example.com",
        host="127.0.0.1",
        port=port,
        timeout=2.0,
        **changes,  # type: ignore[arg-type]
    )
    return EmailReceiver(config, FakeClock(), environ={PASSWORD_VARIABLE: PASSWORD})


def test_a_page_is_mailed_as_text_and_html_with_a_stable_message_id(relay: SmtpServer) -> None:
    page = notification()
    mailer(relay.port).send(page)
    (mail,) = relay.received
    assert (mail.sender, mail.recipients) == (
        "opsplane@example.com",
        ("oncall@example.com", "sre@example.com"),
    )
    message = mail.message
    assert message["Subject"] == "[FIRING:1] CheckoutAvailability (P1)"
    assert message["To"] == "oncall@example.com, sre@example.com"
    assert message["Date"].datetime == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the clock's
    assert message["Message-ID"] == f"<{page.delivery_id}@opsplane>"
    assert message["X-Opsplane-Delivery-Id"] == page.delivery_id
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = message.get_body(("plain",))
    assert text is not None
    body = text.get_content()
    assert body.startswith("[FIRING:1] CheckoutAvailability\nSeverity: P1\n\ncheckout availability")
    assert f"Runbook: {RUNBOOK}\nDashboard: {DASHBOARD}\n" in body
    assert "- [firing] alertname=CheckoutAvailability, namespace=payments" in body


def test_starttls_and_login_protect_the_password(
    certificate: Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tls = certificate.server_context()
    with smtp_server(tls=tls, credentials=("opsplane", PASSWORD)) as secure:
        receiver = mailer(
            secure.port,
            starttls=True,
            ca_file=str(certificate.cert),
            username="opsplane",
            password_env=PASSWORD_VARIABLE,
        )
        receiver.send(notification())
        (mail,) = secure.received
        assert (mail.tls, mail.user) == (True, "opsplane")
    assert PASSWORD not in caplog.text


def test_a_wrong_password_is_permanent_and_never_shown(certificate: Certificate) -> None:
    with smtp_server(credentials=("opsplane", "another")) as relay:
        receiver = mailer(relay.port, username="opsplane", password_env=PASSWORD_VARIABLE)
        with pytest.raises(ReceiverError) as caught:
            receiver.send(notification())
    assert not caught.value.retryable
    assert PASSWORD not in str(caught.value)
    assert str(caught.value) == (
        f"email 'mail' at 127.0.0.1:{relay.port}: SMTP 535 5.7.8 authentication credentials invalid"
    )


def test_a_certificate_the_client_does_not_trust_is_permanent(certificate: Certificate) -> None:
    with smtp_server(tls=certificate.server_context()) as secure:
        with pytest.raises(ReceiverError, match="SSLCertVerificationError") as caught:
            mailer(secure.port, starttls=True).send(notification())  # system CAs only
        assert secure.received == []
    assert not caught.value.retryable


def test_requiring_starttls_from_a_server_without_it_is_permanent(relay: SmtpServer) -> None:
    with pytest.raises(ReceiverError, match="SMTPNotSupportedError") as caught:
        mailer(relay.port, starttls=True).send(notification())
    assert not caught.value.retryable


@pytest.mark.parametrize(
    ("command", "reply", "retryable"),
    [
        ("RCPT", "450 4.2.1 mailbox busy", True),
        ("RCPT", "550 5.1.1 no such user", False),
        ("MAIL", "421 4.3.2 shutting down", True),
        ("DATA", "451 4.3.0 try later", True),
        ("DATA", "554 5.6.0 rejected", False),
    ],
    ids=[
        "a busy mailbox is retried",
        "an unknown user is permanent",
        "a server shutting down is retried",
        "a temporary failure after DATA is retried",
        "a rejected message is permanent",
    ],
)
def test_4yz_replies_are_retried_and_5yz_are_permanent(
    relay: SmtpServer, command: str, reply: str, retryable: bool
) -> None:
    relay.reply_next(command, reply)
    if command == "RCPT":
        relay.reply_next("RCPT", reply)  # both recipients
    with pytest.raises(ReceiverError) as caught:
        mailer(relay.port).send(notification())
    assert caught.value.retryable is retryable
    assert relay.received == []


def test_a_partly_refused_message_counts_as_delivered(relay: SmtpServer) -> None:
    relay.reply_next("RCPT", "550 5.1.1 no such user")
    mailer(relay.port).send(notification())
    assert [mail.recipients for mail in relay.received] == [("sre@example.com",)]


def test_an_unreachable_server_is_retried() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ReceiverError, match="ConnectionRefusedError") as caught:
        mailer(port).send(notification())
    assert caught.value.retryable
