"""The web pages are ready for translation: every template's text is marked and extracts."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

import omnitill.web

WEB = Path(omnitill.web.__file__).parent
CONFIG = Path(__file__).parents[2] / "babel.cfg"


def messages() -> set[str]:
    method_map = [("templates/**.html", "jinja2"), ("templates/**.svg", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        str(WEB), method_map=method_map, options_map=options
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_register_back_office_and_receipt_texts_extract_for_translators():
    assert CONFIG.exists()
    found = messages()
    assert len(found) > 100
    unmarked = [
        t.relative_to(WEB).as_posix()
        for t in (WEB / "templates").rglob("*.html")
        if "{% trans" not in t.read_text() and "_(" not in t.read_text() and _has_text(t)
    ]
    assert unmarked == []
    assert "Show this page or the QR code from your email at the counter." in found


def _has_text(template: Path) -> bool:
    """Whether a template shows words of its own (between tags, outside comments; the
    product's name is not translated)."""
    source = re.sub(r"{#.*?#}", "", template.read_text(), flags=re.S).replace("omnitill", "")
    return any(re.search("[A-Za-z]{2}", text) for text in re.findall(r">([^<{]+)<", source))


def test_a_catalog_translates_a_page_with_its_variables_escaped(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    from omnitill.web import env

    catalog = Catalog(locale="de")
    catalog.add("Order %(number)s", "Bestellung %(number)s")
    catalog.add(
        "Show this page or the QR code from your email at the counter.",
        "Zeigen Sie diese Seite an der Kasse.",
    )
    folder = tmp_path / "de" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as out:
        write_mo(out, catalog)
    monkeypatch.setattr(env, "LOCALE_DIR", tmp_path)
    env.translations.cache_clear()
    page = SimpleNamespace(
        number="#100<1>",
        customer_name="Ada",
        store_name="Nord",
        store_address="",
        status="ready",
        items=[("Tee", 1)],
        curbside=False,
        arrived_at=None,
        arrival_bay=None,
    )
    try:
        german = env.render("pickup.html", locale="de_DE", p=page, code="x")
        english = env.render("pickup.html", p=page, code="x")
    finally:
        env.translations.cache_clear()
    assert "<h1>Bestellung #100&lt;1&gt;</h1>" in german
    assert "Zeigen Sie diese Seite an der Kasse." in german
    assert "<h1>Order #100&lt;1&gt;</h1>" in english
