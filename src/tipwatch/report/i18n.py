"""The report's languages: gettext catalogues, read through Babel, one per language.

Every sentence of the report is written once, in English, in the templates and the Python that
builds the document, marked for translation (``{% trans %}`` / ``_()`` / ``ngettext()``). The
translations live in ``report/locale/<lang>/LC_MESSAGES/tipwatch.po``, plain text that a
translator edits with any PO editor; tipwatch reads the ``.po`` file itself (Babel's parser), so
there is no compiled ``.mo`` to keep in step. Numbers and dates follow the language's Babel
locale (`tipwatch.report.fmt.Formatter`).

`translation(lang)` gives the catalogue; `use(lang)` makes it the one `_` and `ngettext` read
while a report is built (a context variable, so two reports in two threads do not mix).
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from tipwatch.errors import InputError

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "tipwatch"
#: The report's languages: code → name in that language. English is the source language.
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}

_ENGLISH = gettext.NullTranslations()
_current: contextvars.ContextVar[gettext.NullTranslations | None] = contextvars.ContextVar(
    "tipwatch_report_translation", default=None)
_language: contextvars.ContextVar[str] = contextvars.ContextVar("tipwatch_report_language", default="en")


def check(lang: str) -> str:
    """``lang`` if the report is available in it.

    Raises:
        InputError: Not a language of the report.
    """
    if lang not in LANGUAGES:
        known = ", ".join(f"{code} ({name})" for code, name in LANGUAGES.items())
        raise InputError(f"The report is not available in {lang!r}: choose one of {known}.")
    return lang


class Catalogue(gettext.NullTranslations):
    """A language's messages, read from its ``.po`` file."""

    def __init__(self, messages: dict[str, str], plurals: dict[str, tuple[str, ...]], plural) -> None:
        super().__init__()
        self._messages = messages
        self._plurals = plurals
        self._plural = plural

    def gettext(self, message: str) -> str:
        return self._messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self._plurals.get(singular)
        if not forms:
            return singular if n == 1 else plural
        return forms[min(self._plural(n), len(forms) - 1)]


@cache
def translation(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (English: no translation).

    Raises:
        InputError: Not a language of the report.
    """
    check(lang)
    if lang == "en":
        return gettext.NullTranslations()
    po = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue  # the header, or a doubtful translation: the English stands
        if isinstance(message.id, tuple):
            if all(message.string):
                plurals[message.id[0]] = tuple(message.string)
        elif message.string:
            messages[message.id] = message.string
    return Catalogue(messages, plurals, gettext.c2py(catalog.plural_expr))


@contextlib.contextmanager
def use(lang: str) -> Iterator[gettext.NullTranslations]:
    """Translate with ``lang``'s catalogue inside the block."""
    token = _current.set(translation(lang))
    named = _language.set(lang)
    try:
        yield _current.get() or _ENGLISH
    finally:
        _language.reset(named)
        _current.reset(token)


def current() -> str:
    """The language `use` made current (``en`` outside any `use` block)."""
    return _language.get()


def _(message: str) -> str:
    """``message`` in the current language."""
    return (_current.get() or _ENGLISH).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural of a message, in the current language, for ``n``."""
    return (_current.get() or _ENGLISH).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it (a constant, translated where printed)."""
    return message


def install(env) -> None:
    """Give a Jinja2 environment (with the ``jinja2.ext.i18n`` extension) the current catalogue."""
    env.install_gettext_callables(_, ngettext, newstyle=True)


def language(locale: str) -> str:
    """The report language of a Babel locale (``id_ID`` → ``id``).

    Raises:
        InputError: Not a language of the report.
    """
    from babel import Locale

    return check(Locale.parse(locale).language)


__all__ = ["LANGUAGES", "N_", "check", "current", "install", "language", "ngettext", "translation", "use", "_"]
