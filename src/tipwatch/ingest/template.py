"""The submission template: a workbook (and the same as CSV files) built from the data package.

Everything in it — sheets, columns, instructions, code lists — comes from
`reference/data/casefile/` (the Table Schema data package and its code lists), so the
template, the importer and the validation rules cannot drift apart. The worked example is the
package's `example/` folder, which the tests import.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from tipwatch import reference
from tipwatch.ingest.casefile import PACKAGE, fields, resources

EXAMPLE = PACKAGE.parent / "example"
CODELISTS = PACKAGE.parent / "codelists"

INSTRUCTIONS = [
    "How to fill in this template",
    "",
    "One file covers one reporting country and one period: fill the 'submission' sheet first (one row).",
    "Fill one sheet per table. Keep the header row as it is; one record per row; leave cells empty when unknown.",
    "Identifiers (case_ref, person_ref, request_ref) are your own pseudonymous references. Never enter names.",
    "Dates are written YYYY-MM-DD (2019-12-31). Codes come from the 'codelists' sheet; countries are ISO 3166 "
    "alpha-3 codes (THA, MMR, …).",
    "Count nothing yourself: tipwatch counts persons, not cases, in the year of each event.",
    "Check the file with `tipwatch validate FILE` before sending it; every problem is listed with its sheet, "
    "line and field.",
    "A corrected file for the same country and period replaces the figures of the earlier one; both are kept.",
    "",
]


def _codelist_rows() -> list[tuple[str, str, str]]:
    rows = []
    for path in sorted(CODELISTS.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows += [(path.stem, r["code"], r["label"]) for r in csv.DictReader(fh)]
    for name in ("sex", "age", "form"):
        rows += [(name, code, r["label"]) for code, r in reference.codelist(name).items() if code != "total"]
    rows += [("citizenship", code, "") for code in ("stateless", "unknown")]
    return rows


def _example(resource: str) -> list[list[str]]:
    path = EXAMPLE / f"{resource}.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))[1:]


def write_workbook(path: Path, *, example: bool = False) -> Path:
    """Write the template workbook (filled with the worked example if ``example``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    head = PatternFill("solid", fgColor="DCE6F0")
    wb = Workbook()
    ws = wb.active
    ws.title = "instructions"
    for line in INSTRUCTIONS:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["sheet", "column", "title", "type", "required", "code list", "description"])
    for cell in ws[ws.max_row]:
        cell.font, cell.fill = bold, head
    for name, res in resources().items():
        for fld in res["schema"]["fields"]:
            cons = fld.get("constraints", {})
            ws.append([name, fld["name"], fld.get("title", ""), fld["type"],
                       "yes" if cons.get("required") else "", cons.get("codelist", ""),
                       fld.get("description", "")])
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 40
    ws.column_dimensions["G"].width = 80

    for name in resources():
        sheet = wb.create_sheet(name)
        sheet.append([f["name"] for f in fields(name)])
        for cell in sheet[1]:
            cell.font, cell.fill = bold, head
        for i, _ in enumerate(fields(name)):
            sheet.column_dimensions[chr(ord("A") + i)].width = 20
        sheet.freeze_panes = "A2"
        if example:
            for row in _example(name):
                sheet.append([v if v != "" else None for v in row])

    codes = wb.create_sheet("codelists")
    codes.append(["code list", "code", "label"])
    for cell in codes[1]:
        cell.font, cell.fill = bold, head
    for row in _codelist_rows():
        codes.append(list(row))
    codes.column_dimensions["C"].width = 50
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(folder: Path, *, example: bool = False) -> Path:
    """Write the template as CSV files with the Table Schema data package beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, res in resources().items():
        with (folder / res["path"]).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow([f["name"] for f in fields(name)])
            if example:
                w.writerows(_example(name))
    (folder / "datapackage.json").write_text(json.dumps(json.loads(PACKAGE.read_text(encoding="utf-8")),
                                                        indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shutil.copytree(CODELISTS, folder / "codelists", dirs_exist_ok=True)
    return folder
