"""How the store's tables are laid out in a Parquet lake: one dataset per table, hive-partitioned.

Every table of `tipwatch.store.schema` is one folder of the lake, named after the table. Where a
table's rows belong to one country and one year, the folder is split by them (Hive layout:
``proceedings/country=THA/year=2019/…parquet``), so that a cluster reads, and a national
deployment replaces, one country-year at a time:

================================  =========================================  =====================================
table                             ``country=``                               ``year=``
================================  =========================================  =====================================
``observations``                  ``area`` (the figure's country or region)   not split (see below)
``cases``                         ``country``                                year of ``opened_on``
``persons``                       the case's ``country``                     year the case was opened
``proceedings``                   the case's ``country``                     year of ``event_date``
``services``                      the case's ``country``                     year of ``service_date``
``cooperation_requests``          ``requesting_country``                     year of ``sent_on``
``assessments``                   ``country``                                ``year`` (report year)
``submissions``, ``raw_files``,   not partitioned: small (one row per file)  or, for ``victim_records``, keys that
``victim_records``                may be missing (a record without a year or country of exploitation)
================================  =========================================  =====================================

The cube is split by area only: it is small (GLOTIP's 2023 release is 46,301 figures in 2,456
area-years, 208 areas), and a file of some 20 figures per area and year made Spark open thousands
of files for every indicator: the ASEAN table took about three times as long as from one file.

Microdata are split by the **case's** country (what the cube counts them under) and by the
**row's own date**, so each event sits in the year the counting rules count it in; persons have
no date of their own and sit in the year their case was opened. A row whose key is missing (a
person of a case the file does not hold, which validation refuses, so only in hand-made stores)
goes to Hive's ``__HIVE_DEFAULT_PARTITION__``. Partition values live only in the folder names, as
Hive prescribes; a reader that is told the layout (`LakeTable`) gets back exactly the store's
columns and types. ``raw_files`` keeps each file's name, size and hash but not its bytes: the
lake is for computing, the store keeps the files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis.expr.types as ir


@dataclass(frozen=True)
class TableLayout:
    """How one store table is written to the lake.

    Attributes:
        name: The store table (and the lake folder).
        partition_by: The partition keys in folder order (``area``, ``year`` for the cube); empty
            for an unpartitioned table.
        keyed: Builds, from the store's ibis backend, the table's rows with its partition keys as
            columns (``None``: the table as it is). Key columns that are not store columns are
            dropped again by every reader.
        drop: Store columns that are not exported (``raw_files.content``).
    """

    name: str
    partition_by: tuple[str, ...] = ()
    keyed: Callable[[object, ir.Table], ir.Table] | None = None
    drop: tuple[str, ...] = ()


def _year(col: str) -> Callable[[object, ir.Table], ir.Table]:
    """Keys of a table that has a country and a date column of its own."""

    def keyed(backend, t: ir.Table) -> ir.Table:
        return t.mutate(year=t[col].year().cast("int32"))

    return keyed


def _of_case(date_col: str | None) -> Callable[[object, ir.Table], ir.Table]:
    """Keys from the row's case: its country, and the year of ``date_col`` (else of the case's opening)."""

    def keyed(backend, t: ir.Table) -> ir.Table:
        c = backend.table("cases")
        c = c.select(_sid="submission_id", _case="case_ref", _country="country", _opened="opened_on")
        j = t.left_join(c, [t.submission_id == c._sid, t.case_ref == c._case])
        when = j[date_col] if date_col else j._opened
        return j.select(*t.columns, country=j._country.cast("string"), year=when.year().cast("int32"))

    return keyed


def _requesting(backend, t: ir.Table) -> ir.Table:
    return t.mutate(country=t.requesting_country.cast("string"), year=t.sent_on.year().cast("int32"))


_LAYOUTS = (
    TableLayout("submissions"),
    TableLayout("raw_files", drop=("content",)),
    TableLayout("observations", ("area",)),
    TableLayout("cases", ("country", "year"), _year("opened_on")),
    TableLayout("persons", ("country", "year"), _of_case(None)),
    TableLayout("proceedings", ("country", "year"), _of_case("event_date")),
    TableLayout("services", ("country", "year"), _of_case("service_date")),
    TableLayout("cooperation_requests", ("country", "year"), _requesting),
    TableLayout("victim_records"),
    TableLayout("assessments", ("country", "year")),
)

#: Every table of the store, as the lake lays it out, in export order.
LAYOUTS: dict[str, TableLayout] = {t.name: t for t in _LAYOUTS}


def keyed_rows(backend, layout: TableLayout, columns: list[str]) -> ir.Table:
    """The rows to write for one table: its exported columns, then its partition keys.

    Args:
        backend: An ibis backend over the store.
        layout: The table's layout.
        columns: The store's columns of the table, in order.
    """
    t = backend.table(layout.name)
    keep = [c for c in columns if c not in layout.drop]
    t = t.select(*keep)
    if layout.keyed is not None:
        t = layout.keyed(backend, t)
    extra = [k for k in layout.partition_by if k not in keep]
    return t.select(*keep, *(t[k] for k in extra))


__all__ = ["LAYOUTS", "TableLayout", "keyed_rows"]

