"""Write docs/indicators.md from the indicator metadata (run after editing indicators.yaml).

Usage: .venv/bin/python scripts/indicator_docs.py
"""

from pathlib import Path

from tipwatch import reference

HEAD = """# Indicators

Each indicator is one ibis expression (`src/tipwatch/indicators/`) and one entry of metadata
(`src/tipwatch/reference/data/indicators.yaml`). Report, exports and, later, the dashboard use
these definitions and no other. A test fails when an indicator lacks an entry here; this page is
written by `scripts/indicator_docs.py`.

Regional figures: counts are the sum of the members that reported a number; ratios are the ratio
of the summed numerators and denominators over members that reported both. Every regional row
states `reporting` (members with a number), `below_threshold` (members with only `<5`, never
added) and `members` (members that year, by the dated memberships in `memberships.csv`).

When two sources give the same country, year and indicator, the one with the higher precedence in
`reference/data/sources.csv` is used (a country's own case records before UNODC's aggregate);
synthetic data never mixes with real data. Counting rules for case records: docs/counting-rules.md.
"""

TAIL = """## Statuses

| status | meaning |
| --- | --- |
| `reported` | the source's own number |
| `below_threshold` | the source published `<5`: a count from 1 to 4, never used as a number |
| `incomplete` | assembled from several source rows, some of them `<5`: no number is given |
| `computed` | computed by tipwatch (a count from case records, a ratio, a share, a regional total) |
| `missing` | no figure |
| `suppressed` | withheld by the privacy layer for this audience (a count from 1 to k−1) |

Flag `ratio_above_100`: a period ratio above 100 %, such as Indonesia 2017 (330 persons convicted,
25 prosecuted). It is kept and shown, marked as an anomaly: the two counts are not the same persons.
"""


def main() -> None:
    comps = {c["id"]: c["title"] for c in reference.components()}
    parts = [HEAD]
    for m in reference.indicator_meta():
        parts.append(
            f"## `{m['id']}`: {m['title']}\n\n"
            f"- Component: {m['component']}. {comps[m['component']]}\n"
            f"- Unit: {m['unit']}\n"
            f"- Breakdowns: {', '.join(m.get('breakdowns') or []) or 'none'}\n"
            f"- Source indicator (GLOTIP): {m.get('glotip_indicator') or '— (case records, or computed)'}\n\n"
            f"**Definition.** {m['definition'].strip()}\n\n"
            f"**Counting rule.** {m['counting_rule'].strip()}\n"
        )
    parts.append(TAIL)
    out = Path(__file__).resolve().parents[1] / "docs" / "indicators.md"
    out.write_text("\n".join(parts), encoding="utf-8")


if __name__ == "__main__":
    main()
