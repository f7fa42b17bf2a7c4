"""The query layer of the web application: which figures each person gets.

- The **public** gets the newest publication only (`publish`), released for the public when it
  was published.
- A **national** focal point or approver gets their own country's figures as they stand now,
  released for their national audience, and nothing of another country: not its rows, and not
  the regional aggregates, which other countries' unpublished figures feed.
- The **regional** analyst and the administrator get every member's figures as they stand now,
  released for the regional audience.

The pages and the API both ask here; nothing else reads figures for the web.
"""

from __future__ import annotations

import json

import sqlalchemy as sa

from tipwatch import reference
from tipwatch.errors import NotFound, PermissionDenied
from tipwatch.store import Store
from tipwatch.store.schema import submissions
from tipwatch.web import dashboard
from tipwatch.web.auth import NATIONAL_ROLES, Principal
from tipwatch.web.deps import NotSignedIn, Site


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def publication(store: Store, region: str, years: tuple[int, int]) -> dict:
    """What a publication stores: the public overview and every member's public profile."""
    return dashboard.views(store, "public", region, years)


def _version(store: Store) -> tuple:
    # What the store holds changes only by imports: their number and the newest say if it did.
    with store.engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count(), sa.func.max(submissions.c.imported_at))).first())


def _scope(who: Principal, country: str | None, region: str, year: int) -> str | None:
    if not who.signed_in:
        raise NotSignedIn("Sign in to see figures before they are published.")
    if who.role in NATIONAL_ROLES:
        if country and country.upper() != who.country:
            raise PermissionDenied(f"A national user sees their own country's figures only ({who.country}).")
        return who.country
    if country and country.upper() not in reference.countries():
        raise NotFound(f"{country.upper()} is not a country tipwatch knows.")
    return country.upper() if country else None


def live(site: Site, who: Principal, country: str | None = None) -> dict:
    """The figures as they stand now for ``who`` (see the module's rules).

    Raises:
        NotSignedIn: The public asks.
        PermissionDenied: A national user asks for another country.
    """
    scope = _scope(who, country, site.region, site.years[1])
    key = ("live", _version(site.store), who.audience, scope)
    if key not in site.cache:
        with site.lock:
            # Views of an older state of the store are not asked for again.
            for old in [k for k in site.cache if k[0] == "live" and k[1] != key[1]]:
                site.cache.pop(old, None)
            site.cache[key] = dashboard.payload(site.store, who.audience, site.region, site.years, country=scope)
    return site.cache[key]


def export_rows(site: Site, who: Principal, country: str | None = None) -> dict:
    """The indicator rows for an export: ``{"audience", "protection", "rows"}``."""
    from tipwatch.web import publish

    if not who.signed_in:
        found = publish.latest(site)
        if found is None:
            raise NotFound("Nothing has been published yet.")
        body = found[1]["overview"]
        rows = body["rows"]
        if country:
            rows = [r for r in rows if r.get("country") == country.upper()]
        return {"audience": body["audience"], "protection": body.get("protection"), "rows": rows}
    body = live(site, who, country)
    return {"audience": body["audience"], "protection": body.get("protection"), "rows": body["rows"]}
