"""The legal-framework checklist in the report: each chapter's items and who meets them, and each
member's statuses in its profile.

Reads the released statuses of `ReportInput.legal` (`tipwatch.legal`, in force on 31 December
of the report's last year) and the items of `ReportInput.checklist`; computes nothing but the
number of members with a known "yes". Unknown is printed as unknown (``?``): the data holds a
status only where a public source supports it, so a ``?`` is a gap in the sources, not a ``no``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from tipwatch.legal import STATUSES, UNKNOWN, Item
from tipwatch.report.fmt import Formatter
from tipwatch.report.i18n import N_, _
from tipwatch.report.model import ComponentMeta, ReportInput
from tipwatch.report.tables import Cell, Row, Table

# The English texts below are catalogue messages (N_), translated where they are printed.
TITLE = N_("Legal framework checklist")
#: The symbol printed for each status, in the order of `tipwatch.legal.STATUSES`.
SYMBOLS = {"yes": "●", "partial": "◐", "no": "○", "unknown": "?"}
#: A status as a word (the data's codes are English words: yes, partial, no, unknown).
WORDS = {"yes": N_("yes"), "partial": N_("partial"), "no": N_("no"), "unknown": N_("unknown")}
MEANINGS = {
    "yes": N_("yes: the law provides it"),
    "partial": N_("partly"),
    "no": N_("no: the law does not provide it"),
    "unknown": N_("unknown: no public source in tipwatch's data gives a status (not the same as no)"),
}
LEGEND = [(SYMBOLS[s], MEANINGS[s]) for s in STATUSES]


def legend() -> list[tuple[str, str]]:
    """The statuses' symbols and meanings, in the report's language."""
    return [(symbol, _(meaning)) for symbol, meaning in LEGEND]


class Checklist:
    """The released checklist statuses of a `ReportInput`, indexed by member and item.

    Args:
        inp: The report input.
    """

    def __init__(self, inp: ReportInput) -> None:
        self.items: list[Item] = list(inp.checklist)
        self.members = list(inp.members)
        #: The day the statuses are in force: the last day of the report's period.
        self.on = date(inp.years[1], 12, 31)
        self._rows: dict[tuple[str, str], dict[str, Any]] = {
            (str(r["country"]), str(r["item"])): r for r in inp.legal.to_dict("records")
        }

    def get(self, country: str, item: str) -> dict[str, Any]:
        """A member's released status row on an item (``unknown`` when the input has none)."""
        return self._rows.get((country, item)) or {"status": UNKNOWN, "since": None, "law": "",
                                                   "source": "", "note": ""}

    def status(self, country: str, item: str) -> str:
        """``yes``, ``partial``, ``no`` or ``unknown``."""
        word = self.get(country, item)["status"]
        return word if word in SYMBOLS else UNKNOWN

    def chapter(self, component: ComponentMeta, fmt: Formatter,
                number: Callable[[Table], Table]) -> dict[str, Any] | None:
        """A chapter's checklist section: its items as a self-assessment list, and who meets them.

        Args:
            component: The chapter's component.
            fmt: The formatter.
            number: Numbers a table in reading order (the document's ``table``).

        Returns:
            None when the report has no checklist at all; else ``anchor``, ``as_of``, ``lead``,
            ``questions`` (the items: id, question, citation, url, ...), ``table`` (members × items, numbered),
            ``count`` (members with a known yes), or ``empty`` for a component with no item.
        """
        if not self.items:
            return None
        mine = [i for i in self.items if i.component == component.id]
        as_of = fmt.date(self.on)
        section: dict[str, Any] = {"anchor": f"checklist-{component.id}", "title": _(TITLE), "as_of": as_of,
                                   "lead": "", "questions": [], "table": None, "count": "", "empty": ""}
        if not mine:
            section["empty"] = _("No checklist item belongs to this component: the instruments the "
                                 "checklist draws on set no legal-framework standard for it that "
                                 "tipwatch could verify.")
            return section
        section["lead"] = _(
            "The questions a state can assess itself against for this component, each with the "
            "instrument it comes from, and each member's status as of "
            "{date}. A status is given only where a public source supports it; the law cited "
            "and the source are in the member's profile. {unknown} means no such "
            "source is held, not that the law lacks the provision.").format(date=as_of, unknown=SYMBOLS[UNKNOWN])
        section["questions"] = [{
            "id": i.id, "title": i.title, "question": i.question, "citation": i.source.citation,
            "url": i.source.url, "unverified": not i.source.verified, "related": i.related,
        } for i in mine]
        section["table"] = number(self._table(component, mine, as_of))
        met = [name for iso, name in self.members if any(self.status(iso, i.id) == "yes" for i in mine)]
        items, members = fmt.number(len(mine)), fmt.number(len(self.members))
        if not met:
            section["count"] = (_("No member has a known yes on this item.") if len(mine) == 1 else
                                _("No member has a known yes on any of these {items} items.").format(items=items))
        elif len(mine) == 1:
            section["count"] = _("{met} of {members} members have a known yes on this item: {names}.").format(
                met=fmt.number(len(met)), members=members, names=", ".join(met))
        else:
            section["count"] = _("{met} of {members} members have a known yes on at least one of these {items} "
                                 "items: {names}.").format(met=fmt.number(len(met)), members=members, items=items,
                                                           names=", ".join(met))
        return section

    def _table(self, component: ComponentMeta, mine: list[Item], as_of: str) -> Table:
        rows = []
        for iso, name in self.members:
            cells = []
            for item in mine:
                word = self.status(iso, item.id)
                cells.append(Cell(SYMBOLS[word], f"checklist cl-{word}", key=f"{iso}:{item.id}"))
            rows.append(Row(name, cells, key=iso))
        n = len(self.members)
        totals = [Cell(_("{yes} of {members}").format(
            yes=sum(self.status(iso, i.id) == "yes" for iso, _name in self.members), members=n), "number")
                  for i in mine]
        rows.append(Row(_("Members with a known yes"), totals, kind="region", key="known-yes"))
        return Table(
            id=f"t-checklist-{component.id}",
            caption=_("Legal framework checklist: each member's status on the items of this chapter, {date}").format(
                date=as_of),
            columns=[_("Member"), *(i.id for i in mine)],
            rows=rows,
            legend_extra=legend(),
        )

    def profile(self, iso: str, name: str, fmt: Formatter) -> dict[str, Any] | None:
        """A member's checklist for its profile: every item, the known statuses in full.

        Known statuses get a line each (the law cited, since when, the source); the items whose
        status is unknown are listed together in one paragraph, which keeps a profile on one page.

        Returns:
            None when the report has no checklist; else ``as_of``, ``known`` (symbol, status, id,
            short title, since, law, note, source and its host), ``unknown`` (id and short title
            of every other item), ``unknown_lead`` (the sentence before them) and ``symbol``
            (of unknown).
        """
        if not self.items:
            return None
        known, unknown = [], []
        for item in self.items:
            row, word = self.get(iso, item.id), self.status(iso, item.id)
            if word == UNKNOWN:
                unknown.append({"id": item.id, "short": item.short})
                continue
            since = row.get("since")
            known.append({
                "symbol": SYMBOLS[word], "status": word, "status_text": _(WORDS[word]), "id": item.id,
                "short": item.short,
                "since": fmt.date(since) if isinstance(since, date) else "",
                # The law is cited as its source gives it; the note, tipwatch's own sentence, is translated.
                "law": str(row.get("law") or ""), "note": _(str(row.get("note"))) if row.get("note") else "",
                "source": str(row.get("source") or ""), "host": _host(str(row.get("source") or "")),
            })
        if not known:
            lead = _("Unknown for every item (tipwatch holds no public source on {name}'s law; unknown "
                     "is not no):").format(name=name)
        else:
            lead = _("Unknown (no public source held; unknown is not no):")
        return {"as_of": fmt.date(self.on), "known": known, "unknown": unknown, "unknown_lead": lead,
                "symbol": SYMBOLS[UNKNOWN]}


def _host(url: str) -> str:
    """The host a source link is printed as (``laws.sg``), the full address being its target."""
    host = urlsplit(url).netloc
    return host.removeprefix("www.") or url
