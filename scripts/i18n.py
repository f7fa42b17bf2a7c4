"""The report's message catalogues: extract, update, check.

    python scripts/i18n.py extract   # write the template, src/tipwatch/report/locale/tipwatch.pot
    python scripts/i18n.py update    # merge it into every language's tipwatch.po
    python scripts/i18n.py check     # fail when a language misses a translation

The messages are those of the report's Python and Jinja2 templates (found through `babel.cfg`, as
``pybabel extract -F babel.cfg`` would find them) and the data-file texts the report prints
(`tipwatch.report.localise.data_messages`: indicators, components, checklist items, statement
rules, ...). ``update`` keeps every translation whose English is unchanged, marks one whose English
changed a little as fuzzy (the report then prints the English until a translator confirms it) and
drops obsolete ones. docs/languages.md says how to add a language.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "babel.cfg"
PROJECT = "tipwatch"
# No year or author: the files change only when a message does.
HEADER = ("# The tipwatch Progress Report's messages: scripts/i18n.py writes this file.\n"
          "# How to translate and update it: docs/languages.md.")


def _locale_dir() -> Path:
    from tipwatch.report import i18n

    return i18n.LOCALE_DIR


def template_path() -> Path:
    """Where the catalogue template (``.pot``) is kept."""
    from tipwatch.report import i18n

    return _locale_dir() / f"{i18n.DOMAIN}.pot"


def po_path(lang: str) -> Path:
    """A language's catalogue."""
    from tipwatch.report import i18n

    return _locale_dir() / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"


def extract() -> Catalog:
    """Every message of the report: code, templates and data files.

    Returns:
        A catalogue template (no translations), messages in a stable order.
    """
    from tipwatch.report.localise import data_messages

    with CONFIG.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, filename=str(CONFIG))
    catalog = Catalog(project=PROJECT, charset="utf-8", fuzzy=False, header_comment=HEADER)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS,
                             comment_tags=("Translators:",), strip_comment_tags=True)
    for path, line, message, comments, context in found:
        if not message or (isinstance(message, tuple) and not message[0]):
            continue
        catalog.add(message, None, [(path, line)], auto_comments=comments, context=context)
    for message, where in data_messages():
        if message:
            catalog.add(message, None, [(f"src/tipwatch/reference/data/{where}", 0)])
    return catalog


def _write(catalog: Catalog, path: Path, **options: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    # No creation date, no line numbers: the files change only when a message does.
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=False, include_lineno=False,
             **options)
    text = buffer.getvalue().decode("utf-8")
    text = "\n".join(line for line in text.splitlines() if not line.startswith('"POT-Creation-Date:'))
    path.write_text(text + "\n", encoding="utf-8")


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def languages() -> list[str]:
    """The report's languages that have a catalogue (every language but English)."""
    from tipwatch.report import i18n

    return [lang for lang in i18n.LANGUAGES if lang != "en"]


def update(langs: Iterable[str]) -> None:
    """Write the template and merge it into each language's catalogue."""
    template = extract()
    _write(template, template_path())
    for lang in langs:
        path = po_path(lang)
        catalog = _read(path, lang) if path.exists() else Catalog(locale=lang, project=PROJECT, fuzzy=False)
        catalog.update(template, update_header_comment=False)
        catalog.header_comment = HEADER
        catalog.last_translator = catalog.language_team = "tipwatch contributors"
        _write(catalog, path, ignore_obsolete=True)


def problems(lang: str, template: Catalog | None = None) -> list[str]:
    """What ``lang``'s catalogue lacks against the messages of the code, templates and data.

    Returns:
        One line per message that is missing, untranslated or fuzzy (empty when complete).
    """
    template = template or extract()
    path = po_path(lang)
    if not path.exists():
        return [f"{path.name} for {lang} does not exist: run scripts/i18n.py update"]
    catalog = _read(path, lang)
    out = []
    for message in template:
        if not message.id:
            continue
        key = message.id
        found = catalog.get(key, context=message.context)
        if found is None:
            out.append(f"missing: {_short(key)}")
        elif found.fuzzy:
            out.append(f"fuzzy: {_short(key)}")
        elif not (all(found.string) if isinstance(found.string, tuple) else found.string):
            out.append(f"untranslated: {_short(key)}")
    return out


def _short(message: str | tuple[str, ...]) -> str:
    text = message[0] if isinstance(message, tuple) else message
    return repr(text if len(text) <= 80 else text[:77] + "...")


def main(argv: list[str] | None = None) -> int:
    """Run a command; 1 when ``check`` finds a problem."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("extract", "update", "check"))
    parser.add_argument("--lang", action="append", help="Only this language (repeatable).")
    args = parser.parse_args(argv)
    langs = args.lang or languages()
    if args.command == "extract":
        _write(extract(), template_path())
        return 0
    if args.command == "update":
        update(langs)
        return 0
    template = extract()
    failed = 0
    for lang in langs:
        found = problems(lang, template)
        for line in found:
            print(f"{lang}: {line}")
        failed += len(found)
    print(f"{len(template)} messages; {failed} problem(s).")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
