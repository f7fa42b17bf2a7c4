"""Small GLOTIP-layout workbooks for tests, written with openpyxl in UNODC's layout."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category", "Sex",
          "Age", "Year", "Unit of measurement", "txtVALUE", "Source"]


def row(iso3: str, country: str, indicator: str, year: int, value: str, *, sex: str = "Total",
        age: str = "Total", dimension: str = "Total", category: str = "Total") -> list:
    return [iso3, country, "Asia", "South-eastern Asia", indicator, dimension, category, sex, age,
            float(year), "Counts", value, "GLOTIP"]


def write(path: Path, rows: list[list], vintage: str | None = "30/05/2023", header: list[str] = HEADER) -> Path:
    """Write a one-sheet workbook: banner rows (unless ``vintage`` is None), header, rows."""
    wb = Workbook()
    ws = wb.active
    ws.title = "data_glotip_1"
    if vintage is not None:
        ws.append(["UNODC", "unodc_ddds@un.org"])
        ws.append([vintage])
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def release(path: Path, vintage: str, phl_2019: str, tha_2019: str = "554") -> Path:
    """A tiny release: Philippines' detected victims and Thailand's prosecutions."""
    return write(path, [
        row("PHL", "Philippines", "Detected trafficking victims", 2019, phl_2019),
        row("PHL", "Philippines", "Detected trafficking victims", 2018, "1,200"),
        row("THA", "Thailand", "Persons prosecuted", 2019, tha_2019),
        row("SGP", "Singapore", "Persons convicted", 2019, "<5"),
    ], vintage=vintage)
