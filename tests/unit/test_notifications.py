"""Customer messages: what an email and a text may be, and what each template says."""

from __future__ import annotations

import io
from datetime import date

import pytest
import segno
from PIL import Image

from omnitill.adapters.notifications.render import (
    QR_BORDER,
    QR_SCALE,
    qr_content_id,
    render,
    render_sms,
)
from omnitill.domain.integrations.notifications import (
    Attachment,
    InvalidMessage,
    InvalidRecipient,
    Message,
    OrderConfirmation,
    PickupCancelled,
    PickupReminder,
    ReadyForPickup,
    Shipped,
    SmsMessage,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def ready(**changes) -> ReadyForPickup:
    values = {
        "order_number": 100123,
        "customer_name": "Ada Lovelace",
        "store_name": "Main Street",
        "store_address": "1 Main St\nSpringfield, IL 62701",
        "items": [("Blue mug", 2), ("Tea & biscuits", 1)],
        "hold_until": date(2025, 6, 14),
        "pickup_url": "https://shop.example/pickup/tok123",
        "pickup_qr_payload": "omnitill:pickup:100123:tok123",
        "store_hours": "Mon-Sat 9:00-19:00",
    }
    return ReadyForPickup(**{**values, **changes})


CONTEXTS = {
    "order_confirmation": OrderConfirmation(
        100123, "Ada", [("Blue mug", 2)], 2598, "USD", "Pick up at Main Street"
    ),
    "ready_for_pickup": ready(),
    "pickup_reminder": PickupReminder(
        100123, "Ada", "Main Street", "1 Main St", date(2025, 6, 14), "https://shop.example/p/t"
    ),
    "pickup_cancelled": PickupCancelled(
        100123, "Ada", "Main Street", refund_note="Your card authorization was released."
    ),
    "shipped": Shipped(
        100123,
        "Ada",
        "omnitill sandbox carrier",
        "Ground",
        "OT1Z123456789012",
        "https://shop.example/track/OT1Z123456789012",
        [("Blue mug", 2)],
        date(2025, 6, 16),
    ),
}


def test_an_email_needs_an_address_and_a_one_line_subject():
    with pytest.raises(InvalidRecipient) as caught:
        Message(to="not-an-address", subject="Hi", text="x")
    assert (caught.value.code, caught.value.status) == ("notification.invalid_recipient", 422)
    with pytest.raises(InvalidMessage) as injected:
        Message(to="ada@example.com", subject="Hi\r\nBcc: everyone@example.com", text="x")
    assert injected.value.code == "notification.invalid_message"
    with pytest.raises(InvalidMessage):
        Message(to="ada@example.com", subject="   ", text="x")


def test_an_inline_image_needs_html_to_show_in_and_a_real_content_type():
    image = Attachment("qr.png", "image/png", PNG_MAGIC, "qr@omnitill")
    with pytest.raises(InvalidMessage):
        Message(to="ada@example.com", subject="Hi", text="x", attachments=(image,))
    with pytest.raises(InvalidMessage):
        Attachment("qr.png", "png", PNG_MAGIC)
    with pytest.raises(InvalidMessage):
        Attachment("qr.png", "image/png", PNG_MAGIC, "qr\n@omnitill")
    ok = Message(
        to="ada@example.com", subject="Hi", text="x", html="<p>x</p>", attachments=(image,)
    )
    assert ok.inline == (image,)


@pytest.mark.parametrize("number", ["4155550123", "+1 415 555 0123", "+0123456789", "", "+1"])
def test_a_text_goes_to_an_e164_number_only(number):
    with pytest.raises(InvalidRecipient) as caught:
        SmsMessage(to=number, body="Hello")
    assert "E.164" in caught.value.message
    assert caught.value.errors[0].field == "to"


def test_a_text_has_one_to_1600_characters():
    SmsMessage(to="+14155550123", body="x" * 1600)
    for body in ("", "   ", "x" * 1601):
        with pytest.raises(InvalidMessage):
            SmsMessage(to="+14155550123", body=body)


@pytest.mark.parametrize("template", sorted(CONTEXTS))
def test_every_template_renders_an_email_and_a_short_text(template):
    context = CONTEXTS[template]
    message = render(template, context, to="ada@example.com")
    assert message.to == "ada@example.com"
    assert "#100123" in message.subject
    assert "\n" not in message.subject
    assert "#100123" in message.text
    assert message.html is not None
    assert message.html.startswith("<!doctype html>")
    assert "#100123" in message.html
    text = render_sms(template, context, to="+14155550123")
    assert "#100123" in text.body
    assert len(text.body) <= 160  # one SMS segment
    assert "  " not in text.body


def test_html_is_escaped_and_the_text_part_is_not():
    context = ready(customer_name="<script>alert(1)</script>", store_name="Tom & Jerry's")
    message = render("ready_for_pickup", context, to="ada@example.com")
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "Tom &amp; Jerry&#39;s" in message.html
    assert "Tom & Jerry's" in message.text
    assert "Hello <script>alert(1)</script>," in message.text


def test_ready_for_pickup_says_where_until_when_and_what():
    message = render("ready_for_pickup", ready(), to="ada@example.com")
    assert message.subject == "Order #100123 is ready for pickup at Main Street"
    for part in (message.text, message.html):
        assert part is not None
        assert "Main Street" in part
        assert "Springfield, IL 62701" in part
        assert "Mon-Sat 9:00-19:00" in part
        assert "Blue mug" in part
        assert "Saturday 14 June 2025" in part
        assert "https://shop.example/pickup/tok123" in part
        assert "I'm here" not in part.replace("&#39;", "'")  # not curbside
    assert "2 x Blue mug" in message.text


def test_curbside_pickup_carries_the_im_here_link():
    arrival = "https://shop.example/arrive/tok123"
    message = render("ready_for_pickup", ready(arrival_url=arrival), to="ada@example.com")
    assert message.html is not None
    assert f'<a href="{arrival}"' in message.html
    assert "I&#39;m here" in message.html
    assert arrival in message.text
    text = render_sms("ready_for_pickup", ready(arrival_url=arrival), to="+14155550123")
    assert arrival in text.body


def test_the_pickup_qr_code_is_an_inline_png_of_the_payload():
    context = ready()
    message = render("ready_for_pickup", context, to="ada@example.com")
    (image,) = message.attachments
    assert image.content_type == "image/png"
    assert image.content_id == qr_content_id(100123)
    assert message.html is not None
    assert f'src="cid:{image.content_id}"' in message.html
    assert image.content.startswith(PNG_MAGIC)
    assert qr_modules(image.content) == expected_modules(context.pickup_qr_payload)


def qr_modules(png: bytes) -> list[list[bool]]:
    """The dark and light modules of a QR code image, sampled at each module's centre."""
    picture = Image.open(io.BytesIO(png)).convert("L")
    width, height = picture.size
    assert width == height
    assert width % QR_SCALE == 0
    size = width // QR_SCALE - 2 * QR_BORDER
    # the quiet zone is light all round
    assert all(picture.getpixel((x, 0)) > 128 for x in range(width))

    def dark(row: int, col: int) -> bool:
        x = (col + QR_BORDER) * QR_SCALE + QR_SCALE // 2
        y = (row + QR_BORDER) * QR_SCALE + QR_SCALE // 2
        return picture.getpixel((x, y)) < 128

    modules = [[dark(r, c) for c in range(size)] for r in range(size)]
    # a full QR code (never Micro QR): finder patterns in three corners
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        ring = [modules[top][left + i] for i in range(7)] + [
            modules[top + 6][left + i] for i in range(7)
        ]
        assert all(ring)
        assert modules[top + 3][left + 3]
        assert not modules[top + 1][left + 1]
    return modules


def expected_modules(payload: str) -> list[list[bool]]:
    code = segno.make(payload, error="m", micro=False)
    return [[bool(v) for v in row] for row in code.matrix]


def test_a_template_refuses_an_unknown_name_or_another_templates_context():
    with pytest.raises(InvalidMessage, match="no template"):
        render("welcome", ready(), to="ada@example.com")
    with pytest.raises(InvalidMessage, match="ReadyForPickup"):
        render("ready_for_pickup", CONTEXTS["shipped"], to="ada@example.com")
    with pytest.raises(InvalidMessage):
        render_sms("shipped", ready(), to="+14155550123")


def test_items_given_as_a_list_are_kept_as_an_immutable_tuple():
    context = ready(items=[["Blue mug", "2"]])
    assert context.items == (("Blue mug", 2),)


def test_the_order_confirmation_shows_the_total_in_its_currency():
    message = render("order_confirmation", CONTEXTS["order_confirmation"], to="ada@example.com")
    assert "Total: 25.98 USD" in message.text
    yen = OrderConfirmation(7, "Ada", [("Tea", 1)], 1500, "JPY", "Delivery to Tokyo")
    assert "Total: 1500 JPY" in render("order_confirmation", yen, to="ada@example.com").text


def test_shipped_carries_the_tracking_link():
    message = render("shipped", CONTEXTS["shipped"], to="ada@example.com")
    assert message.html is not None
    assert 'href="https://shop.example/track/OT1Z123456789012"' in message.html
    assert "OT1Z123456789012" in message.text
    assert "Monday 16 June 2025" in message.text
