"""Synthetic case records for a region, with their ground truth (`tipwatch synth`).

For the demo, tests and benchmarks: a seeded, vectorised generator that writes, for each member
country, a case-file submission in tipwatch's template layout (``reference/data/casefile``), and
``ground_truth.json`` with the counts the counting rules must reproduce. The data are synthetic:
never mix them with real submissions. Rates and their sources: ``docs/synth.md``.

Example:
    >>> from tipwatch.synth import generate, GroundTruth
    >>> folder = generate("ASEAN", (2011, 2025), scale=1.0, seed=1, out="synthetic")  # doctest: +SKIP
    >>> GroundTruth.load(folder).count("THA", 2015, "suspects", "convicted")  # doctest: +SKIP
"""

from __future__ import annotations

from tipwatch.synth.generate import AGENCY, generate, template_fields
from tipwatch.synth.truth import GroundTruth

__all__ = ["AGENCY", "GroundTruth", "generate", "template_fields"]
