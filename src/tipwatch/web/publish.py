"""Publication: what the public sees is fixed when the regional analyst publishes.

Publishing marks every accepted upload as published and stores the dashboard's figures as the
privacy layer released them for the public at that moment, then builds the Progress Report
(HTML and PDF) from the same store in the background. The public pages and API read the newest
publication only, so an upload accepted later stays out of public view until the next one.
"""

from __future__ import annotations

import gzip
import json
import logging
import secrets
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from tipwatch.errors import NotFound, PermissionDenied
from tipwatch.store import open_store
from tipwatch.store.schema import publications, uploads
from tipwatch.web import access, audit
from tipwatch.web.auth import Principal
from tipwatch.web.deps import NotSignedIn, Site

log = logging.getLogger(__name__)

SUMMARY = ("id", "published_at", "published_by", "region", "first_year", "last_year", "report_state")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def publish(site: Site, who: Principal, client: str | None = None, *, build_report: bool = True) -> dict:
    """Publish the accepted figures (regional analyst only); return the publication's summary.

    Raises:
        PermissionDenied: The person is not a regional analyst.
    """
    if not who.signed_in:
        raise NotSignedIn("Sign in as a regional analyst to publish.")
    if who.role != "analyst":
        raise PermissionDenied("Only a regional analyst publishes.")
    # Its own connections, so that the live pages need not wait on the site's lock meanwhile.
    with open_store(site.store.url) as store:
        body = access.publication(store, site.region, site.years)
    pid = secrets.token_hex(8)
    now = _now()
    with site.store.engine.begin() as conn:
        res = conn.execute(uploads.update().where(uploads.c.state == "accepted")
                           .values(state="published", updated_at=now, note=f"publication {pid}"))
        conn.execute(publications.insert().values(
            id=pid, published_at=now, published_by=who.username, region=site.region, first_year=site.years[0],
            last_year=site.years[1], payload=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
            report_state="building" if build_report else "none", report_html=None, report_pdf=None))
        audit.record(conn, who, "publish", pid, {"uploads_published": res.rowcount}, client)
    if build_report:
        threading.Thread(target=_build_report, args=(site, pid), name=f"tipwatch-report-{pid}", daemon=True).start()
    return summary(site.store.engine, pid)


def _build_report(site: Site, pid: str) -> None:
    from tipwatch.report.build import write_report

    values: dict = {}
    try:
        # Its own connections (on DuckDB, to the same database in this process): the report's 10–15 s
        # must not hold the site's lock, which the live pages wait on.
        with open_store(site.store.url) as store, tempfile.TemporaryDirectory(prefix="tipwatch-publication-") as tmp:
            paths = write_report(store, site.region, site.years, Path(tmp), audience="public")
            values = {"report_state": "ready", "report_html": paths["html"].read_bytes(),
                      "report_pdf": paths["pdf"].read_bytes()}
    except Exception:  # the publication stands; its report says it failed, the log says why
        log.exception("The report of publication %s could not be built", pid)
        values = {"report_state": "failed"}
    with site.store.engine.begin() as conn:
        conn.execute(publications.update().where(publications.c.id == pid).values(**values))


def summary(engine: sa.Engine, pid: str) -> dict:
    with engine.connect() as conn:
        row = conn.execute(sa.select(*(publications.c[c] for c in SUMMARY)).where(publications.c.id == pid)).first()
    if row is None:
        raise NotFound(f"There is no publication {pid}.")
    return dict(row._mapping)


def history(engine: sa.Engine) -> list[dict]:
    """Every publication, newest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(*(publications.c[c] for c in SUMMARY))
                            .order_by(publications.c.published_at.desc(), publications.c.id.desc()))
        return [dict(r._mapping) for r in rows]


def latest_id(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(publications.c.id)
                            .order_by(publications.c.published_at.desc(), publications.c.id.desc()).limit(1)).scalar()


def latest(site: Site) -> tuple[str, dict] | None:
    """The newest publication's id and body (read once per process, then from memory)."""
    pid = latest_id(site.store.engine)
    if pid is None:
        return None
    key = ("publication", pid)
    if key not in site.cache:
        with site.store.engine.connect() as conn:
            text = conn.execute(sa.select(publications.c.payload).where(publications.c.id == pid)).scalar()
        raw = text.encode()
        # Compressed once here (1.9 MB → about 120 kB for the demo), not on every request.
        site.cache[key] = (json.loads(text), raw, gzip.compress(raw, compresslevel=6, mtime=0))
    return pid, site.cache[key][0]


def latest_json(site: Site, compressed: bool = False) -> bytes | None:
    """The newest publication's body as the JSON bytes it was stored as (the public API's answer), or
    those bytes gzip-compressed."""
    found = latest(site)
    return None if found is None else site.cache[("publication", found[0])][2 if compressed else 1]


def report_file(engine: sa.Engine, kind: str) -> tuple[str, bytes]:
    """The newest publication's report (``html`` or ``pdf``) that is ready.

    Raises:
        NotFound: Nothing is published yet, or its report is still being built.
    """
    col = publications.c.report_pdf if kind == "pdf" else publications.c.report_html
    with engine.connect() as conn:
        row = conn.execute(sa.select(publications.c.id, publications.c.report_state, col)
                           .order_by(publications.c.published_at.desc(), publications.c.id.desc()).limit(1)).first()
    if row is None:
        raise NotFound("Nothing has been published yet.")
    if row.report_state != "ready":
        raise NotFound(f"The report of the newest publication is {row.report_state}: try again in a minute."
                       if row.report_state == "building" else "The newest publication has no report.")
    return row.id, bytes(row[2])
