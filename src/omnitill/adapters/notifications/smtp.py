"""Email over SMTP (smtplib): STARTTLS and login when configured, a timeout on every step.

The message is ``multipart/alternative`` (text, then HTML, so a client shows the richest part
it can); inline images go in a ``multipart/related`` with the HTML and are referenced from it
by Content-ID (``<img src="cid:...">``); other attachments wrap everything in
``multipart/mixed``. The answer is the Message-ID omnitill gave the message, which the
recipient's mail server keeps, so a complaint can be traced to a send.

STARTTLS, when configured, is required: a server that does not offer it is a failure, never a
silent fall-back to plain text. Failures are `NotificationError`s: a refused recipient
(`notification.recipient_refused`), a server that cannot be reached or refuses the login or
the message (`notification.delivery_failed`), and a server that stops answering while the
message is being handed over (`notification.timeout`: it may have been sent).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from omnitill.domain.integrations.notifications import (
    DeliveryFailed,
    Message,
    NotificationTimeout,
    RecipientRefused,
)


class SmtpEmailSender:
    """Sends through one SMTP server. `ssl_context` defaults to the system's trusted CAs."""

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        from_address: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_seconds: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.from_address = from_address
        self._username, self._password = username, password
        self._starttls = starttls
        self._timeout = timeout_seconds
        self._ssl_context = ssl_context

    def send(self, message: Message) -> str:
        email = build_email(message, from_address=self.from_address)
        message_id = str(email["Message-ID"])
        handing_over = False
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc):
                raise DeliveryFailed(
                    f"no answer from {self.host}:{self.port}", self._where()
                ) from exc
            raise DeliveryFailed(
                f"cannot reach {self.host}:{self.port}: {_reason(exc)}", self._where()
            ) from exc
        try:
            smtp.ehlo()
            if self._starttls:
                smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password or "")
            handing_over = True
            smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise RecipientRefused(
                f"the mail server refused {message.to}: {_reason(exc)}",
                {**self._where(), "recipient": message.to},
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed("the mail server refused the login", self._where()) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryFailed(
                f"the mail server does not offer what is configured: {exc}", self._where()
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            if _timed_out(exc) and handing_over:
                raise NotificationTimeout(
                    "the mail server stopped answering while the message was sent",
                    {**self._where(), "message_id": message_id},
                ) from exc
            raise DeliveryFailed(f"the mail server failed: {_reason(exc)}", self._where()) from exc
        finally:
            _quit(smtp)
        return message_id

    def _where(self) -> dict[str, object]:
        return {"host": self.host, "port": self.port}


def build_email(message: Message, *, from_address: str) -> EmailMessage:
    """The MIME message: text and HTML alternatives, inline images related to the HTML,
    other attachments mixed in."""
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(usegmt=True)
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "omnitill.invalid"
    email["Message-ID"] = make_msgid(domain=domain)
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
        html_part = list(email.iter_parts())[-1]  # text/plain, then text/html
        for image in message.inline:
            maintype, subtype = image.content_type.split("/", 1)
            html_part.add_related(
                image.content,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.content_id}>",
                filename=image.filename,
                disposition="inline",
            )
    for attachment in message.attachments:
        if attachment.content_id:
            continue
        maintype, subtype = attachment.content_type.split("/", 1)
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return email


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {_text(text)}" for code, text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return str(exc) or type(exc).__name__


def _timed_out(exc: BaseException) -> bool:
    """smtplib reports a read that timed out as a lost connection; the timeout is its cause."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye; a server that hangs up first changes nothing about what was sent."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
