"""The ground truth of a synthetic run: what the counting rules must reproduce from the files.

Counting rules (DESIGN.md "Counting rules"; UNODC's):

- **Persons, not cases.** A suspect in two cases is one person (same ``person_ref``).
- **Year of the event.** A person counts in the calendar year of the event's date.
- **Once per year per event type.** Several events of one type for one person in one year
  (two cases, two investigations) count once; the same person counts again in another year.
- Suspects: ``investigation_opened``, ``prosecution_initiated`` and the *first-instance*
  verdicts ``convicted`` / ``acquitted`` / ``dismissed`` (appeal verdicts are not counted in
  these). ``first_conviction`` is the cube's ``persons_convicted`` rule: the person's first
  conviction in a case, i.e. the first-instance one, or else the appeal verdict that reverses an
  acquittal or dismissal, in the year of that verdict.
- Victims: each service (``identified``, ``assisted``, ``testified``,
  ``compensation_awarded``, …) counted as distinct persons per year of the service date.
- Cooperation requests: ``sent`` by the year of ``sent_on`` (each request once; the requesting
  country is the country of the folder), with its split by type and by status as last
  reported; ``executed`` by the year of ``executed_on``.
- Durations are medians (the mean of the two middle values when their number is even, as
  ``numpy.median`` and DuckDB's ``median``): days from a person's ``investigation_opened`` to
  the first-instance verdict in the same case (per year: the verdict's year); days from
  ``sent_on`` to ``executed_on`` of executed requests (per year: the year sent). The
  country-level figure covers all years.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

SUSPECT_COUNTS = ("investigation_opened", "prosecution_initiated", "convicted", "acquitted", "dismissed",
                  "first_conviction")
DURATIONS = ("investigation_to_verdict", "request_sent_to_executed")
FORMAT = 1
COUNTING_RULES = " ".join((
    "Persons, not cases (same person_ref = one person); a person counts in the calendar year of the event,",
    "once per year per event type.",
    "Suspects: investigation_opened, prosecution_initiated and first-instance verdicts",
    "convicted/acquitted/dismissed (appeal verdicts not counted);",
    "first_conviction = the first-instance conviction, else the appeal verdict reversing an acquittal",
    "or dismissal, in its year.",
    "Victims: distinct persons per service and year of the service date.",
    "Requests: sent by year of sent_on (requesting country = the folder's country; split by type and",
    "by last status), executed by year of executed_on.",
    "Durations: interpolated medians of days from a person's investigation_opened to the first-instance",
    "verdict in the same case (per year: verdict year), and from sent_on to executed_on of executed",
    "requests (per year: year sent); the country-level medians cover all years.",
))


def _median(hist: np.ndarray) -> float | None:
    total = int(hist.sum())
    if total == 0:
        return None
    cum = np.cumsum(hist)
    lo = int(np.searchsorted(cum, (total - 1) // 2, side="right"))
    hi = int(np.searchsorted(cum, total // 2, side="right"))
    return (lo + hi) / 2


def _summary(hist: np.ndarray) -> dict:
    return {"median_days": _median(hist), "n": int(hist.sum())}


@dataclass
class CountryTruth:
    """True counts of one country; filled chunk by chunk while generating."""

    iso3: str
    start: date
    end: date
    years: list[int]
    y0: int
    counts: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    hists: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    requested: dict[str, int] = field(default_factory=dict)
    request_types: tuple[str, ...] = ()
    request_statuses: tuple[str, ...] = ()
    group_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def _ny(self) -> int:
        return self.years[-1] - self.y0 + 1

    def _table(self, name: str, k: int) -> np.ndarray:
        if name not in self.counts:
            self.counts[name] = np.zeros((k, self._ny), dtype=np.int64)
        return self.counts[name]

    def add_cases(self, year: int, n: int) -> None:
        """Count ``n`` cases opened in ``year``."""
        self._table("cases_opened", 1)[0, year - self.y0] += n

    def add_distinct(self, group: str, persons: np.ndarray, kinds: np.ndarray, years: np.ndarray,
                     codes: tuple[str, ...], shared: np.ndarray | None = None) -> None:
        """Count distinct (person, kind, year) triples of one chunk.

        Args:
            group: ``suspects`` or ``victims``.
            persons: Chunk-local person identities (equal for the same person).
            kinds: Index into ``codes`` of each event.
            years: Calendar year of each event.
            codes: Names of the kinds.
            shared: True for rows of persons who are in more than one case. The others have
                at most one event of a kind, so only these need de-duplicating (all rows when None).
        """
        self.group_codes[group] = codes
        k, ny = len(codes), self._ny
        cell = kinds.astype(np.int64) * ny + (years - self.y0)
        if shared is None:
            shared = np.ones(cell.size, dtype=bool)
        key = persons[shared].astype(np.int64) * (k * ny) + cell[shared]
        cells = np.concatenate([cell[~shared], np.unique(key) % (k * ny)])
        self._table(group, k)[:] += np.bincount(cells, minlength=k * ny).reshape(k, ny)

    def add_requests(self, sent_years: np.ndarray, types: np.ndarray, statuses: np.ndarray,
                     requested: np.ndarray, executed_years: np.ndarray, type_codes: tuple[str, ...],
                     status_codes: tuple[str, ...], partner_codes: list[str]) -> None:
        """Count requests sent (by year of ``sent_on``: by type and by status as last reported, and
        by requested country over all years) and executed (by year of ``executed_on``)."""
        self.request_types, self.request_statuses = type_codes, status_codes
        ny = self._ny
        for name, idx, k in (("requests_sent", types, len(type_codes)),
                             ("requests_status", statuses, len(status_codes))):
            self._table(name, k)[:] += np.bincount(idx * ny + (sent_years - self.y0), minlength=k * ny).reshape(k, ny)
        self._table("requests_executed", 1)[0] += np.bincount(executed_years - self.y0, minlength=ny)
        for code, n in zip(partner_codes, np.bincount(requested, minlength=len(partner_codes)), strict=False):
            if n:
                self.requested[code] = self.requested.get(code, 0) + int(n)

    def add_durations(self, name: str, days: np.ndarray, years: np.ndarray) -> None:
        """Add durations in days, each with the year it is reported under, to the histograms behind the medians."""
        hists = self.hists.setdefault(name, {})
        for y in np.unique(years).tolist():
            h = np.bincount(days[years == y].astype(np.int64))
            old = hists.get(y, np.zeros(1, np.int64))
            size = max(old.size, h.size)
            hists[y] = np.pad(old, (0, size - old.size)) + np.pad(h, (0, size - h.size))

    def _merged(self, name: str, year: int | None = None) -> np.ndarray:
        hists = self.hists.get(name, {})
        parts = [h for y, h in hists.items() if year is None or y == year] or [np.zeros(1, np.int64)]
        size = max(h.size for h in parts)
        return sum(np.pad(h, (0, size - h.size)) for h in parts)

    def add_rows(self, resource: str, n: int) -> None:
        """Count rows written to a resource's CSV file."""
        self.rows[resource] = self.rows.get(resource, 0) + n

    def to_dict(self) -> dict:
        """The country's part of ``ground_truth.json``."""
        out_years = {}
        for y in self.years:
            i = y - self.y0
            entry = {"cases_opened": int(self._table("cases_opened", 1)[0, i])}
            for group in ("suspects", "victims"):
                codes = self.group_codes.get(group, ())
                table = self.counts.get(group)
                entry[group] = {c: int(table[j, i]) if table is not None else 0 for j, c in enumerate(codes)}
            sent = self.counts.get("requests_sent")
            status = self.counts.get("requests_status")
            executed = self.counts.get("requests_executed")
            entry["requests"] = {
                "sent": int(sent[:, i].sum()) if sent is not None else 0,
                "sent_by_type": {c: int(sent[j, i]) if sent is not None else 0
                                 for j, c in enumerate(self.request_types)},
                "sent_by_status": {c: int(status[j, i]) if status is not None else 0
                                   for j, c in enumerate(self.request_statuses)},
                "executed": int(executed[0, i]) if executed is not None else 0,
            }
            entry["durations"] = {name: _summary(self._merged(name, y)) for name in DURATIONS}
            out_years[str(y)] = entry
        medians = {name: _summary(self._merged(name)) for name in DURATIONS}
        return {
            "period_start": self.start.isoformat(),
            "period_end": self.end.isoformat(),
            "rows": {k: self.rows.get(k, 0) for k in sorted(self.rows)},
            "durations": medians,
            "requests_by_requested_country": dict(sorted(self.requested.items())),
            "years": out_years,
        }


@dataclass
class GroundTruth:
    """The true counts of a synthetic run, per country and year (see the module docstring).

    While generating it accumulates counts; after the run use :meth:`load` on
    ``ground_truth.json`` and read it with :meth:`count` and :meth:`median`, or use ``data``.
    """

    data: dict
    _countries: dict[str, CountryTruth] = field(default_factory=dict, repr=False)

    @classmethod
    def empty(cls, region: str, years: tuple[int, int], scale: float, seed: int, prepared: date) -> GroundTruth:
        """A ground truth with no counts yet."""
        return cls({
            "synthetic": True,
            "generator": "tipwatch synth",
            "format": FORMAT,
            "warning": "Synthetic data: never mix with real submissions.",
            "region": region,
            "years": list(years),
            "scale": scale,
            "seed": seed,
            "prepared_on": prepared.isoformat(),
            "counting_rules": COUNTING_RULES,
            "countries": {},
        })

    def add_country(self, iso3: str, start: date, end: date, years: list[int]) -> CountryTruth:
        """Start counting for one country."""
        self._countries[iso3] = CountryTruth(iso3, start, end, years, years[0])
        return self._countries[iso3]

    def country(self, iso3: str) -> CountryTruth:
        """The accumulator of one country."""
        return self._countries[iso3]

    def to_json(self) -> str:
        """``ground_truth.json``: sorted keys, stable across runs."""
        data = dict(self.data)
        data["countries"] = {k: self._countries[k].to_dict() for k in sorted(self._countries)} or data["countries"]
        self.data = data
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: Path | str) -> GroundTruth:
        """Read a ``ground_truth.json`` (or the folder holding it)."""
        path = Path(path)
        if path.is_dir():
            path = path / "ground_truth.json"
        return cls(json.loads(path.read_text(encoding="utf-8")))

    @property
    def countries(self) -> list[str]:
        """ISO3 codes of the countries generated."""
        return sorted(self.data["countries"])

    def count(self, iso3: str, year: int, group: str, key: str) -> int:
        """A true count, e.g. ``count("THA", 2015, "suspects", "convicted")``.

        Args:
            iso3: Country.
            year: Year of the event.
            group: ``suspects``, ``victims`` or ``requests`` (or ``cases_opened`` with key ``""``).
            key: Event, service or ``sent`` / ``executed``.

        Returns:
            The count (0 for a year the country was not generated).
        """
        entry = self.data["countries"][iso3]["years"].get(str(year))
        if entry is None:
            return 0
        if group == "cases_opened":
            return entry["cases_opened"]
        return entry[group][key]

    def median(self, iso3: str, name: str, year: int | None = None) -> float | None:
        """Median days: ``investigation_to_verdict`` or ``request_sent_to_executed``.

        Args:
            iso3: Country.
            name: Which duration.
            year: One year (verdict year, or year sent); None for all years.

        Returns:
            The median in days, or None when there is nothing to take the median of.
        """
        entry = self.data["countries"][iso3]
        if year is not None:
            entry = entry["years"].get(str(year), {"durations": {name: {"median_days": None}}})
        return entry["durations"][name]["median_days"]
