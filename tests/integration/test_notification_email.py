"""Email over a real SMTP server (aiosmtpd on a free local port): the MIME structure, the
inline QR code, STARTTLS with login, and every way a send can fail."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import ipaddress
import socket
import ssl
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from omnitill.adapters.notifications.render import render
from omnitill.adapters.notifications.smtp import SmtpEmailSender
from omnitill.config import Settings
from omnitill.domain.integrations.notifications import (
    Attachment,
    DeliveryFailed,
    Message,
    NotificationTimeout,
    ReadyForPickup,
    RecipientRefused,
)
from omnitill.services import notifications
from omnitill.services.notifications import email_sender_for

REFUSED = "nobody@example.com"
HANGS = "slow@example.com"


class Mailbox:
    """An aiosmtpd handler that keeps what it receives; refuses REFUSED and stalls at the
    data of a message to HANGS until released."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []
        self.release = asyncio.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if HANGS in envelope.rcpt_tos:
            await self.release.wait()
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox():
    return Mailbox()


@pytest.fixture
def smtp_server(mailbox):
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.loop.call_soon_threadsafe(mailbox.release.set)
    controller.stop()


def sender_for(controller, **options) -> SmtpEmailSender:
    return SmtpEmailSender(
        controller.hostname,
        controller.port,
        from_address="Corner Shop <orders@shop.example>",
        timeout_seconds=options.pop("timeout_seconds", 5.0),
        **options,
    )


def pickup_email(to: str = "ada@example.com", *, arrival_url: str | None = None) -> Message:
    context = ReadyForPickup(
        order_number=100123,
        customer_name="Ada Lovelace",
        store_name="Main Street",
        store_address="1 Main St\nSpringfield, IL 62701",
        items=[("Blue mug", 2)],
        hold_until=date(2025, 6, 14),
        pickup_url="https://shop.example/pickup/tok123",
        pickup_qr_payload="omnitill:pickup:100123:tok123",
        arrival_url=arrival_url,
    )
    return render("ready_for_pickup", context, to=to)


def test_the_pickup_email_arrives_as_text_and_html_with_the_qr_code_inline(mailbox, smtp_server):
    message = pickup_email(arrival_url="https://shop.example/arrive/tok123")
    reference = sender_for(smtp_server).send(message)

    (received,) = mailbox.received
    assert mailbox.envelopes == [("orders@shop.example", ["ada@example.com"])]
    assert received["Subject"] == "Order #100123 is ready for pickup at Main Street"
    assert received["To"] == "ada@example.com"
    assert received["From"] == "Corner Shop <orders@shop.example>"
    assert received["Message-ID"] == reference
    assert reference.endswith("@shop.example>")

    assert received.get_content_type() == "multipart/alternative"
    text_part, related = received.iter_parts()
    assert text_part.get_content_type() == "text/plain"
    assert "Springfield, IL 62701" in text_part.get_content()
    assert "https://shop.example/arrive/tok123" in text_part.get_content()
    assert related.get_content_type() == "multipart/related"
    html_part, image_part = related.iter_parts()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    assert "Saturday 14 June 2025" in html
    assert 'href="https://shop.example/arrive/tok123"' in html

    assert image_part.get_content_type() == "image/png"
    content_id = image_part["Content-ID"].strip("<>")
    assert f'src="cid:{content_id}"' in html
    assert image_part.get_content_disposition() == "inline"
    png = image_part.get_content()
    assert png == message.attachments[0].content
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG"
    assert picture.size[0] == picture.size[1] > 200


def test_other_attachments_are_mixed_in_beside_the_alternatives(mailbox, smtp_server):
    message = Message(
        to="ada@example.com",
        subject="Your receipt",
        text="Attached.",
        html="<p>Attached.</p>",
        attachments=(Attachment("receipt.pdf", "application/pdf", b"%PDF-1.4 fake"),),
    )
    sender_for(smtp_server).send(message)
    (received,) = mailbox.received
    assert received.get_content_type() == "multipart/mixed"
    body, attached = received.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_filename() == "receipt.pdf"
    assert attached.get_content() == b"%PDF-1.4 fake"


def test_a_refused_recipient_is_a_recipient_refused_error(mailbox, smtp_server):
    with pytest.raises(RecipientRefused) as caught:
        sender_for(smtp_server).send(pickup_email(REFUSED))
    assert caught.value.code == "notification.recipient_refused"
    assert "550" in caught.value.message
    assert mailbox.received == []


def test_a_server_that_cannot_be_reached_is_a_delivery_failure():
    sender = SmtpEmailSender("127.0.0.1", free_port(), from_address="orders@shop.example")
    with pytest.raises(DeliveryFailed) as caught:
        sender.send(pickup_email())
    assert caught.value.code == "notification.delivery_failed"
    assert caught.value.details["port"] == sender.port


def test_a_server_that_never_greets_times_out_as_a_delivery_failure():
    with socket.socket() as silent:  # accepts the connection, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        sender = SmtpEmailSender(
            "127.0.0.1",
            silent.getsockname()[1],
            from_address="orders@shop.example",
            timeout_seconds=0.3,
        )
        with pytest.raises(DeliveryFailed, match="no answer"):
            sender.send(pickup_email())


def test_a_server_that_stalls_while_taking_the_message_leaves_the_outcome_unknown(
    mailbox, smtp_server
):
    with pytest.raises(NotificationTimeout) as caught:
        sender_for(smtp_server, timeout_seconds=0.3).send(pickup_email(HANGS))
    assert (caught.value.code, caught.value.status) == ("notification.timeout", 504)
    assert caught.value.details["message_id"].endswith("@shop.example>")


# --- STARTTLS and login --------------------------------------------------------------------


def self_signed() -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_server(mailbox, tmp_path):
    cert_pem, key_pem = self_signed()
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        ok = (auth_data.login, auth_data.password) == (b"shop", b"s3cret")
        if ok:
            mailbox.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # False: answer 535

    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    yield controller, ssl.create_default_context(cadata=cert_pem.decode())
    controller.stop()


def test_starttls_and_login_when_configured(mailbox, tls_server):
    controller, trusted = tls_server
    sender = sender_for(
        controller, starttls=True, username="shop", password="s3cret", ssl_context=trusted
    )
    sender.send(pickup_email())
    assert mailbox.logins == ["shop"]
    assert len(mailbox.received) == 1


def test_a_wrong_password_or_an_untrusted_certificate_fails_and_sends_nothing(mailbox, tls_server):
    controller, trusted = tls_server
    wrong = sender_for(
        controller, starttls=True, username="shop", password="guess", ssl_context=trusted
    )
    with pytest.raises(DeliveryFailed, match="login"):
        wrong.send(pickup_email())
    untrusted = sender_for(controller, starttls=True, username="shop", password="s3cret")
    with pytest.raises(DeliveryFailed):
        untrusted.send(pickup_email())  # the system CAs do not know the self-signed cert
    assert mailbox.received == []


def test_starttls_configured_but_not_offered_never_falls_back_to_plain_text(mailbox, smtp_server):
    with pytest.raises(DeliveryFailed, match="STARTTLS"):
        sender_for(smtp_server, starttls=True).send(pickup_email())
    assert mailbox.received == []


def test_the_configured_sender_is_smtp_only_when_a_host_is_set(mailbox, smtp_server):
    assert email_sender_for(Settings(environment="test")) is None
    settings = Settings(
        environment="test",
        smtp_host=smtp_server.hostname,
        smtp_port=smtp_server.port,
        smtp_from="Corner Shop <orders@shop.example>",
        smtp_timeout_seconds=2.0,
    )
    sender = email_sender_for(settings)
    assert sender is not None
    sender.send(pickup_email())
    assert mailbox.envelopes == [("orders@shop.example", ["ada@example.com"])]


def test_a_pickup_email_sent_through_the_service_is_recorded_with_its_message_id(
    db, mailbox, smtp_server
):
    sender = sender_for(smtp_server)
    sent = notifications.send(
        db, order_id=None, template="ready_for_pickup", message=pickup_email(), sender=sender
    )
    refused = notifications.send(
        db,
        order_id=None,
        template="ready_for_pickup",
        message=pickup_email(REFUSED),
        sender=sender,
    )
    (received,) = mailbox.received
    assert (sent.status, sent.provider_reference) == ("sent", received["Message-ID"])
    assert (refused.status, refused.error_code) == ("failed", "notification.recipient_refused")
    assert refused.recipient == REFUSED
