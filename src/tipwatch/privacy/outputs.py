"""Releasing a table for an audience: what every output calls, one function per kind of table.

- `release`: the tidy indicator table (report, ``tipwatch indicators``, the dashboard): primary
  suppression, complementary suppression against its breakdowns and regional sums, ratios
  withheld with the counts they rest on, and differential privacy when the audience has it.
  A table without the tidy columns (tier placements, a source's revisions) gets primary
  suppression of its counts only: it has no sums to protect.
- `release_wide`: a table with one count per column (case-record analyses, cross-source
  comparisons), with the sums that hold within a row.
- `release_tabulation`: a count by some dimensions (``tipwatch victims``), protected together
  with its margins, which other tabulations publish.
- `release_json`: a released table as the JSON a dashboard or API serves, with how it was
  protected.

Every released table carries its audience (`RELEASED`) and a summary of its protection
(`PROTECTION`) in ``DataFrame.attrs``; `require_released` refuses any table without them.
"""

from __future__ import annotations

import json
from itertools import combinations

import numpy as np
import pandas as pd

from tipwatch.privacy import complementary, primary, relations
from tipwatch.privacy.audiences import Audience, settings
from tipwatch.privacy.primary import COUNT_UNITS, SUPPRESSED

RELEASED = "tipwatch_released_for"
PROTECTION = "tipwatch_protection"
METHOD = ("primary suppression of counts 1 to k-1; complementary suppression by linear programming "
          "(protection-level model, Fischetti & Salazar-Gonzalez 2000)")
TIDY = ("country", "year", "indicator", "sex", "age", "form", "value", "status", "unit")


def _mark(out: pd.DataFrame, aud: Audience, primary_n: int, complementary_n: int,
          dp: dict | None = None, unprotectable: int = 0) -> pd.DataFrame:
    out.attrs[RELEASED] = aud.name
    out.attrs[PROTECTION] = {
        "audience": aud.name, "k": aud.k, "protection_width": aud.width,
        "complementary": aud.complementary, "method": METHOD,
        "primary_suppressed": int(primary_n), "complementary_suppressed": int(complementary_n),
        "unprotectable": int(unprotectable), "differential_privacy": dp,
    }
    return out


def _countries(table: pd.DataFrame, col: str = "country"):
    return table[col].to_numpy(dtype=object) if col in table else np.full(len(table), None, dtype=object)


def _complementary(s: relations.Structure, sens: np.ndarray, aud: Audience, width: np.ndarray,
                   fixed: np.ndarray | None = None) -> complementary.Result:
    if not aud.complementary:
        return complementary.Result(np.concatenate([sens, s.remainders[len(sens):]]))
    return complementary.protect(s, sens, sens, width, fixed=fixed)


def _ratio_withheld(t: pd.DataFrame, hidden: np.ndarray) -> np.ndarray:
    """Ratio rows resting on a withheld count (``privacy.yaml`` ``ratios``)."""
    keys = ["indicator", "country", "year", "sex", "age", "form"]
    gone = t.loc[hidden, keys].drop_duplicates()
    out = np.zeros(len(t), dtype=bool)
    if gone.empty:
        return out
    regional = t["members"].notna().to_numpy() if "members" in t else np.zeros(len(t), dtype=bool)
    for ratio, spec in (settings().get("ratios") or {}).items():
        rows = np.flatnonzero((t["indicator"] == ratio).to_numpy())
        if not len(rows):
            continue
        r = t.iloc[rows]
        for side in ("numerator", "denominator"):
            want = spec[side]
            q = pd.DataFrame({"indicator": want["indicator"], "country": r["country"].to_numpy(),
                              "year": r["year"].to_numpy()})
            for b in ("sex", "age", "form"):
                v = want.get(b, "total")
                q[b] = r[b].to_numpy() if v == "same" else v
            q["_row"] = rows
            # The row's own count, and for a region any member's count it adds up.
            own = q.merge(gone, on=keys, how="inner")["_row"].to_numpy()
            members = q[regional[rows]].drop(columns="country").merge(
                gone.drop(columns="country"), on=[k for k in keys if k != "country"], how="inner")["_row"].to_numpy()
            out[own] = True
            out[members] = True
    return out


def release(table: pd.DataFrame, aud: Audience) -> pd.DataFrame:
    """The figures of ``table`` that ``aud`` may see.

    Args:
        table: A tidy table with at least ``value``, ``status`` and ``unit`` columns; with the
            columns of `tipwatch.indicators.compute` its sums are protected too.
        aud: The audience (`tipwatch.privacy.audience`).

    Returns:
        A copy, marked as released for ``aud`` (``DataFrame.attrs``): withheld figures have no
        value and the status ``suppressed``; with differential privacy, tipwatch's own counts
        are noisy and their totals still add up.
    """
    out = table.copy()
    if not all(c in out for c in TIDY) or out.empty:
        sens = primary.sensitive(out, aud.k_for(_countries(out))) if len(out) else np.zeros(0, dtype=bool)
        out.loc[sens, "value"] = np.nan
        out.loc[sens, "status"] = SUPPRESSED
        return _mark(out, aud, sens.sum(), 0)
    out = out.reset_index(drop=True)
    budget = None
    if aud.dp:
        from tipwatch.privacy import dp

        out["value"], budget = dp.noisy_tidy(out, relations.tidy(out), aud.epsilon)
    countries = _countries(out)
    sens = primary.sensitive(out, aud.k_for(countries))
    s = relations.tidy(out)
    res = _complementary(s, sens, aud, aud.width_for(countries))
    hidden = res.withheld[: s.cells].copy()
    hidden |= _ratio_withheld(out, hidden)
    hidden &= out["value"].notna().to_numpy() | sens
    out.loc[hidden, "value"] = np.nan
    out.loc[hidden, "status"] = SUPPRESSED
    out.index = table.index if len(table.index) == len(out) else out.index
    return _mark(out, aud, sens.sum(), hidden.sum() - sens.sum(), budget, len(res.unprotectable))


def release_wide(table: pd.DataFrame, aud: Audience, counts: list[str],
                 derived: dict[str, str | tuple[str, ...]] | None = None, *,
                 sums: dict[str, list[str]] | None = None,
                 within: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Release a wide table (one count per column), withholding small counts and what gives them away.

    Args:
        table: A table such as an attrition cohort or a cooperation matrix.
        aud: The audience.
        counts: Columns holding counts of persons, cases or requests.
        derived: Columns computed from a count (a share, a median) → the count(s) they rest on.
            A derived value is withheld with its count: a median of three durations describes
            three people; a share rests on its numerator and its denominator.
        sums: ``total column → part columns`` that add up in every row (``sent = executed +
            refused + pending + withdrawn``): complementary suppression protects them.
        within: ``column → columns`` counting a subset of its persons (``prosecuted_within``
            of ``investigated``).

    Returns:
        A copy with withheld cells set to NaN, marked as released for ``aud``.
    """
    out = table.copy()
    m = len(counts)
    vals = np.column_stack([pd.to_numeric(out[c], errors="coerce").to_numpy(dtype=float) for c in counts]) \
        if m and len(out) else np.zeros((len(out), m))
    k = aud.k_for(_countries(out))
    sens = primary.small(vals.ravel(), np.repeat(k, m))
    if sums or within:
        s = relations.wide(out, counts, sums, within)
        res = _complementary(s, sens, aud, np.repeat(aud.width_for(_countries(out)), m))
        hidden = res.withheld[: s.cells] & ~np.isnan(vals.ravel())
        unprotectable = len(res.unprotectable)
    else:
        hidden, unprotectable = sens, 0
    hidden2 = hidden.reshape(len(out), m) if m else np.zeros((len(out), 0), dtype=bool)
    for j, col in enumerate(counts):
        out[col] = pd.Series(np.where(hidden2[:, j], np.nan, vals[:, j]), index=out.index)
    for col, bases in (derived or {}).items():
        gone = pd.Series(False, index=out.index)
        for base in (bases,) if isinstance(bases, str) else bases:
            gone |= out[base].isna()
        out[col] = pd.to_numeric(out[col], errors="coerce").mask(gone)
    return _mark(out, aud, sens.sum(), hidden.sum() - sens.sum(), unprotectable=unprotectable)


def _subset_status(finest: pd.DataFrame, dims: tuple[str, ...], count: str, aud: Audience,
                   memo: dict, k: float, width: float) -> pd.DataFrame:
    """The canonical release of the tabulation by ``dims``: its cells and which are withheld.

    Each tabulation is protected with every margin it implies fixed as that margin's own
    tabulation released it, so tabulations by different dimensions agree wherever they meet.
    """
    if dims in memo:
        return memo[dims]
    for sub in (c for n in range(len(dims)) for c in combinations(dims, n)):
        _subset_status(finest, sub, count, aud, memo, k, width)
    if dims:
        base = finest.groupby(list(dims), dropna=False, sort=False)[count].sum().reset_index()
    else:
        base = pd.DataFrame({count: [finest[count].sum()]})
    lat = relations.lattice(base, list(dims), count)
    cells = lat.cells
    s = lat.structure
    level = cells["level"].to_numpy()
    top = level == len(dims)
    vals = cells[count].to_numpy(dtype=float)
    sens = primary.small(vals, k)
    withheld = sens.copy()
    lower = ~top
    # Margins keep the status their own tabulation gave them.
    for sub in (c for n in range(len(dims)) for c in combinations(dims, n)):
        done = memo[sub]
        rows = np.flatnonzero(level == len(sub))
        if not len(rows):
            continue
        part = cells.iloc[rows]
        other = [d for d in dims if d not in sub]
        part = part[(part[other] == relations.MARGIN).all(axis=1)] if other else part
        if part.empty:
            continue
        key = list(sub)
        if key:
            left = part[key].astype(object).where(part[key].notna(), "\x00missing")
            right = done[key].astype(object).where(done[key].notna(), "\x00missing")
            flags = left.assign(_i=part.index).merge(right.assign(_w=done["_withheld"].to_numpy()), on=key,
                                                     how="left")
            withheld[flags["_i"].to_numpy()] = flags["_w"].fillna(False).to_numpy(dtype=bool)
        else:
            withheld[part.index.to_numpy()] = bool(done["_withheld"].iloc[0])
    if aud.complementary:
        res = complementary.protect(s, withheld, withheld & sens, width, fixed=lower & ~withheld)
        withheld = res.withheld[: s.cells]
    result = cells.loc[top, list(dims)].reset_index(drop=True)
    result["_withheld"] = withheld[top]
    memo[dims] = result
    return result


def release_tabulation(table: pd.DataFrame, aud: Audience, by: list[str], count: str,
                       derived: dict[str, str] | None = None) -> pd.DataFrame:
    """Release a count by ``by`` (one row per combination present), protected with its margins.

    The margins of a tabulation (the counts by fewer of its dimensions, down to the grand
    total) are published too, by the same command asked differently; and a share reveals the
    grand total. So the tabulation is protected as the whole lattice of its margins, each
    margin released as its own tabulation releases it.

    Args:
        table: The tabulation: ``by`` columns, ``count`` and any derived columns.
        aud: The audience.
        by: Its dimensions (columns).
        count: Its count column.
        derived: Column → the count it rests on; a share also rests on the grand total.

    Returns:
        A copy with withheld counts (and what rests on them) set to NaN, marked as released.
    """
    out = table.copy()
    k, width = float(aud.k), float(aud.width)
    sens = primary.small(out[count], k)
    if not sens.any():
        # Every cell is 0 or at least k, and so is every sum of them: nothing to withhold.
        return _mark(out, aud, 0, 0)
    memo: dict = {}
    dims = tuple(by)
    top = _subset_status(out, dims, count, aud, memo, k, width)
    if dims:
        key = out[list(dims)].astype(object).where(out[list(dims)].notna(), "\x00missing")
        right = top[list(dims)].astype(object).where(top[list(dims)].notna(), "\x00missing")
        flags = key.merge(right.assign(_w=top["_withheld"].to_numpy()), on=list(dims), how="left")["_w"]
        hidden = flags.fillna(True).to_numpy(dtype=bool)
    else:
        hidden = np.full(len(out), bool(top["_withheld"].iloc[0]))
    total_hidden = bool(memo[()]["_withheld"].iloc[0])
    out[count] = pd.to_numeric(out[count], errors="coerce").mask(hidden)
    for col, base in (derived or {}).items():
        out[col] = pd.to_numeric(out[col], errors="coerce").mask(out[base].isna() | total_hidden)
    return _mark(out, aud, sens.sum(), hidden.sum() - sens.sum())


def require_released(table: pd.DataFrame, what: str) -> str:
    """Refuse a table that did not pass the privacy layer; return its audience.

    Raises:
        RuntimeError: ``table`` never passed the privacy layer (a defect, not a user error).
    """
    aud = table.attrs.get(RELEASED)
    if aud is None:
        raise RuntimeError(f"{what} was given figures that did not pass tipwatch.privacy.release")
    return aud


def to_json(table: pd.DataFrame, what: str = "a JSON output") -> dict:
    """A released table as JSON: ``{"audience", "protection", "rows"}`` (withheld values are null)."""
    require_released(table, what)
    rows = json.loads(table.to_json(orient="records", double_precision=10))
    return {"audience": table.attrs[RELEASED], "protection": table.attrs.get(PROTECTION), "rows": rows}


def release_json(table: pd.DataFrame, aud: Audience) -> dict:
    """Release a tidy table for ``aud`` and give it as the JSON a dashboard or API serves.

    Args:
        table: A tidy indicator table (`tipwatch.indicators.compute`).
        aud: The audience.

    Returns:
        ``{"audience": name, "protection": {...}, "rows": [...]}``; the protection summary says
        k, the width, how many figures each rule withheld and the privacy budget if any.
    """
    return to_json(release(table, aud), "release_json")


__all__ = ["COUNT_UNITS", "PROTECTION", "RELEASED", "release", "release_json", "release_tabulation",
           "release_wide", "require_released", "to_json"]
