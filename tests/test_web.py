"""The web application (`tipwatch.web`) over HTTP, on DuckDB and on PostgreSQL.

`EXPECTED` below is the access specification: every route of the application, every role, the
status that role gets. Then the submission workflow over the API (the validation report, the
steps and their order, acceptance into the store), a restatement, what the public and national
users see before and after a publication, CSRF and API tokens, passwords, the audit log, bad
files, and `tipwatch users`.

One application per engine for the module (`world`): its fixture signs everyone in and runs the
workflow once, keeping every answer, so that a test reads what happened at its step whatever ran
before it on that application; tests that ask the application again ask only what no other test
changes. The Progress Report a publication builds in the background is replaced by a stand-in
(`quick_report`): building it is the report's tests' business, and it would hold the
application's lock for the rest of the module.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import random
import re
import secrets
import threading
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa

from tests.conftest import ENGINES, GLOTIP_2023
from tests.web_support import PASSWORD, PEOPLE, ROLES, example_files, make_app
from tipwatch import privacy
from tipwatch.cli import main
from tipwatch.indicators import compute
from tipwatch.store.schema import audit_log, publications, raw_files, uploads, users
from tipwatch.web import access, audit, auth, publish, workflow
from tipwatch.web.auth import Principal

with warnings.catch_warnings():
    # Starlette would rather the test client ran on httpx2; httpx is what the project installs.
    warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*")
    from fastapi.testclient import TestClient

# --- The access specification -------------------------------------------------------------------
#
# Every route the application declares ("METHOD path" as FastAPI has it, "MOUNT path" for static
# files), and the status each role gets. A route that takes several kinds of request (the pages'
# workflow step) has one entry per kind: a word after the path. Upload ids are of an upload of
# THA, in the state the step needs (`REQUESTS`), so a focal point or approver of MYS does not
# learn it exists (404) where THA's gets 200. Roles: the public (not signed in), then the people of
# `tests/web_support.PEOPLE`. Not signed in: 401 from the API, a redirect (303) to /login from a
# page; a role that may not: 403. (A step the upload is not in the state for, 409, is the workflow
# tests' below.)
ORDER = ("public", "fp_tha", "ap_tha", "fp_mys", "ap_mys", "analyst", "admin")
ALL_200 = (200,) * 7
_TABLE = {
    #                                                 public fp_tha ap_tha fp_mys ap_mys analyst admin
    "GET /api/v1/openapi.json":                       ALL_200,
    "GET /api/v1/docs":                               ALL_200,
    "MOUNT /static/js":                               ALL_200,
    "MOUNT /static/web":                              ALL_200,
    "GET /api/v1/me":                                 ALL_200,
    "GET /api/v1/dashboard":                          ALL_200,
    "GET /api/v1/dashboard/{country}":                ALL_200,
    "GET /api/v1/live":                               (401, 200, 200, 200, 200, 200, 200),
    "GET /api/v1/indicators":                         ALL_200,
    "GET /api/v1/uploads":                            (401, 200, 200, 200, 200, 200, 200),
    "POST /api/v1/uploads":                           (401, 201, 403, 201, 403, 403, 403),
    "GET /api/v1/uploads/{upload_id}":                (401, 200, 200, 404, 404, 200, 200),
    "GET /api/v1/uploads/{upload_id}/file":           (401, 200, 200, 404, 404, 200, 200),
    "POST /api/v1/uploads/{upload_id}/submit":        (401, 200, 403, 404, 403, 403, 403),
    "POST /api/v1/uploads/{upload_id}/approve":       (401, 403, 200, 403, 404, 403, 403),
    "POST /api/v1/uploads/{upload_id}/return":        (401, 403, 200, 403, 404, 200, 403),
    "POST /api/v1/uploads/{upload_id}/accept":        (401, 403, 403, 403, 403, 200, 403),
    "GET /api/v1/publications":                       ALL_200,
    "POST /api/v1/publications":                      (401, 403, 403, 403, 403, 201, 403),
    "GET /api/v1/report.{kind}":                      ALL_200,
    "GET /api/v1/audit":                              (401, 403, 403, 403, 403, 403, 200),
    "GET /api/v1/audit.csv":                          (401, 403, 403, 403, 403, 403, 200),
    "GET /api/v1/users":                              (401, 403, 403, 403, 403, 403, 200),
    "POST /api/v1/users":                             (401, 403, 403, 403, 403, 403, 201),
    "POST /api/v1/tokens":                            (401, 201, 201, 201, 201, 201, 201),
    "GET /":                                          ALL_200,
    "GET /countries/{country}":                       ALL_200,
    "GET /live":                                      (303, 200, 200, 200, 200, 200, 200),
    "GET /report":                                    ALL_200,
    "GET /login":                                     ALL_200,
    # Each person signs in with their own password; the public, with a wrong one.
    "POST /login":                                    (401, 303, 303, 303, 303, 303, 303),
    "POST /logout":                                   (303,) * 7,
    "GET /uploads":                                   (303, 200, 200, 200, 200, 200, 200),
    "POST /uploads":                                  (303, 303, 403, 303, 403, 403, 403),
    "GET /uploads/{upload_id}":                       (303, 200, 200, 404, 404, 200, 200),
    "POST /uploads/{upload_id}/{step} submit":        (303, 303, 403, 404, 403, 403, 403),
    "POST /uploads/{upload_id}/{step} approve":       (303, 403, 303, 403, 404, 403, 403),
    "POST /uploads/{upload_id}/{step} return":        (303, 403, 303, 403, 404, 303, 403),
    "POST /uploads/{upload_id}/{step} accept":        (303, 403, 403, 403, 403, 303, 403),
    # A step there is none of: no such page, signed in or not.
    "POST /uploads/{upload_id}/{step} unknown":       (404,) * 7,
    "POST /publish":                                  (303, 403, 403, 403, 403, 303, 403),
    "GET /admin/audit":                               (303, 403, 403, 403, 403, 403, 200),
    "GET /admin/users":                               (303, 403, 403, 403, 403, 403, 200),
    "GET /account":                                   (303, 200, 200, 200, 200, 200, 200),
    # The right current password and two new ones that differ: asked, refused, nothing changed.
    "POST /account/password":                         (303, 400, 400, 400, 400, 400, 400),
    "GET /favicon.ico":                               (204,) * 7,
}
#: route → role → status.
EXPECTED: dict[str, dict[str, int]] = {route: dict(zip(ORDER, codes, strict=True)) for route, codes in _TABLE.items()}

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass(frozen=True)
class Request:
    """How the matrix asks for one entry of `EXPECTED`."""

    method: str
    path: str                    # ``{id}``: an upload of THA in ``state`` (or the first accepted one)
    state: str | None = None     # valid, submitted or approved: a fresh upload in that state when needed
    page: bool = False           # a browser asking for a page (Accept: text/html)
    upload: bool = False         # sends THA's corrected workbook
    json: dict | None = None
    data: dict | None = None


REQUESTS = {
    "GET /api/v1/openapi.json": Request("GET", "/api/v1/openapi.json"),
    "GET /api/v1/docs": Request("GET", "/api/v1/docs"),
    "MOUNT /static/js": Request("GET", "/static/js/report.js"),
    "MOUNT /static/web": Request("GET", "/static/web/web.css"),
    "GET /api/v1/me": Request("GET", "/api/v1/me"),
    "GET /api/v1/dashboard": Request("GET", "/api/v1/dashboard"),
    "GET /api/v1/dashboard/{country}": Request("GET", "/api/v1/dashboard/THA"),
    "GET /api/v1/live": Request("GET", "/api/v1/live"),
    "GET /api/v1/indicators": Request("GET", "/api/v1/indicators"),
    "GET /api/v1/uploads": Request("GET", "/api/v1/uploads"),
    "POST /api/v1/uploads": Request("POST", "/api/v1/uploads", upload=True),
    "GET /api/v1/uploads/{upload_id}": Request("GET", "/api/v1/uploads/{id}"),
    "GET /api/v1/uploads/{upload_id}/file": Request("GET", "/api/v1/uploads/{id}/file"),
    "POST /api/v1/uploads/{upload_id}/submit": Request("POST", "/api/v1/uploads/{id}/submit", "valid"),
    "POST /api/v1/uploads/{upload_id}/approve": Request("POST", "/api/v1/uploads/{id}/approve", "submitted"),
    "POST /api/v1/uploads/{upload_id}/return": Request("POST", "/api/v1/uploads/{id}/return", "submitted",
                                                       json={"note": "Line 7: the date is a typo."}),
    "POST /api/v1/uploads/{upload_id}/accept": Request("POST", "/api/v1/uploads/{id}/accept", "approved"),
    "GET /api/v1/publications": Request("GET", "/api/v1/publications"),
    "POST /api/v1/publications": Request("POST", "/api/v1/publications"),
    "GET /api/v1/report.{kind}": Request("GET", "/api/v1/report.html"),
    "GET /api/v1/audit": Request("GET", "/api/v1/audit"),
    "GET /api/v1/audit.csv": Request("GET", "/api/v1/audit.csv"),
    "GET /api/v1/users": Request("GET", "/api/v1/users"),
    "POST /api/v1/users": Request("POST", "/api/v1/users", json={"role": "analyst"}),  # + a new name
    "POST /api/v1/tokens": Request("POST", "/api/v1/tokens", json={"name": "matrix"}),
    "GET /": Request("GET", "/", page=True),
    "GET /countries/{country}": Request("GET", "/countries/THA", page=True),
    "GET /live": Request("GET", "/live", page=True),
    "GET /report": Request("GET", "/report", page=True),
    "GET /login": Request("GET", "/login", page=True),
    "GET /account": Request("GET", "/account", page=True),
    "POST /account/password": Request("POST", "/account/password", page=True,
                                      data={"current_password": PASSWORD, "new_password": "a new one, twelve",
                                            "new_password_again": "another one, twelve"}),
    "POST /login": Request("POST", "/login", page=True),
    "POST /logout": Request("POST", "/logout", page=True),
    "GET /uploads": Request("GET", "/uploads", page=True),
    "POST /uploads": Request("POST", "/uploads", page=True, upload=True),
    "GET /uploads/{upload_id}": Request("GET", "/uploads/{id}", page=True),
    "POST /uploads/{upload_id}/{step} submit": Request("POST", "/uploads/{id}/submit", "valid", page=True),
    "POST /uploads/{upload_id}/{step} approve": Request("POST", "/uploads/{id}/approve", "submitted", page=True),
    "POST /uploads/{upload_id}/{step} return": Request("POST", "/uploads/{id}/return", "submitted", page=True,
                                                       data={"note": "Line 7: the date is a typo."}),
    "POST /uploads/{upload_id}/{step} accept": Request("POST", "/uploads/{id}/accept", "approved", page=True),
    "POST /uploads/{upload_id}/{step} unknown": Request("POST", "/uploads/{id}/delete", page=True),
    "POST /publish": Request("POST", "/publish", page=True),
    "GET /admin/audit": Request("GET", "/admin/audit", page=True),
    "GET /admin/users": Request("GET", "/admin/users", page=True),
    "GET /favicon.ico": Request("GET", "/favicon.ico"),
}

PRINCIPALS = {name: Principal(name, role, country) for name, (role, country) in PEOPLE.items()}
_names = itertools.count()


# --- Helpers -------------------------------------------------------------------------------------


def client(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


class Browser:
    """Someone in a browser: the public, or a person signed in (session cookie and CSRF token)."""

    def __init__(self, app, username: str | None = None, password: str = PASSWORD, form: bool = True) -> None:
        """Sign in through the login form, or (``form=False``, without the password hash's cost) open
        the session the form would."""
        self.app = app
        self.username = username
        self.http = client(app)
        self.csrf = None
        if username is not None:
            if form:
                r = self.http.post("/login", data={"username": username, "password": password})
                assert r.status_code == 303, r.text
            else:
                self.http.cookies.set("tipwatch_session", auth.start_session(app.state.site.store.engine, username)[0])
            assert self.http.cookies.get("tipwatch_session")
            self.csrf = csrf_of(self.http.get("/report", headers=HTML))

    def headers(self, page: bool = False, csrf: bool = True) -> dict:
        h = dict(HTML) if page else {}
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        return h

    def get(self, path: str, page: bool = False, **kw):
        return self.http.get(path, headers=self.headers(page), **kw)

    def post(self, path: str, page: bool = False, csrf: bool = True, **kw):
        return self.http.post(path, headers={**self.headers(page, csrf), **kw.pop("headers", {})}, **kw)

    def upload(self, name: str, content: bytes, **kw):
        return self.post("/api/v1/uploads", files={"file": (name, content, XLSX)}, **kw)


def csrf_of(page) -> str:
    assert page.status_code == 200, page.text
    found = CSRF_RE.search(page.text)
    assert found and found.group(1), "the page has no CSRF token"
    return found.group(1)


def quick_report(site, pid: str) -> None:
    """Stands in for the Progress Report's build (`publish._build_report`): a report, at once."""
    with site.store.engine.begin() as conn:
        conn.execute(publications.update().where(publications.c.id == pid).values(
            report_state="ready", report_html=f"<html>report {pid}</html>".encode(),
            report_pdf=f"%PDF-1.7 report {pid}".encode()))


def reports_built(before: set[threading.Thread]) -> None:
    """Wait for the report builds started since ``before`` (the stand-in's: an instant)."""
    for t in set(threading.enumerate()) - before:
        if t.name.startswith("tipwatch-report-"):
            t.join(30)
            assert not t.is_alive()


def count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()


def upload_state(engine, upload_id: str) -> str:
    with engine.connect() as conn:
        return conn.execute(sa.select(uploads.c.state).where(uploads.c.id == upload_id)).scalar()


def tha_figures(site) -> dict:
    """THA's headline figures by (indicator, year), from the indicator table (as tests/test_casefile_import.py)."""
    with site.lock:
        t = compute(site.store.ibis, region="ASEAN", years=(2019, 2021),
                    only=["persons_prosecuted", "persons_convicted"]).to_pandas()
    t = t[(t.country == "THA") & (t.sex == "total") & (t.age == "total") & (t.form == "total")]
    return {(r.indicator, int(r.year)): (None if r.value != r.value else r.value) for r in t.itertuples()}


def total_row(rows: list[dict], country: str, year: int, indicator: str) -> dict:
    found = [r for r in rows if r["country"] == country and r["year"] == year and r["indicator"] == indicator
             and r["sex"] == r["age"] == r["form"] == "total"]
    assert len(found) == 1, found
    return found[0]


def restated_workbook(good: Path, out: Path) -> Path:
    """THA's worked example with one more person prosecuted: P-0005 (investigated 2020-06-03) is
    prosecuted on 2020-09-01, so THA's persons prosecuted in 2020 go from 0 to 1."""
    wb = openpyxl.load_workbook(good)
    wb["proceedings"].append(["P-0005", "TH-2020-014", "prosecution_initiated", "2020-09-01"])
    wb.save(out)
    return out


def routes_of(app) -> set[str]:
    """Every route the application declares, as "METHOD path" (HEAD aside) or "MOUNT path"."""
    import fastapi.routing

    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    found = set()
    for route in (contexts(app.routes) if contexts else app.routes):
        methods = getattr(route, "methods", None)
        if methods:
            found |= {f"{m} {route.path}" for m in methods if m != "HEAD"}
        else:
            found.add(f"MOUNT {route.path}")
    assert len(found) >= 40, found  # the included routers were seen through
    return found


# --- One application per engine, and the workflow run once on it -------------------------------------


@dataclass
class World:
    engine: str
    app: object
    folder: Path
    good: bytes
    bad: bytes
    restated: bytes
    people: dict[str, Browser]
    public: Browser
    #: What the workflow's steps answered, by name (responses, or what was read at that moment).
    at: dict = field(default_factory=dict)

    @property
    def site(self):
        return self.app.state.site

    @property
    def db(self):
        return self.site.store.engine

    def new_upload(self, state: str) -> str:
        """A new upload of THA's corrected file, taken to ``state`` (valid, submitted or approved) by the
        workflow's own steps. It starts as a copy of the workflow's first valid upload, the same file and
        report (validating the file again would take a second for each)."""
        site = self.site
        uid = secrets.token_hex(8)
        with self.db.begin() as conn:
            first = conn.execute(sa.select(uploads).where(uploads.c.id == self.at["ids"]["good"])).one()._asdict()
            now = datetime.now(UTC).replace(tzinfo=None)
            conn.execute(uploads.insert().values({**first, "id": uid, "state": "valid", "uploaded_at": now,
                                                  "updated_at": now, "submission_id": None, "note": None,
                                                  "restates": first["id"]}))
        if state in ("submitted", "approved"):
            workflow.submit(site.store, PRINCIPALS["fp_tha"], uid)
        if state == "approved":
            workflow.approve(site.store, PRINCIPALS["ap_tha"], uid)
        assert upload_state(self.db, uid) == state
        return uid


def _new_url(engine: str, request, tmp_path_factory) -> str:
    if engine == "duckdb":
        return str(tmp_path_factory.mktemp("web") / "tipwatch.duckdb")
    return request.getfixturevalue("pg_cluster").create_database(f"tipwatch_web_{next(_names)}")


@pytest.fixture(scope="module", params=ENGINES)
def world(request, tmp_path_factory) -> World:
    folder = tmp_path_factory.mktemp("web-files")
    app = make_app(_new_url(request.param, request, tmp_path_factory), GLOTIP_2023)
    bad, good = example_files(folder)
    restated = restated_workbook(good, folder / "tha-2019-2021-restated.xlsx")
    people = {name: Browser(app, name, form=name == "fp_tha") for name in PEOPLE}
    w = World(request.param, app, folder, good.read_bytes(), bad.read_bytes(), restated.read_bytes(), people,
              Browser(app))
    fp, ap, fp_mys, ap_mys, analyst = (people[n] for n in ("fp_tha", "ap_tha", "fp_mys", "ap_mys", "analyst"))
    at = w.at
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(publish, "_build_report", quick_report)
        # Before anything is published, the public has nothing.
        at["public_indicators_before"] = w.public.get("/api/v1/indicators")
        at["public_dashboard_before"] = w.public.get("/api/v1/dashboard")
        # A file with two errors, then the corrected file.
        at["bad"] = fp.upload("tha-2019-2021-draft.xlsx", w.bad)
        at["good"] = fp.upload("tha-2019-2021.xlsx", w.good)
        bad_id, good_id = at["bad"].json()["id"], at["good"].json()["id"]
        at["bad_later"] = fp.get(f"/api/v1/uploads/{bad_id}")
        # Steps out of order, then in order; the approver of another country.
        at["approve_valid"] = ap.post(f"/api/v1/uploads/{good_id}/approve")
        at["accept_valid"] = analyst.post(f"/api/v1/uploads/{good_id}/accept")
        at["submit_superseded"] = fp.post(f"/api/v1/uploads/{bad_id}/submit")
        at["submit"] = fp.post(f"/api/v1/uploads/{good_id}/submit")
        at["submit_again"] = fp.post(f"/api/v1/uploads/{good_id}/submit")
        at["accept_submitted"] = analyst.post(f"/api/v1/uploads/{good_id}/accept")
        at["approve_mys"] = ap_mys.post(f"/api/v1/uploads/{good_id}/approve")
        at["approve"] = ap.post(f"/api/v1/uploads/{good_id}/approve")
        at["accept"] = analyst.post(f"/api/v1/uploads/{good_id}/accept")
        at["accept_again"] = analyst.post(f"/api/v1/uploads/{good_id}/accept")
        at["figures_accepted"] = tha_figures(w.site)
        # THA's file uploaded by MYS's focal point.
        at["wrong_country"] = fp_mys.upload("tha-2019-2021.xlsx", w.good)
        # A restatement of the accepted figures, validated before the publication.
        at["restated"] = fp.upload("tha-2019-2021-restated.xlsx", w.restated)
        restated_id = at["restated"].json()["id"]
        # The publication.
        threads = set(threading.enumerate())
        at["publication"] = analyst.post("/api/v1/publications")
        reports_built(threads)
        at["public_indicators"] = w.public.get("/api/v1/indicators")
        at["public_dashboard"] = w.public.get("/api/v1/dashboard")
        # The restatement accepted after the publication.
        at["restated_steps"] = [fp.post(f"/api/v1/uploads/{restated_id}/submit"),
                                ap.post(f"/api/v1/uploads/{restated_id}/approve"),
                                analyst.post(f"/api/v1/uploads/{restated_id}/accept")]
        at["figures_restated"] = tha_figures(w.site)
        at["public_dashboard_later"] = w.public.get("/api/v1/dashboard")
        at["public_country_later"] = w.public.get("/api/v1/dashboard/THA")
        at["analyst_live_later"] = analyst.get("/api/v1/live")
        # The next publication carries it.
        at["publication_next"] = publish.publish(w.site, PRINCIPALS["analyst"])
        reports_built(threads)
        at["public_dashboard_next"] = w.public.get("/api/v1/dashboard")
        at["first_upload_later"] = ap.get(f"/api/v1/uploads/{good_id}")
        at["first_file_later"] = ap.get(f"/api/v1/uploads/{good_id}/file")
        at["ids"] = {"bad": bad_id, "good": good_id, "restated": restated_id}
    yield w
    w.site.store.close()


# --- Who may do what ---------------------------------------------------------------------------------


def test_the_access_table_names_every_route(world):
    declared = routes_of(world.app)
    specified = {key.split(" ")[0] + " " + key.split(" ")[1] for key in EXPECTED}
    assert declared - specified == set(), "routes without an entry in EXPECTED"
    assert specified - declared == set(), "entries in EXPECTED for routes the application lacks"
    assert set(REQUESTS) == set(EXPECTED)
    assert ORDER == ROLES


def _ask(world: World, key: str, role: str, ids: dict[str, str]):
    req = REQUESTS[key]
    who = world.public if role == "public" else world.people[role]
    path = req.path
    if "{id}" in path:
        if req.state is None:
            upload_id = world.at["ids"]["good"]
        else:
            if ids.get(key) is None or upload_state(world.db, ids[key]) != req.state:
                ids[key] = world.new_upload(req.state)
            upload_id = ids[key]
        path = path.replace("{id}", upload_id)
    kw: dict = {}
    if req.json is not None:
        kw["json"] = dict(req.json)
        if key == "POST /api/v1/users":
            kw["json"].update(username=f"new_{role}_{next(_names)}", password=PASSWORD)
    if req.data is not None:
        kw["data"] = req.data
    if req.upload:
        kw["files"] = {"file": ("tha-2019-2021.xlsx", world.good, XLSX)}
    if key == "POST /login":
        fresh = client(world.app)
        name = "fp_tha" if role == "public" else role
        password = "not the password" if role == "public" else PASSWORD
        return fresh.post("/login", data={"username": name, "password": password}, headers=HTML)
    if key == "POST /logout" and role != "public":
        who = Browser(world.app, role, form=False)  # a session of its own: the matrix's stays signed in
    if req.method == "GET":
        return who.get(path, page=req.page)
    return who.post(path, page=req.page, **kw)


def test_every_role_gets_the_expected_status_on_every_route(world, monkeypatch):
    monkeypatch.setattr(publish, "_build_report", quick_report)
    # Who may publish is asked here; what a publication holds, in the workflow's tests: the analyst's
    # publications republish the newest one's figures rather than work them out again.
    newest = publish.latest(world.site)[1]
    monkeypatch.setattr(access, "publication", lambda store, region, years: newest)
    ids: dict[str, str] = {}
    wrong = []
    # Acceptances last: each one imports into the store, after which the live figures are worked out anew.
    for key in sorted(EXPECTED, key=lambda k: REQUESTS[k].state == "approved"):
        for role in ORDER:
            threads = set(threading.enumerate())
            r = _ask(world, key, role, ids)
            reports_built(threads)
            if r.status_code != EXPECTED[key][role]:
                wrong.append(f"{key} as {role}: {r.status_code}, expected {EXPECTED[key][role]}: {r.text[:200]}")
            elif r.status_code == 303 and role == "public" and key not in ("POST /logout",):
                assert r.headers["location"].startswith("/login"), (key, r.headers["location"])
            elif r.status_code >= 400 and not REQUESTS[key].page:
                assert r.headers["content-type"].startswith("application/json"), (key, role)
                assert r.json()["detail"], (key, role)
    assert not wrong, "\n".join(wrong)


def test_me_says_who_is_asking(world):
    for name, (role, country) in PEOPLE.items():
        me = world.people[name].get("/api/v1/me").json()
        assert (me["username"], me["role"], me["country"]) == (name, role, country)
    assert world.public.get("/api/v1/me").json()["role"] == "public"


# --- The workflow over the API ---------------------------------------------------------------------------


def test_a_file_with_errors_is_kept_invalid_with_each_problem_and_its_line(world):
    r = world.at["bad"]
    assert r.status_code == 201
    up = r.json()
    assert (up["state"], up["problems"], up["country"]) == ("invalid", 2, "THA")
    problems = up["report"]["problems"]
    assert up["report"]["problem_count"] == len(problems) == 2
    by_line = {p["line"]: p for p in problems}
    assert set(by_line) == {3, 4}
    assert (by_line[3]["field"], by_line[3]["found"]) == ("sex", "X")
    assert (by_line[4]["field"], by_line[4]["found"]) == ("citizenship", "THAI")
    assert "did you mean THA?" in by_line[4]["message"]
    assert all("persons" in p["sheet"] for p in problems)
    assert up["submission_id"] is None


def test_the_corrected_file_supersedes_the_one_with_errors(world):
    at = world.at
    good = at["good"].json()
    assert at["good"].status_code == 201
    assert (good["state"], good["problems"], good["report"]["problem_count"]) == ("valid", 0, 0)
    assert good["report"]["years"] == [2019, 2020, 2021]
    assert "restatement" not in good["report"]  # nothing of THA was accepted before
    bad = at["bad_later"].json()
    assert bad["state"] == "superseded" and good["id"] in bad["note"]


def test_the_steps_go_in_order_and_acceptance_imports_the_file(world):
    at = world.at
    # Out of order: 409, and nothing moved.
    for step in ("approve_valid", "accept_valid", "submit_superseded", "submit_again", "accept_submitted",
                 "accept_again"):
        assert at[step].status_code == 409, (step, at[step].text)
        assert "it can be" in at[step].json()["detail"]
    # MYS's approver does not learn THA's upload exists.
    assert at["approve_mys"].status_code == 404
    assert [at[s].status_code for s in ("submit", "approve", "accept")] == [200, 200, 200]
    assert [at[s].json()["state"] for s in ("submit", "approve", "accept")] == ["submitted", "approved", "accepted"]
    accepted = at["accept"].json()
    assert accepted["submission_id"]
    # The store holds THA's case records now (worked out by hand in tests/test_casefile_import.py).
    f = at["figures_accepted"]
    assert f[("persons_prosecuted", 2019)] == 2
    assert f[("persons_convicted", 2021)] == 1
    assert f[("persons_prosecuted", 2020)] == 0


def test_an_upload_for_another_country_is_kept_with_a_wrong_country_problem(world):
    r = world.at["wrong_country"]
    assert r.status_code == 201
    up = r.json()
    assert (up["country"], up["state"], up["uploaded_by"]) == ("MYS", "invalid", "fp_mys")
    [problem] = up["report"]["problems"]
    assert (problem["code"], problem["found"], problem["expected"]) == ("wrong-country", "THA", "MYS")
    # THA's people do not see it; MYS's do.
    assert world.people["fp_tha"].get(f"/api/v1/uploads/{up['id']}").status_code == 404
    assert world.people["ap_mys"].get(f"/api/v1/uploads/{up['id']}").status_code == 200


def test_a_restatement_reports_what_it_revises_and_the_first_upload_stays(world):
    at = world.at
    r = at["restated"]
    assert r.status_code == 201
    up = r.json()
    assert (up["state"], up["restates"]) == ("valid", at["ids"]["good"])
    diff = up["report"]["restatement"]
    assert diff["counts"]["revised"] > 0
    assert diff["counts"]["removed"] == 0
    assert diff["listed"] == len(diff["rows"]) == sum(diff["counts"].values())
    # Worked out by hand: P-0005 prosecuted on 2020-09-01 is THA's one person prosecuted in 2020 (was none).
    [row] = [x for x in diff["rows"] if (x["area"], x["year"], x["indicator"], x["sex"], x["age"], x["form"])
             == ("THA", 2020, "persons_prosecuted", "total", "total", "total")]
    assert (row["old_value"], row["new_value"], row["change"]) == (0.0, 1.0, "revised")
    # 2019's prosecutions did not change, so they are not listed.
    assert not [x for x in diff["rows"] if x["year"] == 2019 and x["indicator"] == "persons_prosecuted"]
    # Accepted after the publication: the store holds the new version.
    assert [s.status_code for s in at["restated_steps"]] == [200, 200, 200]
    assert at["restated_steps"][-1].json()["state"] == "accepted"
    assert at["figures_restated"][("persons_prosecuted", 2020)] == 1
    assert at["figures_restated"][("persons_prosecuted", 2019)] == 2
    # The first accepted upload is kept: its record, and its file byte for byte.
    first = at["first_upload_later"]
    assert first.status_code == 200 and first.json()["state"] == "published"
    assert first.json()["submission_id"] == at["accept"].json()["submission_id"]
    assert at["first_file_later"].status_code == 200
    digest = hashlib.sha256(at["first_file_later"].content).hexdigest()
    assert digest == hashlib.sha256(world.good).hexdigest() == first.json()["file_hash"]
    assert 'filename="tha-2019-2021.xlsx"' in at["first_file_later"].headers["content-disposition"]


# --- Who sees which figures ------------------------------------------------------------------------------


def test_national_users_never_see_another_country(world):
    fp = world.people["fp_tha"]
    assert fp.get("/api/v1/live", params={"country": "MYS"}).status_code == 403
    live = fp.get("/api/v1/live")
    assert live.status_code == 200
    assert live.json()["audience"] == "national:THA"
    assert live.json()["rows"] and {r["country"] for r in live.json()["rows"]} == {"THA"}
    exported = fp.get("/api/v1/indicators")
    assert exported.status_code == 200
    assert exported.json()["rows"] and {r["country"] for r in exported.json()["rows"]} == {"THA"}
    assert fp.get("/api/v1/indicators", params={"country": "MYS"}).status_code == 403
    csv_rows = list(csv.DictReader(io.StringIO(fp.get("/api/v1/indicators", params={"format": "csv"}).text)))
    assert csv_rows and {r["country"] for r in csv_rows} == {"THA"}
    # Their uploads: their own country's only (MYS's focal point uploaded one too).
    listed = fp.get("/api/v1/uploads").json()
    assert listed and {u["country"] for u in listed} == {"THA"}
    assert {u["country"] for u in world.people["analyst"].get("/api/v1/uploads").json()} >= {"THA", "MYS"}
    # The analyst sees the region: every member.
    regional = world.at["analyst_live_later"].json()
    assert regional["audience"] == "regional"
    assert {"THA", "MYS", "SGP", "ASEAN"} <= {r["country"] for r in regional["rows"]}


def test_the_public_sees_only_what_was_published(world):
    at = world.at
    assert at["public_indicators_before"].status_code == 404
    assert at["public_dashboard_before"].status_code == 404
    assert at["publication"].status_code == 201
    assert at["publication"].json()["published_by"] == "analyst"
    published = at["public_dashboard"].json()
    assert published["overview"]["audience"] == "public"
    exported = at["public_indicators"].json()
    assert exported["audience"] == "public"
    assert exported["rows"] == published["overview"]["rows"]
    # THA's accepted case records are what was published: 2020's prosecutions, none.
    assert total_row(published["overview"]["rows"], "THA", 2020, "persons_prosecuted")["value"] == 0
    # The restatement accepted after the publication: the public's figures do not move ...
    later = at["public_dashboard_later"]
    assert later.status_code == 200 and later.content == at["public_dashboard"].content
    assert at["public_country_later"].json() == published["countries"]["THA"]
    # ... while the analyst's live figures hold it (one person: withheld below the threshold of 5, no longer 0).
    now = total_row(at["analyst_live_later"].json()["rows"], "THA", 2020, "persons_prosecuted")
    assert (now["value"], now["status"]) == (None, privacy.SUPPRESSED)
    # Until the next publication, which publishes what the public may see of it.
    assert at["publication_next"]["id"] != at["publication"].json()["id"]
    assert at["public_dashboard_next"].content != at["public_dashboard"].content
    published_now = total_row(at["public_dashboard_next"].json()["overview"]["rows"], "THA", 2020,
                              "persons_prosecuted")
    assert (published_now["value"], published_now["status"]) == (None, privacy.SUPPRESSED)
    restated = world.people["fp_tha"].get(f"/api/v1/uploads/{at['ids']['restated']}").json()
    assert (restated["state"], restated["note"]) == ("published", f"publication {at['publication_next']['id']}")


# --- CSRF, API tokens, sessions ----------------------------------------------------------------------------


def test_a_browser_post_without_its_sessions_csrf_token_changes_nothing(world):
    fp = world.people["fp_tha"]
    other = Browser(world.app, "fp_tha", form=False)  # another session of the same person
    assert other.csrf != fp.csrf
    before = (count(world.db, uploads), count(world.db, raw_files))
    files = {"file": ("tha.xlsx", world.restated, XLSX)}
    no_token = fp.post("/api/v1/uploads", csrf=False, files=files)
    assert no_token.status_code == 403 and "CSRF" in no_token.json()["detail"]
    foreign = fp.post("/api/v1/uploads", csrf=False, files=files, headers={"X-CSRF-Token": other.csrf})
    assert foreign.status_code == 403
    page = fp.post("/uploads", page=True, csrf=False, files=files, data={"csrf_token": other.csrf})
    assert page.status_code == 403 and "CSRF" in page.text
    assert (count(world.db, uploads), count(world.db, raw_files)) == before
    # A workflow step is refused alike, and the upload does not move.
    valid = world.new_upload("valid")
    assert fp.post(f"/uploads/{valid}/submit", page=True, csrf=False).status_code == 403
    assert fp.post(f"/api/v1/uploads/{valid}/submit", csrf=False).status_code == 403
    assert upload_state(world.db, valid) == "valid"
    # The form field of its own session is taken.
    ok = fp.post(f"/uploads/{valid}/submit", page=True, csrf=False, data={"csrf_token": fp.csrf})
    assert ok.status_code == 303 and upload_state(world.db, valid) == "submitted"


def test_api_tokens_need_no_csrf_and_a_wrong_or_revoked_token_is_refused(world):
    auth.add_user(world.db, "tha_bot", PASSWORD, "focal_point", "THA")
    token = auth.create_token(world.db, "tha_bot", "nightly").value
    bot = client(world.app)
    bearer = {"Authorization": f"Bearer {token}"}
    r = bot.post("/api/v1/uploads", headers=bearer, files={"file": ("tha.xlsx", world.good, XLSX)})
    assert r.status_code == 201, r.text
    assert (r.json()["uploaded_by"], r.json()["state"]) == ("tha_bot", "valid")
    assert bot.get("/api/v1/me", headers=bearer).json()["username"] == "tha_bot"
    wrong = bot.get("/api/v1/uploads", headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert bot.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwdw=="}).status_code == 401
    assert auth.revoke_tokens(world.db, "tha_bot") == 1
    assert bot.get("/api/v1/uploads", headers=bearer).status_code == 401
    assert bot.post("/api/v1/uploads", headers=bearer,
                    files={"file": ("tha.xlsx", world.good, XLSX)}).status_code == 401


def test_an_api_token_stops_working_when_it_expires(world):
    """A token lasts a year unless asked otherwise; days=0 asks for no end; an expired one answers 401."""
    auth.add_user(world.db, "mys_bot", PASSWORD, "focal_point", "MYS")
    owner = Browser(world.app, "mys_bot", form=False)
    made = owner.post("/api/v1/tokens", json={"name": "nightly", "days": 30})
    assert made.status_code == 201, made.text
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert expires.tzinfo is not None and 29 <= (expires - datetime.now(UTC)).days <= 30
    forever = owner.post("/api/v1/tokens", json={"name": "archive", "days": 0}).json()
    assert forever["expires_at"] is None
    assert owner.post("/api/v1/tokens", json={"days": auth.MAX_TOKEN_DAYS + 1}).status_code == 422
    default = auth.create_token(world.db, "mys_bot")
    assert 364 <= (default.expires_at - datetime.now(UTC).replace(tzinfo=None)).days <= 365
    bot = client(world.app)

    def me(token: str):
        return bot.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert me(made.json()["token"]).json()["username"] == "mys_bot"
    with world.db.begin() as conn:  # thirty days later
        conn.execute(sa.text("UPDATE api_tokens SET expires_at = :t "
                             "WHERE expires_at IS NOT NULL AND username = 'mys_bot'"),
                     {"t": datetime.now(UTC).replace(tzinfo=None)})
    expired = me(made.json()["token"])
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert me(default.value).status_code == 401
    assert me(forever["token"]).json()["username"] == "mys_bot"  # no end: until revoked


def test_a_disabled_persons_session_and_tokens_stop_working(world):
    auth.add_user(world.db, "ap_tha_deputy", PASSWORD, "approver", "THA")
    deputy = Browser(world.app, "ap_tha_deputy")
    token = auth.create_token(world.db, "ap_tha_deputy").value
    assert deputy.get("/api/v1/me").json()["username"] == "ap_tha_deputy"
    assert deputy.get("/api/v1/uploads").status_code == 200
    auth.set_active(world.db, "ap_tha_deputy", False)
    assert deputy.get("/api/v1/me").json()["role"] == "public"
    assert deputy.get("/api/v1/uploads").status_code == 401
    page = deputy.get("/uploads", page=True)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert client(world.app).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # Nor can they sign in again.
    again = client(world.app).post("/login", data={"username": "ap_tha_deputy", "password": PASSWORD})
    assert again.status_code == 401


def test_passwords_are_argon2_hashes_and_a_wrong_one_is_logged(world):
    with world.db.connect() as conn:
        hashes = conn.execute(sa.select(users.c.username, users.c.password_hash)).all()
    assert {u for u, _ in hashes} >= set(PEOPLE)
    assert all(h.startswith("$argon2") and PASSWORD not in h for _, h in hashes)
    failed = count(world.db, audit_log, audit_log.c.action == "login_failed", audit_log.c.target == "ap_mys")
    r = client(world.app).post("/login", data={"username": "ap_mys", "password": PASSWORD + "!"}, headers=HTML)
    assert r.status_code == 401 and "Wrong user name or password" in r.text
    assert "tipwatch_session" not in r.cookies
    assert count(world.db, audit_log, audit_log.c.action == "login_failed",
                 audit_log.c.target == "ap_mys") == failed + 1


def test_signing_in_is_refused_after_five_wrong_passwords_for_a_while(world):
    """Guessing passwords: after 5 wrong ones for a name within 15 minutes, even the right one is refused (429)
    until the window has passed; other people sign in as usual, and every attempt is in the audit log."""
    auth.add_user(world.db, "fp_lao", PASSWORD, "focal_point", "LAO")
    guesser = client(world.app)

    def sign_in(password: str):
        return guesser.post("/login", data={"username": "fp_lao", "password": password}, headers=HTML,
                            follow_redirects=False)

    for i in range(audit.MAX_FAILED_LOGINS):
        assert sign_in(f"guess-{i}-{PASSWORD}").status_code == 401
    refused = sign_in(PASSWORD)
    assert refused.status_code == 429 and "tipwatch_session" not in refused.cookies
    assert "Too many wrong passwords for this user name" in refused.text
    assert 14 * 60 <= int(refused.headers["Retry-After"]) <= 15 * 60
    assert count(world.db, audit_log, audit_log.c.action == "login_refused", audit_log.c.target == "fp_lao") == 1
    # Another person is not affected, and a name nobody has gets the same answer (nobody learns who exists).
    assert client(world.app).post("/login", data={"username": "ap_tha", "password": PASSWORD},
                                  follow_redirects=False).status_code == 303
    for i in range(audit.MAX_FAILED_LOGINS):
        client(world.app).post("/login", data={"username": "nobody_here", "password": f"x{i}"})
    assert client(world.app).post("/login", data={"username": "nobody_here", "password": "x"}).status_code == 429
    # Once the wrong passwords are older than the window, the right one works again.
    with world.db.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.target == "fp_lao", audit_log.c.action == "login_failed")
                     .values(logged_at=audit_log.c.logged_at - audit.LOGIN_WINDOW))
    assert sign_in(PASSWORD).status_code == 303


def test_a_person_changes_their_own_password(world):
    """The current password first, the new one twice; other browsers are signed out, this one stays in."""
    auth.add_user(world.db, "fp_khm", PASSWORD, "focal_point", "KHM")
    here, elsewhere = Browser(world.app, "fp_khm"), Browser(world.app, "fp_khm")
    page = here.get("/account", page=True)
    assert page.status_code == 200 and "Change your password" in page.text and "fp_khm" in page.text
    new = "the khm focal point's new password"

    def change(current: str, first: str, second: str, csrf: bool = True):
        return here.post("/account/password", page=True, csrf=csrf, follow_redirects=False,
                         data={"current_password": current, "new_password": first, "new_password_again": second})

    failed = count(world.db, audit_log, audit_log.c.action == "login_failed", audit_log.c.target == "fp_khm")
    wrong = change("not it at all", new, new)
    assert wrong.status_code == 400 and "The current password is wrong" in wrong.text
    assert count(world.db, audit_log, audit_log.c.action == "login_failed",
                 audit_log.c.target == "fp_khm") == failed + 1
    assert "differ" in change(PASSWORD, new, new + "!").text
    assert "too short" in change(PASSWORD, "short", "short").text
    assert "is the current one" in change(PASSWORD, PASSWORD, PASSWORD).text
    assert change(PASSWORD, new, new, csrf=False).status_code == 403
    done = change(PASSWORD, new, new)
    assert done.status_code == 303 and done.headers["location"] == "/account?changed=true"
    assert "Your password is changed" in here.get("/account?changed=true", page=True).text
    assert here.get("/api/v1/me").json()["username"] == "fp_khm"  # still signed in here
    assert elsewhere.get("/api/v1/me").json()["role"] == "public"  # signed out there
    def sign_in(password: str) -> int:
        return client(world.app).post("/login", data={"username": "fp_khm", "password": password},
                                      follow_redirects=False).status_code
    assert (sign_in(PASSWORD), sign_in(new)) == (401, 303)
    assert count(world.db, audit_log, audit_log.c.action == "user_changed", audit_log.c.target == "fp_khm") == 1
    # The public has no account page.
    assert client(world.app).get("/account", headers=HTML, follow_redirects=False).status_code == 303


# --- The audit log ------------------------------------------------------------------------------------------


def test_the_audit_log_holds_the_workflow_and_only_the_admin_reads_it(world):
    admin = world.people["admin"]
    r = admin.get("/api/v1/audit", params={"limit": 100_000})
    assert r.status_code == 200
    entries = r.json()
    actions = {e["action"] for e in entries}
    assert {"login", "upload", "submit", "approve", "accept", "publish", "view_microdata", "export"} <= actions
    ids = world.at["ids"]
    mine = {(e["action"], e["target"], e["username"]) for e in entries}
    assert {("upload", ids["bad"], "fp_tha"), ("submit", ids["good"], "fp_tha"), ("approve", ids["good"], "ap_tha"),
            ("accept", ids["good"], "analyst"), ("download_file", ids["good"], "ap_tha"),
            ("publish", world.at["publication"].json()["id"], "analyst")} <= mine
    assert all(e["role"] in ("public", *auth.ROLES) for e in entries)
    for name in ("fp_tha", "ap_tha", "analyst"):
        assert world.people[name].get("/api/v1/audit").status_code == 403
        assert world.people[name].get("/api/v1/audit.csv").status_code == 403
    assert world.public.get("/api/v1/audit").status_code == 401
    assert world.public.get("/api/v1/audit.csv").status_code == 401


def test_the_audit_export_is_a_line_per_entry_and_is_logged(world):
    exports = count(world.db, audit_log, audit_log.c.action == "export", audit_log.c.target == "audit_log")
    r = world.people["admin"].get("/api/v1/audit.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.splitlines()
    assert lines[0] == ",".join(audit.COLUMNS)
    assert len(lines) - 1 == count(world.db, audit_log)
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == len(lines) - 1
    assert (rows[-1]["action"], rows[-1]["target"], rows[-1]["username"]) == ("export", "audit_log", "admin")
    assert count(world.db, audit_log, audit_log.c.action == "export",
                 audit_log.c.target == "audit_log") == exports + 1


# --- Bad input ----------------------------------------------------------------------------------------------


def test_an_empty_file_is_refused_and_nothing_is_stored(world):
    fp = world.people["fp_tha"]
    before = (count(world.db, uploads), count(world.db, raw_files), count(world.db, audit_log,
                                                                           audit_log.c.action == "upload"))
    r = fp.upload("tha-2019-2021.xlsx", b"")
    assert r.status_code == 400
    assert "empty" in r.json()["detail"] and "tha-2019-2021.xlsx" in r.json()["detail"]
    assert (count(world.db, uploads), count(world.db, raw_files),
            count(world.db, audit_log, audit_log.c.action == "upload")) == before


def test_random_bytes_are_kept_as_an_unreadable_upload(world):
    noise = random.Random(7).randbytes(4096)
    r = world.people["fp_tha"].upload("tha-2019-2021.xlsx", noise)
    assert r.status_code == 201, r.text
    up = r.json()
    assert (up["state"], up["format"]) == ("invalid", None)
    assert [p["code"] for p in up["report"]["problems"]] == ["unreadable-file"]
    assert up["report"]["problems"][0]["message"]
    assert up["file_hash"] == hashlib.sha256(noise).hexdigest()
    assert world.people["fp_tha"].get(f"/api/v1/uploads/{up['id']}/file").content == noise


def test_a_file_name_with_path_parts_is_stored_under_its_base_name(world):
    r = world.people["fp_tha"].upload("../../etc/passwd.xlsx", world.good)
    assert r.status_code == 201
    assert r.json()["file_name"] == "passwd.xlsx"
    file = world.people["fp_tha"].get(f"/api/v1/uploads/{r.json()['id']}/file")
    assert 'filename="passwd.xlsx"' in file.headers["content-disposition"]


# --- tipwatch users ---------------------------------------------------------------------------------------------


def test_users_command_adds_lists_refuses_and_makes_tokens_that_work(store_url, capsys):
    from tipwatch.web import create_app

    assert main(["users", "add", "chief", "--role", "admin", "--password", PASSWORD, "--db", store_url]) == 0
    assert main(["users", "add", "som", "--role", "focal_point", "--country", "tha", "--password", PASSWORD,
                 "--db", store_url]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--json", "--db", store_url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["username"], u["role"], u["country"], u["active"]) for u in listed] == [
        ("chief", "admin", None, True), ("som", "focal_point", "THA", True)]
    assert all("password" not in key for u in listed for key in u)
    # Bad role, missing country: exit 1 and one clear line.
    assert main(["users", "add", "boss", "--role", "boss", "--password", PASSWORD, "--db", store_url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'boss' is not a role" in err[0] and "focal_point" in err[0]
    assert main(["users", "add", "appr", "--role", "approver", "--password", PASSWORD, "--db", store_url]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--country" in err[0]
    assert main(["users", "list", "--json", "--db", store_url]) == 0
    assert [u["username"] for u in json.loads(capsys.readouterr().out)] == ["chief", "som"]
    # A token printed once, that the application takes.
    assert main(["users", "token", "chief", "--name", "ci", "--days", "30", "--db", store_url]) == 0
    printed = capsys.readouterr()
    token = printed.out.strip()
    assert re.fullmatch(r"tw_[A-Za-z0-9_-]{40,}", token)
    assert re.search(r"It works until \d\d \w{3} \d{4} \d\d:\d\d UTC\.", printed.err)
    assert main(["users", "token", "chief", "--days", "-1", "--db", store_url]) == 1
    assert "A token lasts from 1 to 3650 days, or 0" in capsys.readouterr().err
    app = create_app(store_url)
    try:
        http = client(app)
        me = http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.json()["username"] == "chief" and me.json()["role"] == "admin"
        people = http.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"})
        assert people.status_code == 200 and {u["username"] for u in people.json()} == {"chief", "som"}
        assert http.get("/api/v1/users", headers={"Authorization": f"Bearer {token[:-1]}"}).status_code == 401
    finally:
        app.state.site.store.close()
    assert main(["users", "token", "chief", "--revoke", "--db", store_url]) == 0
    assert "Revoked 1 token of chief" in capsys.readouterr().out
