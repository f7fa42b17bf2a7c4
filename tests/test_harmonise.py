"""Crosswalks map national categories to tipwatch codes: precedence, matching, reports, refusals."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pytest

from tests.conftest import FIXTURES
from tipwatch import harmonise
from tipwatch.cli import main
from tipwatch.errors import InputError
from tipwatch.harmonise import CrosswalkError, Harmoniser, read_crosswalk

NAMES = FIXTURES / "crosswalks"


@pytest.fixture(autouse=True)
def _no_env_folder(monkeypatch):
    """A developer's own $TIPWATCH_CROSSWALKS must not change what these tests see."""
    monkeypatch.delenv(harmonise.CROSSWALKS_ENV, raising=False)


def write(path, rows: list[tuple], header: str = "domain,label,code,basis,note"):
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header + "\n")
        csv.writer(fh, lineterminator="\n").writerows(rows)
    return path


def codes(h: Harmoniser, domain: str, values: list) -> list:
    return h.map(domain, values, field="f")[0].to_pylist()


# --- built-in matching -------------------------------------------------------------------------


def test_iso3_iso2_and_english_names_match_without_a_crosswalk():
    h = Harmoniser()
    assert codes(h, "country", ["THA", "TH", "Thailand", "MMR", "MM", "Myanmar"]) == ["THA"] * 3 + ["MMR"] * 3
    # Namibia's ISO2 code is not a missing value.
    assert codes(h, "country", ["NA", "na", "NAM", "Namibia"]) == ["NAM"] * 4
    # The lower-case special codes and their labels.
    assert codes(h, "country", ["unknown", "Stateless", "STATELESS"]) == ["unknown", "stateless", "stateless"]
    assert codes(h, "sex", ["Female", "MALE", "unknown"]) == ["female", "male", "unknown"]
    assert codes(h, "age_group", ["child", "Adult (18+)", "total"]) == ["child", "adult", None]


def test_case_accents_and_whitespace_are_ignored():
    h = Harmoniser()
    assert codes(h, "country", ["  côte  d'ivoire ", "COTE D’IVOIRE", "Cote d'Ivoire", "  thailand\t"]) == [
        "CIV", "CIV", "CIV", "THA"]
    assert codes(h, "country", ["curacao", "Türkiye", "turkiye", "reunion"]) == ["CUW", "TUR", "TUR", "REU"]


def test_null_and_empty_values_are_null_and_not_reported():
    h = Harmoniser()
    out, rep = h.map("country", ["TH", None, "", "   "], field="citizenship")
    assert out.to_pylist() == ["THA", None, None, None]
    assert (rep.rows, rep.mapped, rep.unmapped) == (4, 1, [])


def test_arrow_arrays_chunked_and_dictionary_columns_map_alike():
    h = Harmoniser()
    plain = pa.array(["TH", "KH", None, "TH"])
    chunked = pa.chunked_array([plain.slice(0, 2), plain.slice(2)])
    for values in (plain, chunked, plain.dictionary_encode(), plain.cast(pa.large_string())):
        out, _ = h.map("country", values, field="c")
        assert out.type == pa.string()
        assert out.to_pylist() == ["THA", "KHM", None, "THA"]


def test_a_million_rows_map_through_their_distinct_values():
    values = pa.array(["TH", "Viet Nam", "Lao", None, "Mianmar (Birmânia)", "xx", "NA", "Tailândia"] * 125_000)
    h = Harmoniser()
    out, rep = h.map("country", values, field="citizenship")
    assert len(out) == 1_000_000 and rep.rows == 1_000_000
    assert rep.mapped == 750_000
    assert rep.unmapped == [{"field": "citizenship", "value": "xx", "rows": 125_000, "suggestions": ["XKX"]}]


def test_an_unknown_domain_is_a_defect_of_the_caller():
    with pytest.raises(ValueError, match="'nationality' is not a harmonisation domain"):
        Harmoniser().map("nationality", ["TH"], field="f")


# --- bundled crosswalks ------------------------------------------------------------------------


def test_portuguese_country_names():
    h = Harmoniser()
    got = codes(h, "country", ["Tailândia", "tailandia", "Camboja", "Vietnã", "Vietname", "Mianmar (Birmânia)",
                               "Birmânia", "Filipinas", "Coreia do Sul", "Costa do Marfim", "Estados Unidos",
                               "Myanmar [Burma]", "Congo [DRC]"])
    assert got == ["THA", "THA", "KHM", "VNM", "VNM", "MMR", "MMR", "PHL", "KOR", "CIV", "USA", "MMR", "COD"]


def test_every_country_name_of_the_2015_tip_report_maps():
    with (NAMES / "tiers_2015.csv").open(encoding="utf-8") as fh:
        names = [r["countryname"] for r in csv.DictReader(fh)]
    assert len(names) == 187
    out, rep = Harmoniser().map("country", names, field="countryname")
    assert rep.unmapped == []
    got = dict(zip(names, out.to_pylist(), strict=True))
    assert got["The Bahamas"] == "BHS" and got["Burma"] == "MMR" and got["Cote d'Ivoire"] == "CIV"
    assert got["Korea, North"] == "PRK" and got["Korea, South"] == "KOR" and got["Austria "] == "AUT"
    assert got["Congo, Democratic Rep. of"] == "COD" and got["Congo, Republic of"] == "COG"
    assert got["Kosovo"] == "XKX" and got["China (PRC)"] == "CHN"
    assert len(set(got.values())) == 187  # no two names of the list fall on one country


def test_every_country_name_and_code_of_the_ctdc_subset_maps_to_its_iso3():
    with (NAMES / "ctdc_country_names.csv").open(encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh, ) if r["name"]]
    assert len(rows) == 102
    h = Harmoniser()
    by_name = h.map("country", [r["name"] for r in rows], field="nacionalidade")[0].to_pylist()
    by_iso2 = h.map("country", [r["iso2"] for r in rows], field="citizenship")[0].to_pylist()
    assert by_name == [r["alpha3"] for r in rows]
    assert by_iso2 == [r["alpha3"] for r in rows]


def test_bundled_crosswalks_are_valid_and_never_disagree():
    bundled = harmonise.bundled()
    ids = {c.id: c for c in bundled}
    assert {"country_names_pt", "country_names_tip", "htcds", "tha_offences"} <= set(ids)
    # The GLOTIP importer's own files keep their layout and are not used by the harmoniser.
    assert ids["glotip_citizenship"].layout == ids["glotip_area"].layout == "glotip"
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for cw in bundled:
        for domain, table in cw.table.items():
            for label, code in table.items():
                other = seen.setdefault((domain, label), (code, cw.id))
                assert other[0] == code, (domain, label, code, cw.id, other)
    # Every row says on what basis it maps.
    assert all(c.basis for c in bundled if c.layout == "crosswalk")


def test_thai_offence_sections_map_to_offence_codes():
    got = codes(Harmoniser(), "offence", [
        "Sec. 6 Anti-Trafficking in Persons Act B.E. 2551", "sec. 6/1 anti-trafficking in persons act b.e. 2551",
        "Sec. 64 Immigration Act B.E. 2522", "Sec. 287/2 Penal Code", "Trafficking in persons"])
    assert got == ["trafficking_in_persons", "forced_labour_offence", "smuggling_of_migrants",
                   "child_sexual_exploitation", "trafficking_in_persons"]


# --- precedence --------------------------------------------------------------------------------


def test_user_files_in_order_then_env_folder_then_bundled_then_builtin(tmp_path, monkeypatch):
    first = write(tmp_path / "first.csv", [("country", "Burma", "THA", "test: first user file", "")])
    second = write(tmp_path / "second.csv", [("country", "Burma", "KHM", "test: second user file", ""),
                                             ("country", "Siam", "THA", "test: second user file", "")])
    env = tmp_path / "env"
    env.mkdir()
    write(env / "mine.csv", [("country", "Siam", "LAO", "test: env folder", ""),
                             ("country", "Kampuchea", "KHM", "test: env folder", ""),
                             ("country", "Birmânia", "VNM", "test: env folder", "")])
    monkeypatch.setenv(harmonise.CROSSWALKS_ENV, str(env))

    h = Harmoniser([first, second])
    assert [c.id for c in h.crosswalks][:3] == ["first", "second", "mine"]
    values = ["Burma", "Siam", "Kampuchea", "Birmânia", "Mianmar", "Myanmar"]
    out, rep = h.map("country", values, field="nationality")
    # Burma: first file beats second and the bundled TIP names; Siam: --crosswalk beats the env
    # folder; Birmânia: the env folder beats the bundled Portuguese names; the rest as bundled/built in.
    assert out.to_pylist() == ["THA", "THA", "KHM", "VNM", "MMR", "MMR"]
    assert rep.touched == {"first": 1, "second": 1, "mine": 2, "country_names_pt": 1, "builtin": 1}
    assert Harmoniser([second, first]).lookup("country", "Burma") == "KHM"


def test_bundled_crosswalks_come_before_the_builtin_matches(tmp_path, monkeypatch):
    folder = tmp_path / "bundled"
    folder.mkdir()
    write(folder / "local.csv", [("country", "Thailand", "KHM", "test: a bundled file overriding a name", "")])
    monkeypatch.setattr(harmonise, "BUNDLED", folder)
    h = Harmoniser()
    assert codes(h, "country", ["Thailand", "TH"]) == ["KHM", "THA"]
    assert h.report()["crosswalks"] == {"local": 1, "builtin": 1}


def test_a_user_file_named_like_a_bundled_one_is_counted_apart(tmp_path):
    mine = write(tmp_path / "htcds.csv", [("sex", "Transgender/NonConforming", "unknown", "test: own policy", "")])
    out, rep = Harmoniser([mine]).map("sex", ["Transgender/NonConforming", "Female"], field="prs_Gender")
    assert out.to_pylist() == ["unknown", "female"]
    assert rep.touched == {"htcds#2": 1, "builtin": 1}


# --- reports -----------------------------------------------------------------------------------


def test_unmapped_values_are_null_and_reported_with_suggestions():
    h = Harmoniser()
    out, rep = h.map("country", ["THAI", "THAI", "Phillipines", "TH", None], field="nationality")
    assert out.to_pylist() == [None, None, None, "THA", None]
    assert (rep.rows, rep.mapped) == (5, 1)
    assert rep.unmapped == [
        {"field": "nationality", "value": "THAI", "rows": 2, "suggestions": ["THA"]},
        {"field": "nationality", "value": "Phillipines", "rows": 1, "suggestions": ["PHL"]},
    ]
    assert h.suggestions("sex", "femal") == ["female"]


def test_the_report_adds_up_every_field_mapped(tmp_path):
    mine = write(tmp_path / "ministry.csv", [("country", "Kampuchea", "KHM", "Ministry of Interior code book", "")])
    h = Harmoniser([mine])
    h.map("country", ["TH", "Kampuchea", "Tailândia", "THAI"], field="citizenship")
    h.map("country", ["Kampuchea", "Burma", "THAI", "THAI"], field="citizenship")
    h.map("sex", ["Female", "Transgender/NonConforming", "X"], field="sex")
    report = h.report()
    assert report == {
        "crosswalks": {"ministry": 2, "country_names_pt": 1, "country_names_tip": 1, "htcds": 1, "builtin": 2},
        "unmapped": [
            {"field": "citizenship", "value": "THAI", "rows": 3, "suggestions": ["THA"]},
            {"field": "sex", "value": "X", "rows": 1, "suggestions": []},
        ],
    }
    json.dumps(report)  # JSON-ready


# --- refusals ----------------------------------------------------------------------------------


def test_bad_rows_are_refused_all_at_once_with_file_line_and_value(tmp_path):
    bad = write(tmp_path / "moi.csv", [
        ("country", "Thai", "THAI", "Ministry code book", ""),
        ("country", "Siam", "THA", "", ""),
        ("sexx", "F", "female", "form 2", ""),
        ("sex", "F", "female", "form 2", ""),
        ("sex", "f", "male", "form 2", ""),
        ("country", "Kampuchea", "", "old name", ""),
    ])
    with pytest.raises(CrosswalkError) as exc:
        Harmoniser([bad])
    assert str(exc.value) == (
        "crosswalk moi.csv cannot be used: 5 problems, the first: line 2: code 'THAI' is not in the country "
        "code list (countries.csv + codelists/citizenship_special.csv); did you mean THA?")
    assert exc.value.details() == [
        "line 2: code 'THAI' is not in the country code list (countries.csv + codelists/citizenship_special.csv); "
        "did you mean THA?",
        "line 3: the basis of 'Siam' → 'THA' is empty; name the law article or the source of the mapping",
        "line 4: domain 'sexx' is not a code list tipwatch maps into; did you mean sex?",
        "line 6: 'f' is mapped to 'male' here and to 'female' on line 5; keep one",
        "line 7: the code is empty",
    ]
    assert isinstance(exc.value, InputError)


def test_a_wrong_header_or_the_glotip_layout_is_refused(tmp_path):
    with pytest.raises(CrosswalkError, match=r"line 1: the header is label,code; expected domain,label,code,basis"):
        read_crosswalk(write(tmp_path / "a.csv", [("Thai", "THA")], header="label,code"))
    with pytest.raises(InputError, match="has the GLOTIP layout"):
        read_crosswalk(write(tmp_path / "b.csv", [("Thai", "THA", "")], header="label,code,note"))
    with pytest.raises(InputError, match="does not exist"):
        Harmoniser([tmp_path / "missing.csv"])


def test_the_env_folder_must_be_a_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(harmonise.CROSSWALKS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="TIPWATCH_CROSSWALKS is set to .*nowhere, which is not a folder"):
        Harmoniser()


# --- the command line --------------------------------------------------------------------------


def test_crosswalks_command_lists_and_checks(tmp_path, capsys):
    assert main(["crosswalks", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["crosswalks"]
    by_id = {c["id"]: c for c in listed}
    assert by_id["htcds"]["domains"] == ["form", "provider", "role", "sex"]
    assert by_id["tha_offences"] == {"id": "tha_offences", "domains": ["offence"], "rows": 13, "origin": "bundled",
                                     "layout": "crosswalk", "file": "reference/data/crosswalks/tha_offences.csv"}
    assert by_id["glotip_citizenship"]["layout"] == "glotip"

    good = write(tmp_path / "good.csv", [("country", "Burma", "THA", "test", ""), ("country", "Kampuchea", "KHM",
                                                                                   "test", "")])
    assert main(["crosswalks", "check", str(good)]) == 0
    text = capsys.readouterr().out
    assert "good.csv: a valid crosswalk, 2 rows mapping into country" in text
    assert "country 'Burma' → THA (instead of MMR)" in text

    bad = write(tmp_path / "bad.csv", [("country", "Siam", "THA", "", "")])
    assert main(["crosswalks", "check", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "crosswalk bad.csv cannot be used: 1 problem, the first: line 2: the basis of 'Siam'" in err
    assert main(["crosswalks", "check", str(bad), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"][0].startswith("line 2: the basis")


def test_glotip_crosswalks_are_still_read_by_the_glotip_importer():
    from tipwatch import reference

    assert reference.crosswalk("glotip_area")["Sark"] == "CRQ"
    assert len(reference.crosswalk("glotip_citizenship")) == 432



def test_crosswalk_option_of_import_reaches_the_importer(tmp_path, capsys, monkeypatch):
    mine = write(tmp_path / "moi_nationalities.csv", [
        ("country", "Khmer", "KHM", "Ministry of Interior nationality list (test)", "a demonym"),
        ("form", "ForcedCriminality", "forced_criminality", "HTCDS issue #28 (Blue Dragon) proposed value", ""),
    ])
    url = str(tmp_path / "t.duckdb")
    assert main(["import", str(FIXTURES / "htcds" / "khm-2021-2022.csv"), "--db", url, "--crosswalk", str(mine),
                 "--json"]) == 0
    h = json.loads(capsys.readouterr().out)["report"]["harmonisation"]
    assert h == {"crosswalks": {"moi_nationalities": 2, "country_names_iso": 1, "htcds": 28, "builtin": 34},
                 "unmapped": []}
    from tipwatch.store import open_store

    with open_store(url) as store:
        p = store.ibis.table("persons")
        assert p.filter(p.person_ref == "V-106").citizenship.execute().tolist() == ["KHM"]

    # The same file from the $TIPWATCH_CROSSWALKS folder, and the plain-text report.
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / mine.name).write_bytes(mine.read_bytes())
    monkeypatch.setenv(harmonise.CROSSWALKS_ENV, str(folder))
    assert main(["validate", str(FIXTURES / "htcds" / "khm-2021-2022.csv")]) == 0
    text = capsys.readouterr().out
    assert "crosswalk moi_nationalities: 2 rows" in text
    assert "not mapped" not in text
