"""E-mail composed from the project's templates and delivered to a real SMTP server."""

import logging
import subprocess
from email.message import EmailMessage

import aiosmtplib
import pytest
from pydantic import SecretStr

from app.core.config import Settings
from app.mail.delivery import ConsoleMailer, DisabledMailer, SmtpMailer, mailer
from app.mail.messages import compose, link
from tests.processes import run_module
from tests.smtp_sink import smtp_sink


def smtp_settings(settings: Settings, port: int, **changes: object) -> Settings:
    return settings.model_copy(
        update={
            "email_backend": "smtp",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_tls": "none",
            "mail_from": "Service <service@example.com>",
            **changes,
        }
    )


def test_a_message_has_a_text_and_an_html_part(settings: Settings) -> None:
    message = compose("test", "user@example.com", settings)
    assert message["To"] == "user@example.com"
    assert message["Subject"] == f"{settings.project_name}: a test message"
    assert message["Date"]
    assert message["Message-ID"]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "the service's e-mail settings work" in text.get_content()
    assert "<p>This is a test message" in html.get_content()


def test_the_html_part_escapes_what_it_is_given(settings: Settings) -> None:
    named = settings.model_copy(update={"project_name": "<b>Shop</b> & Co"})
    message = compose("test", "user@example.com", named)
    html = message.get_body(("html",))
    text = message.get_body(("plain",))
    assert html is not None
    assert text is not None
    assert "&lt;b&gt;Shop&lt;/b&gt; &amp; Co" in html.get_content()
    assert "<b>Shop</b>" not in html.get_content()
    assert "<b>Shop</b> & Co" in text.get_content()  # the text part is no HTML


def test_a_link_carries_its_token_in_the_fragment(settings: Settings) -> None:
    front = settings.model_copy(update={"frontend_url": "https://app.example.com/"})
    assert link(front, "reset-password", "a+b/c") == (
        "https://app.example.com/reset-password#token=a%2Bb%2Fc"
    )


async def test_smtp_delivers_to_a_real_server(settings: Settings) -> None:
    with smtp_sink() as sink:
        configured = smtp_settings(settings, sink.port)
        sender = mailer(configured)
        assert isinstance(sender, SmtpMailer)
        await sender.send(compose("test", "user@example.com", configured))
        [received] = sink.wait_for(1)
    assert received.recipients == ["user@example.com"]
    assert received.sender == "service@example.com"
    assert received.message["Subject"] == f"{settings.project_name}: a test message"
    assert received.message.get_body(("html",)) is not None


async def test_smtp_logs_in_with_the_configured_account(settings: Settings) -> None:
    with smtp_sink(credentials=("mailer", "s3cret")) as sink:
        right = smtp_settings(
            settings, sink.port, smtp_user="mailer", smtp_password=SecretStr("s3cret")
        )
        await mailer(right).send(compose("test", "user@example.com", right))
        assert len(sink.wait_for(1)) == 1
        wrong = smtp_settings(
            settings, sink.port, smtp_user="mailer", smtp_password=SecretStr("wrong")
        )
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await mailer(wrong).send(compose("test", "user@example.com", wrong))
    # The client tries each mechanism the server offers before it gives up.
    assert sink.logins[0] == ("mailer", "s3cret")
    assert set(sink.logins[1:]) == {("mailer", "wrong")}


async def test_starttls_never_falls_back_to_plain_text(settings: Settings) -> None:
    # The sink offers no STARTTLS, as a server (or a machine in the middle) may not.
    with smtp_sink() as sink:
        configured = smtp_settings(settings, sink.port, smtp_tls="starttls")
        with pytest.raises(aiosmtplib.SMTPException, match="STARTTLS"):
            await mailer(configured).send(compose("test", "user@example.com", configured))
        assert sink.received == []


async def test_console_writes_the_whole_message_to_the_log(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    sender = mailer(settings.model_copy(update={"email_backend": None, "env": "dev"}))
    assert isinstance(sender, ConsoleMailer)
    with caplog.at_level(logging.INFO, logger="app.mail.delivery"):
        await sender.send(compose("test", "user@example.com", settings))
    [line] = caplog.messages
    assert "To: user@example.com" in line
    assert "the service's e-mail settings work" in line  # the text part
    assert "<p>This is a test message" in line  # and the HTML part


async def test_off_sends_nothing_and_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    sender = mailer(settings.model_copy(update={"email_backend": "off"}))
    assert isinstance(sender, DisabledMailer)
    message: EmailMessage = compose("test", "user@example.com", settings)
    with caplog.at_level(logging.INFO, logger="app.mail.delivery"):
        await sender.send(message)
    assert caplog.messages == [f"e-mail not sent (EMAIL_BACKEND=off): {message['Subject']}"]


def send_test_email(settings: Settings, port: int) -> subprocess.CompletedProcess[str]:
    """`python -m app.cli send-test-email --to ops@example.com`, to SMTP on `port`."""
    return run_module(
        settings,
        "app.cli",
        "send-test-email",
        "--to",
        "ops@example.com",
        EMAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(port),
        SMTP_TLS="none",
        MAIL_FROM="service@example.com",
    )


def test_send_test_email_sends_one_message_at_once(settings: Settings) -> None:
    with smtp_sink() as sink:
        sent = send_test_email(settings, sink.port)
        assert sent.returncode == 0, sent.stderr
        [received] = sink.wait_for(1)
    assert received.recipients == ["ops@example.com"]
    assert "Sent a test message to ops@example.com (EMAIL_BACKEND=smtp)." in sent.stdout


def test_send_test_email_says_why_it_failed(settings: Settings) -> None:
    with smtp_sink() as sink:
        port = sink.port
    # The server is gone: nothing listens on its port.
    failed = send_test_email(settings, port)
    assert failed.returncode == 1
    assert failed.stderr.startswith("Not sent (smtp): ")
    assert "Traceback" not in failed.stderr
