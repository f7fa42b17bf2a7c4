"""Country profiles and rates for the synthetic generator.

Every number here is documented, with its reasoning, in ``docs/synth.md``. Where
``reference/domain.md`` gives a figure the docs cite it; everything else is **invented** to be
plausible, and says so. None of it describes a real country's performance: the profiles only
make the synthetic countries differ from one another the way real ones do (size, origin or
destination, speed of the courts).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Forms of exploitation drawn for cases, in this order (codes of the ``form`` code list).
FORMS = (
    "sexual_exploitation",
    "forced_labour",
    "forced_criminality",
    "begging",
    "forced_marriage",
    "organ_removal",
    "other",
)
DEFAULT_FORM_WEIGHTS = (0.55, 0.30, 0.03, 0.03, 0.03, 0.005, 0.055)
# Scam compounds: forced criminality grows from this year on, by this factor (domain.md §6.4, §6.7).
SCAM_YEAR = 2021
SCAM_FACTOR = 8.0

# Identification providers (``provider`` code list) and their weights; forced-labour cases
# shift weight to labour inspection.
ID_PROVIDERS = (
    "police", "immigration", "labour_inspection", "prosecutor", "social_services",
    "ngo", "international_organisation", "embassy", "self", "other",
)
ID_WEIGHTS = (0.40, 0.12, 0.05, 0.02, 0.10, 0.15, 0.04, 0.05, 0.05, 0.02)
ID_WEIGHTS_LABOUR = (0.30, 0.12, 0.22, 0.01, 0.07, 0.14, 0.04, 0.05, 0.03, 0.02)
REFERRAL_PROVIDERS = (
    "police", "social_services", "ngo", "immigration", "international_organisation", "embassy", "other",
)
REFERRAL_WEIGHTS = (0.35, 0.25, 0.20, 0.08, 0.05, 0.05, 0.02)

# Cooperation requests (``request_type`` code list): share, days sent→received (uniform range),
# median and spread of days received→executed (log-normal), chance executed / refused / withdrawn
# (the rest is never answered: ``pending``).
REQUEST_TYPES = ("police", "mla", "extradition", "jit")
REQUEST_WEIGHTS = (0.62, 0.22, 0.11, 0.05)
RECEIVE_DAYS = ((0, 5), (7, 60), (7, 60), (1, 20))
EXECUTE_MEDIAN_DAYS = (40.0, 270.0, 420.0, 180.0)
EXECUTE_SIGMA = (0.8, 0.7, 0.6, 0.6)
P_EXECUTED = (0.75, 0.55, 0.40, 0.70)
P_REFUSED = (0.05, 0.12, 0.22, 0.05)
P_WITHDRAWN = (0.03, 0.05, 0.08, 0.05)
REFUSAL_GROUNDS = (
    "Dual criminality not met",
    "Insufficient information in the request",
    "Request would prejudice sovereignty or public order",
    "Person sought is a national of the requested country",
    "No treaty and no assurance of reciprocity",
    "Offence is time-barred in the requested country",
    "Assurance on the death penalty not given",
)


@dataclass(frozen=True)
class Profile:
    """Invented rates that shape one synthetic country (see docs/synth.md for each)."""

    cases_per_year: float
    """Mean cases opened per year at scale 1 (before the year trend)."""
    cross_border: float = 0.45
    """Share of cases across a border (30-60%)."""
    foreign_victims: float = 0.2
    """Share of victims in cross-border cases who are foreign citizens (high in destination countries)."""
    stateless: float = 0.002
    """Share of victims recorded as stateless."""
    case_prosecuted: float = 0.50
    """Chance that a case with suspects goes to prosecution (each suspect then at 85%)."""
    verdict_days: float = 400.0
    """Median days from prosecution to first-instance verdict."""
    outcomes: tuple[float, float, float] = (0.55, 0.20, 0.25)
    """First-instance verdicts: convicted, acquitted, dismissed."""
    requests: float = 0.10
    """Cooperation requests sent per cross-border case (Poisson mean; MLA is a fifth of them)."""
    fine_share: float = 0.30
    """Share of convictions with a fine."""
    usd_rate: float = 1.0
    """Units of national currency per US dollar (rough; money amounts are drawn in US dollars)."""
    offence: str = "National anti-trafficking law"
    """Offence label written in cases.csv (illustrative, no commas)."""
    forms: tuple[float, ...] = DEFAULT_FORM_WEIGHTS
    """Weights of ``FORMS``."""
    partners: dict[str, float] = field(default_factory=dict)
    """Countries of the main trafficking corridors: requests go there, foreign victims come from there."""


MARRIAGE_FORMS = (0.45, 0.30, 0.03, 0.03, 0.13, 0.005, 0.055)

PROFILES: dict[str, Profile] = {
    "IDN": Profile(
        330, cross_border=0.40, foreign_victims=0.10, case_prosecuted=0.55, verdict_days=240,
        outcomes=(0.60, 0.15, 0.25), requests=0.06, fine_share=0.90, usd_rate=14000,
        offence="Law 21/2007 on Eradication of the Crime of Trafficking in Persons Art. 2",
        partners={"MYS": 0.35, "SGP": 0.10, "PHL": 0.05, "TLS": 0.05, "KHM": 0.10, "SAU": 0.10, "ARE": 0.05,
                  "HKG": 0.05, "TWN": 0.05, "CHN": 0.10},
    ),
    "PHL": Profile(
        360, cross_border=0.35, foreign_victims=0.10, case_prosecuted=0.45, verdict_days=1100,
        outcomes=(0.40, 0.10, 0.50), requests=0.02, fine_share=0.80, usd_rate=50,
        offence="RA 9208 as amended by RA 10364 Sec. 4",
        forms=(0.65, 0.25, 0.03, 0.02, 0.01, 0.005, 0.035),
        partners={"MYS": 0.30, "KHM": 0.15, "IDN": 0.05, "MMR": 0.05, "SAU": 0.10, "ARE": 0.05, "KWT": 0.05,
                  "HKG": 0.05, "CHN": 0.10, "JPN": 0.10},
    ),
    "THA": Profile(
        330, cross_border=0.55, foreign_victims=0.75, stateless=0.03, case_prosecuted=0.55, verdict_days=360,
        outcomes=(0.55, 0.20, 0.25), requests=0.12, fine_share=0.50, usd_rate=33,
        offence="Anti-Trafficking in Persons Act B.E. 2551 Sec. 6",
        forms=(0.45, 0.40, 0.03, 0.04, 0.02, 0.005, 0.055),
        partners={"MMR": 0.35, "LAO": 0.25, "KHM": 0.20, "MYS": 0.10, "VNM": 0.05, "CHN": 0.05},
    ),
    "VNM": Profile(
        250, cross_border=0.50, foreign_victims=0.10, case_prosecuted=0.60, verdict_days=180,
        outcomes=(0.60, 0.10, 0.30), requests=0.15, fine_share=0.30, usd_rate=23000,
        offence="Penal Code Art. 150", forms=MARRIAGE_FORMS,
        partners={"KHM": 0.30, "LAO": 0.15, "MYS": 0.05, "THA": 0.05, "CHN": 0.30, "KOR": 0.075, "TWN": 0.075},
    ),
    "MYS": Profile(
        210, cross_border=0.60, foreign_victims=0.85, stateless=0.04, case_prosecuted=0.40, verdict_days=400,
        outcomes=(0.50, 0.25, 0.25), fine_share=0.30, usd_rate=4.2,
        offence="Anti-Trafficking in Persons and Anti-Smuggling of Migrants Act 2007 Sec. 12",
        forms=(0.40, 0.50, 0.03, 0.01, 0.01, 0.005, 0.045),
        partners={"IDN": 0.30, "THA": 0.15, "MMR": 0.10, "VNM": 0.10, "PHL": 0.10, "KHM": 0.05, "BGD": 0.10,
                  "CHN": 0.10},
    ),
    "MMR": Profile(
        185, cross_border=0.55, foreign_victims=0.05, stateless=0.03, case_prosecuted=0.50, verdict_days=300,
        outcomes=(0.55, 0.15, 0.30), usd_rate=1800,
        offence="Anti Trafficking in Persons Law Sec. 24", forms=MARRIAGE_FORMS,
        partners={"THA": 0.40, "LAO": 0.05, "MYS": 0.10, "KHM": 0.05, "CHN": 0.35, "IND": 0.05},
    ),
    "KHM": Profile(
        120, cross_border=0.45, foreign_victims=0.20, case_prosecuted=0.45, verdict_days=300,
        outcomes=(0.50, 0.15, 0.35), usd_rate=4100,
        offence="Law on Suppression of Human Trafficking and Sexual Exploitation Art. 10",
        partners={"THA": 0.35, "VNM": 0.20, "MYS": 0.10, "LAO": 0.05, "IDN": 0.05, "CHN": 0.25},
    ),
    "LAO": Profile(
        50, cross_border=0.60, foreign_victims=0.05, case_prosecuted=0.50, verdict_days=250,
        outcomes=(0.55, 0.15, 0.30), usd_rate=12000,
        offence="Law on Anti-Human Trafficking Art. 9", forms=MARRIAGE_FORMS,
        partners={"THA": 0.60, "VNM": 0.05, "KHM": 0.05, "MMR": 0.05, "CHN": 0.25},
    ),
    "SGP": Profile(
        28, cross_border=0.60, foreign_victims=0.90, case_prosecuted=0.45, verdict_days=450,
        outcomes=(0.60, 0.30, 0.10), usd_rate=1.35,
        offence="Prevention of Human Trafficking Act 2014 s. 3",
        forms=(0.60, 0.35, 0.01, 0.0, 0.0, 0.0, 0.04),
        partners={"MYS": 0.30, "IDN": 0.15, "PHL": 0.15, "THA": 0.10, "VNM": 0.05, "CHN": 0.15, "IND": 0.10},
    ),
    "BRN": Profile(
        7, cross_border=0.60, foreign_victims=0.90, case_prosecuted=0.40, verdict_days=400,
        outcomes=(0.50, 0.30, 0.20), usd_rate=1.35,
        offence="Anti-Trafficking in Persons Order 2019 s. 4",
        forms=(0.45, 0.50, 0.0, 0.0, 0.0, 0.0, 0.05),
        partners={"MYS": 0.30, "IDN": 0.30, "PHL": 0.30, "THA": 0.10},
    ),
    "TLS": Profile(
        9, cross_border=0.40, foreign_victims=0.30, case_prosecuted=0.35, verdict_days=400,
        outcomes=(0.45, 0.25, 0.30), usd_rate=1.0,
        offence="Penal Code Art. 163",
        partners={"IDN": 0.70, "PHL": 0.10, "AUS": 0.10, "CHN": 0.10},
    ),
}


def profile(iso3: str, region_members: list[str]) -> Profile:
    """The profile of ``iso3``; a country without one gets a small default profile.

    Args:
        iso3: The country.
        region_members: All members of the region, used as the default partners.

    Returns:
        The country's profile.
    """
    if iso3 in PROFILES:
        return PROFILES[iso3]
    others = [m for m in region_members if m != iso3]
    return Profile(40, partners={m: 1.0 / len(others) for m in others})


def year_trend(year: int) -> float:
    """Multiplier on the number of cases opened in ``year``: slow growth, a COVID-19 dip.

    Args:
        year: Calendar year.

    Returns:
        The multiplier (1.0 in 2011).
    """
    factor = 1.0 + 0.02 * (year - 2011)
    if year == 2020:
        factor *= 0.75
    elif year == 2021:
        factor *= 0.80
    return max(factor, 0.2)
