"""Reference data files are complete and consistent with each other and with the code."""

from __future__ import annotations

from tipwatch import reference
from tipwatch.indicators import indicators


def test_countries_include_kosovo_and_sark():
    c = reference.countries()
    assert len(c) >= 251
    assert c["XKX"].name == "Kosovo"
    assert c["CRQ"].name == "Sark"
    assert c["THA"].unodc_subregion == "South-eastern Asia"


def test_asean_membership_by_date():
    assert len(reference.members("ASEAN", 2015)) == 10
    assert len(reference.members("ASEAN", 2026)) == 11
    assert len(reference.members("ASEAN", 1990)) == 6
    assert reference.region_id("asean") == "ASEAN"


def test_every_crosswalk_code_is_a_known_code():
    known = set(reference.countries()) | set(reference.codelist("citizenship_special"))
    for name in ("glotip_citizenship", "glotip_area"):
        for label, code in reference.crosswalk(name).items():
            if name == "glotip_area":
                known |= set(reference.regions())
            assert code == "" or code in known, (name, label, code)


def test_every_indicator_has_metadata_and_a_definition():
    meta = reference.indicator_meta()
    assert [m["id"] for m in meta] == list(indicators())
    components = {c["id"] for c in reference.components()}
    assert components == set(range(1, 8))
    for m in meta:
        assert m["component"] in components
        assert m["title"] and m["definition"] and m["counting_rule"] and m["unit"]


def test_code_lists_cover_glotip_labels():
    assert reference.from_glotip_label("sex") == {
        "Total": "total", "Female": "female", "Male": "male", "Other": "other", "Unknown": "unknown"}
    assert reference.from_glotip_label("age")["0 to 17 years"] == "child"
    assert reference.from_glotip_label("form")["Other forms of exploitation"] == "other"
