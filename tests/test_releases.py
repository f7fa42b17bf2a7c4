"""Several GLOTIP releases: both kept, the newest current whatever the order, revisions listed."""

from __future__ import annotations

import json

import pytest

from tests import glotip_files
from tipwatch.cli import main
from tipwatch.indicators import compute
from tipwatch.store import open_store


@pytest.fixture
def releases(tmp_path):
    old = glotip_files.release(tmp_path / "glotip-2023.xlsx", "30/05/2023", phl_2019="2,041")
    new = glotip_files.release(tmp_path / "glotip-2024.xlsx", "15/01/2025", phl_2019="1,233", tha_2019="<5")
    return old, new


def phl_2019(url: str) -> float:
    with open_store(url) as store:
        t = compute(store.ibis, region="ASEAN", years=(2019, 2019)).to_pandas()
    row = t[(t.country == "PHL") & (t.indicator == "detected_victims") & (t.sex == "total")
            & (t.age == "total") & (t.form == "total")]
    return float(row.value.iloc[0])


@pytest.mark.parametrize("order", ["old-first", "new-first"])
def test_newest_release_is_current_whatever_the_order(store_url, releases, order):
    old, new = releases
    for path in (releases if order == "old-first" else (new, old)):
        assert main(["import", str(path), "--db", store_url]) == 0
    assert phl_2019(store_url) == 1_233
    with open_store(store_url) as store:
        subs = store.ibis.table("submissions").to_pandas()
        assert len(subs) == 2  # both vintages are kept
        assert store.ibis.table("observations").count().execute() == 8


def test_revisions_lists_figure_old_and_new_value(store_url, releases, capsys):
    old, new = releases
    for path in (new, old):
        main(["import", str(path), "--db", store_url])
    capsys.readouterr()
    assert main(["revisions", "--db", store_url, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    changes = {(r["area"], r["indicator"], r["year"]): r for r in res["revisions"]}
    assert len(changes) == 2
    phl = changes[("PHL", "detected_victims", 2019)]
    assert (phl["old_value"], phl["new_value"], phl["change"]) == (2041, 1233, "revised")
    tha = changes[("THA", "persons_prosecuted", 2019)]
    assert (tha["old_value"], tha["new_status"]) == (554, "below_threshold")
    assert main(["revisions", "--db", store_url]) == 0
    text = capsys.readouterr().out
    assert "2,041" in text and "1,233" in text and "<5" in text


def test_revisions_needs_two_releases(store_url, releases, capsys):
    main(["import", str(releases[0]), "--db", store_url])
    capsys.readouterr()
    assert main(["revisions", "--db", store_url]) == 1
    assert "import another release" in capsys.readouterr().err
