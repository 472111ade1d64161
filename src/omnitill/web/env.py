"""The one Jinja2 environment of every web page (register, back office, customer display,
receipts, pickup page): autoescaped HTML, gettext-ready templates, Babel formatting.

Templates mark text for translation with `{% trans %}...{% endtrans %}` or `_("...")`; the
catalogs live in `omnitill/web/locale/<lang>/LC_MESSAGES/messages.mo` (extracted with
`pybabel extract -F babel.cfg`); English is the source language and needs no catalog. Money,
dates and numbers go through the filters below with the store's locale
(`locations.locale`), never through Python's `format`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from markupsafe import Markup

from omnitill.domain.money import minor_units

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LOCALE = "en_US"


def money(amount: int, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """Minor units as the locale writes the amount ("$19.99", "19,99 €")."""
    value = Decimal(amount).scaleb(-minor_units(currency))
    return str(format_currency(value, currency, locale=locale))


def number(value: int | float | Decimal, locale: str = DEFAULT_LOCALE) -> str:
    return str(format_decimal(value, locale=locale))


def when(
    moment: datetime, timezone: str = "UTC", locale: str = DEFAULT_LOCALE, style: str = "short"
) -> str:
    """A UTC instant in the store's time zone, as the locale writes it."""
    return str(format_datetime(moment, style, tzinfo=ZoneInfo(timezone), locale=locale))


@cache
def translations(locale: str) -> NullTranslations:
    found = Translations.load(str(LOCALE_DIR), [locale, locale.split("_")[0]])
    return found if isinstance(found, Translations) else NullTranslations()


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("omnitill.web", "templates"),
        autoescape=select_autoescape(["html", "svg", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.filters["money"] = money
    env.filters["number"] = number
    env.filters["when"] = when
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def render(template: str, *, locale: str = DEFAULT_LOCALE, **context: Any) -> str:
    """Render `template` with the gettext catalog of `locale` (English without one)."""
    gettext, ngettext = _newstyle(translations(locale))
    return (
        environment()
        .get_template(template)
        .render(_=gettext, gettext=gettext, ngettext=ngettext, locale=locale, **context)
    )


def _newstyle(catalog: NullTranslations) -> tuple[Any, Any]:
    """gettext and ngettext as Jinja's new-style i18n calls them: keyword variables are
    formatted into the translated text (`{% trans n=x %}...{{ n }}...{% endtrans %}`), and
    the text is markup-safe where the template autoescapes (the variables are escaped)."""

    @pass_context
    def gettext(context: Any, message: str, **variables: Any) -> str:
        text = catalog.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - catalogs are trusted like templates
        return text % variables

    @pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = catalog.ngettext(singular, plural, num)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704 - catalogs are trusted like templates
        return text % variables

    return gettext, ngettext
