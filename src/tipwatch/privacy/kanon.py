"""k-anonymity for exports of victim records (microdata).

A set of records is k-anonymous when every combination of its quasi-identifiers — the
attributes someone could know about a victim from elsewhere: sex, age band, citizenship,
country of exploitation, year — is shared by at least k records (CTDC publishes its global
dataset with k = 11). `check` says which records break it; `anonymise` reaches it by
generalisation and suppression, as CTDC's pipeline and ARX do:

1. *Generalisation* (full-domain, one quasi-identifier at a time): the quasi-identifier whose
   next step (``privacy.yaml``: an age band → child/adult, a country → its UNODC region, a year
   → its five-year span) leaves the fewest records in too-small groups is generalised, while
   that helps and no more than ``max_suppressed`` records would remain to suppress.
2. *Suppression*: the records still in a group smaller than k are left out of the export.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from tipwatch import reference
from tipwatch.privacy.audiences import settings

#: The missing value of a quasi-identifier, as a group of its own.
MISSING = "(missing)"


def _unodc_region(values: pd.Series, records: pd.DataFrame) -> pd.Series:
    regions = {iso3: c.unodc_region for iso3, c in reference.countries().items()}
    return values.map(lambda v: regions.get(v, v) if isinstance(v, str) else v)


def _five_years(values: pd.Series, records: pd.DataFrame) -> pd.Series:
    y = pd.to_numeric(values, errors="coerce")
    lo = (y // 5) * 5
    return pd.Series([f"{int(a)}-{int(a) + 4}" if pd.notna(a) else None for a in lo], index=values.index)


def _age_group(values: pd.Series, records: pd.DataFrame) -> pd.Series:
    return records.get("age_group", values)


#: Generalisation steps by name (``privacy.yaml``): a column's values → coarser ones.
STEPS: dict[str, Callable[[pd.Series, pd.DataFrame], pd.Series]] = {
    "unodc_region": _unodc_region,
    "five_years": _five_years,
    "age_group": _age_group,
}


@dataclass
class Anonymised:
    """A k-anonymous export and what it took.

    Attributes:
        records: The records kept, quasi-identifiers generalised.
        k: The k reached.
        generalised: Quasi-identifier → the steps applied to it, in order.
        suppressed: How many records were left out.
    """

    records: pd.DataFrame
    k: int
    generalised: dict[str, list[str]] = field(default_factory=dict)
    suppressed: int = 0


def defaults() -> tuple[int, list[str]]:
    """k and the quasi-identifiers of ``privacy.yaml``."""
    conf = settings()["k_anonymity"]
    return int(conf["k"]), list(conf["quasi_identifiers"])


def class_sizes(records: pd.DataFrame, qis: list[str]) -> pd.Series:
    """How many records share each record's quasi-identifiers (its equivalence class)."""
    keys = records[qis].astype(object).where(records[qis].notna(), MISSING)
    return keys.groupby(qis, sort=False, dropna=False)[qis[0]].transform("size").astype(int)


def check(records: pd.DataFrame, k: int | None = None, qis: list[str] | None = None) -> pd.DataFrame:
    """The records that break k-anonymity, with the size of their group.

    Args:
        records: The records (at least the quasi-identifier columns).
        k: The k to reach (default: ``privacy.yaml``, 11).
        qis: The quasi-identifiers (default: ``privacy.yaml``).

    Returns:
        The records in a group smaller than k, with a ``group_size`` column, smallest first.
    """
    dk, dq = defaults()
    k, qis = k or dk, qis or dq
    size = class_sizes(records, qis)
    bad = records.assign(group_size=size)[size < k]
    return bad.sort_values(["group_size", *qis], kind="stable")


def anonymise(records: pd.DataFrame, k: int | None = None, qis: list[str] | None = None,
              max_suppressed: float = 0.02) -> Anonymised:
    """Generalise, then suppress, until the records are k-anonymous.

    Args:
        records: The records.
        k: The k to reach (default: ``privacy.yaml``).
        qis: The quasi-identifiers (default: ``privacy.yaml``).
        max_suppressed: Generalise until at most this share of the records would have to be
            left out (or no step helps any more).

    Returns:
        The k-anonymous records and what was done to them.
    """
    dk, dq = defaults()
    k, qis = k or dk, qis or dq
    plan = {q: list(settings()["k_anonymity"].get("generalisation", {}).get(q, [])) for q in qis}
    out = records.copy()
    done: dict[str, list[str]] = {}
    limit = max_suppressed * len(out)
    while True:
        bad = int((class_sizes(out, qis) < k).sum())
        if bad <= limit:
            break
        best = None
        for q in qis:
            if not plan[q]:
                continue
            trial = out.copy()
            trial[q] = STEPS[plan[q][0]](trial[q], trial)
            n = int((class_sizes(trial, qis) < k).sum())
            if best is None or n < best[0]:
                best = (n, q, trial)
        if best is None or best[0] >= bad:
            break
        _, q, out = best
        done.setdefault(q, []).append(plan[q].pop(0))
    keep = class_sizes(out, qis) >= k
    return Anonymised(out[keep].reset_index(drop=True), k, done, int((~keep).sum()))
