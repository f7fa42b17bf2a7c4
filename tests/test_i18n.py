"""The report's languages: catalogues read from .po files, per-thread, plural forms."""

from __future__ import annotations

import threading

import pytest

from tipwatch.errors import InputError
from tipwatch.report import i18n

PO = '''msgid ""
msgstr ""
"Language: id\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

msgid "Annex"
msgstr "Lampiran"

#, fuzzy
msgid "Overview"
msgstr "Tinjauan (belum pasti)"

msgid "{n} member"
msgid_plural "{n} members"
msgstr[0] "{n} anggota"
'''


@pytest.fixture
def catalogue(tmp_path, monkeypatch):
    folder = tmp_path / "id" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "tipwatch.po").write_text(PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translation.cache_clear()
    yield
    i18n.translation.cache_clear()


def test_messages_plurals_and_fuzzy_entries(catalogue):
    with i18n.use("id"):
        assert i18n._("Annex") == "Lampiran"
        assert i18n.ngettext("{n} member", "{n} members", 3) == "{n} anggota"
        assert i18n._("Overview") == "Overview"  # fuzzy: the English stands
        assert i18n._("Not in the catalogue") == "Not in the catalogue"
    assert i18n._("Annex") == "Annex"
    assert i18n.ngettext("{n} member", "{n} members", 1) == "{n} member"


def test_each_thread_keeps_its_own_language(catalogue):
    seen = {}

    def other():
        seen["other"] = i18n._("Annex")

    with i18n.use("id"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        seen["here"] = i18n._("Annex")
    assert seen == {"other": "Annex", "here": "Lampiran"}


def test_an_unknown_language_is_refused_clearly():
    with pytest.raises(InputError, match="not available in 'xx'.*en \\(English\\)"):
        i18n.check("xx")
