"""Every indicator and every import problem code has a documentation entry."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from tipwatch.indicators import indicators


def test_every_indicator_is_documented():
    text = (ROOT / "docs" / "indicators.md").read_text(encoding="utf-8")
    for ind in indicators():
        assert f"## `{ind}`" in text, ind


def test_every_problem_code_is_documented():
    text = (ROOT / "docs" / "import-problems.md").read_text(encoding="utf-8")
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "src" / "tipwatch" / "ingest").glob("*.py"))
    codes = set(re.findall(r'(?:problem|Problem)\(\s*"([a-z0-9-]+)"', source))
    assert len(codes) >= 12
    for code in codes:
        assert f"`{code}`" in text, code


def test_readme_puts_the_two_commands_first():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = text.split("```sh", 1)[1].split("```", 1)[0]
    assert first_block.strip().splitlines()[0].startswith("make demo")
    assert first_block.strip().splitlines()[1].startswith("make test")
