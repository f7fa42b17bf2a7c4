"""Write the generated rows of the bundled country-name crosswalks (run after a Babel or pycountry upgrade).

- ``country_names_pt.csv``: the Portuguese territory names of the Unicode CLDR (through Babel),
  Brazilian ``pt`` and European ``pt_PT``; a name with a parenthesis also gives its two parts
  ("Mianmar (Birmânia)" → "Mianmar", "Birmânia").
- ``country_names_iso.csv``: ISO 3166-1 short and official English names (through pycountry)
  where they differ from the names of ``countries.csv``, which the harmoniser matches already.

A name is written only if it maps to one country and does not already match a code or an
English name of ``countries.csv`` (the built-in matches). Rows added by hand (any basis not
starting with "Unicode CLDR" or "ISO 3166-1") are kept as they are.

Usage: .venv/bin/python scripts/crosswalk_names.py
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

from tipwatch import reference
from tipwatch.harmonise import HEADER, domains, normalise

FOLDER = reference.DATA / "crosswalks"


def _write(path: Path, generated: list[dict], prefix: str) -> None:
    kept = []
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            kept = [r for r in csv.DictReader(fh) if not r["basis"].startswith(prefix)]
    rows = generated + kept
    rows.sort(key=lambda r: (r["domain"], normalise(r["label"]), r["label"]))
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, HEADER, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{path.name}: {len(generated)} generated rows, {len(kept)} kept")


def _unique(candidates: dict[str, set[str]], basis: dict[str, str]) -> list[dict]:
    builtin = domains()["country"].builtin
    out = []
    for label, codes in candidates.items():
        key = normalise(label)
        if len(codes) != 1 or key in builtin:
            continue  # ambiguous, or matched already without a crosswalk
        out.append({"domain": "country", "label": label, "code": next(iter(codes)), "basis": basis[label],
                    "note": ""})
    return out


def portuguese() -> None:
    from babel import Locale
    from babel.core import get_cldr_version

    by_iso2 = {c.iso2: c.iso3 for c in reference.countries().values()}
    labels: dict[str, set[str]] = defaultdict(set)
    basis: dict[str, str] = {}
    for locale, where in (("pt", "Brazil"), ("pt_PT", "Portugal")):
        for iso2, name in Locale.parse(locale).territories.items():
            iso3 = by_iso2.get(iso2)
            if iso3 is None:
                continue
            names = [name]
            m = re.fullmatch(r"(.+?)\s*\((.+)\)", name)
            if m:
                names += [m.group(1), m.group(2)]
            for n in names:
                labels[n].add(iso3)
                basis.setdefault(n, f"Unicode CLDR {get_cldr_version()} territory names, locale {locale} ({where})")
    # Keys that normalise alike ("Vietnã", "Vietna") are one label: keep the first spelling.
    merged: dict[str, set[str]] = {}
    seen: dict[str, str] = {}
    for label, codes in labels.items():
        key = normalise(label)
        if key in seen:
            merged[seen[key]] |= codes
        else:
            seen[key] = label
            merged[label] = set(codes)
    _write(FOLDER / "country_names_pt.csv", _unique(merged, basis), "Unicode CLDR")


def iso() -> None:
    import pycountry

    known = reference.countries()
    labels: dict[str, set[str]] = defaultdict(set)
    basis: dict[str, str] = {}
    for c in pycountry.countries:
        if c.alpha_3 not in known:
            continue
        for attr in ("name", "official_name", "common_name"):
            n = getattr(c, attr, None)
            if n:
                labels[n].add(c.alpha_3)
                basis.setdefault(n, f"ISO 3166-1 {attr.replace('_', ' ')} (pycountry {pycountry.__version__})")
    _write(FOLDER / "country_names_iso.csv", _unique(labels, basis), "ISO 3166-1")


if __name__ == "__main__":
    portuguese()
    iso()
