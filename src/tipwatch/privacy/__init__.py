"""The privacy layer: the one exit for every number tipwatch publishes.

Every output — the report, ``tipwatch indicators`` exports, ``tipwatch victims``, later the
dashboard and API — asks this layer for the figures of its audience; nothing reaches a person
any other way (``tests/test_one_exit.py`` runs every output and proves it). For each audience
(`audiences`, settings in ``reference/data/privacy.yaml``):

1. `primary`: counts from 1 to k−1 are withheld (k = 5, GLOTIP's ``<5``);
2. `complementary`: further figures are withheld so that no withheld count can be worked out
   from the sums that hold among the published ones (`relations`), by linear programming;
3. `attack`: the attacker's linear programme, which the tests run on every published table;
4. `dp`: optional differential privacy (OpenDP) on tipwatch's own counts, budget recorded;
5. `kanon`: k-anonymity for exports of victim records.

The functions outputs call are in `outputs`; see ``docs/privacy.md``.
"""

from __future__ import annotations

from tipwatch.privacy.audiences import DEFAULT_K, Audience, audience, settings
from tipwatch.privacy.outputs import (
    PROTECTION,
    RELEASED,
    release,
    release_json,
    release_tabulation,
    release_wide,
    require_released,
    to_json,
)
from tipwatch.privacy.primary import COUNT_UNITS, SUPPRESSED

__all__ = [
    "COUNT_UNITS", "DEFAULT_K", "PROTECTION", "RELEASED", "SUPPRESSED", "Audience", "audience", "release",
    "release_json", "release_tabulation", "release_wide", "require_released", "settings", "to_json",
]
