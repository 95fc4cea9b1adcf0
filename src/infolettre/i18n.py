"""Gettext in one place: every string a person reads goes through ``_``.

Source strings are written in French (Québec), the bulletin's language. Catalogs live in
``locale/`` (template ``infolettre.pot``, extracted with ``pybabel extract -F babel.cfg``);
adding English means ``pybabel init -l en`` and translating, without touching code.
"""

from __future__ import annotations

import gettext as _gettext
from pathlib import Path

from babel import Locale

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "infolettre"
DEFAULT_LOCALE = "fr_CA"

_translations: _gettext.NullTranslations = _gettext.NullTranslations()
_locale = Locale.parse(DEFAULT_LOCALE)


def activate(locale: str = DEFAULT_LOCALE) -> None:
    """Select the catalog used by ``_`` (French source strings if none exists)."""
    global _translations, _locale
    _locale = Locale.parse(locale)
    _translations = _gettext.translation(
        DOMAIN, localedir=LOCALE_DIR, languages=[locale, _locale.language], fallback=True
    )


def current_locale() -> Locale:
    """Return the Babel locale in force (dates and numbers are formatted with it)."""
    return _locale


def translations() -> _gettext.NullTranslations:
    """Return the active catalog, for Jinja2's i18n extension."""
    return _translations


def _(message: str) -> str:
    """Translate ``message`` with the active catalog."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate with a plural form chosen by ``n``."""
    return _translations.ngettext(singular, plural, n)
