"""The server-rendered pages: the public dashboard, signing in, uploads and their workflow, the
live figures, and the administrator's log and people.

Forms post back with the session's CSRF token (`deps.csrf`). Every page asks `access`,
`workflow`, `publish` or `audit` for what it shows, exactly as the API does.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from tipwatch import __version__
from tipwatch.errors import InputError, NotFound, PermissionDenied
from tipwatch.web import access, audit, auth, publish, workflow
from tipwatch.web.api import read_upload
from tipwatch.web.auth import ROLE_NAMES, Principal
from tipwatch.web.deps import COOKIE, CSRF_FIELD, NotSignedIn, Site, client, csrf, signed_in, site, who

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(resources.files("tipwatch.web").joinpath("templates")))


def _spec_json(value: Any) -> Markup:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{value:,.0f}"


templates.env.filters["spec_json"] = _spec_json
templates.env.filters["number"] = _number
templates.env.globals.update(version=__version__, role_names=ROLE_NAMES, csrf_field=CSRF_FIELD,
                             min_password=auth.MIN_PASSWORD)


def render(request: Request, name: str, context: dict | None = None, status_code: int = 200) -> HTMLResponse:
    try:
        p = getattr(request.state, "principal", None) or who(request)
    except Exception:  # a bad token on a page: show it as the public
        p = auth.PUBLIC
    return templates.TemplateResponse(request, name, {"who": p, **(context or {})}, status_code=status_code)


def _back(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _safe_next(target: str | None) -> str:
    # Only a path on this site: never an absolute URL another site could be.
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return "/"
    return target


# --- The public dashboard -----------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, s: Site = Depends(site), p: Principal = Depends(who)):
    found = publish.latest(s)
    body = found[1]["overview"] if found else None
    pub = publish.summary(s.store.engine, found[0]) if found else None
    return render(request, "dashboard.html", {"body": body, "publication": pub, "live": False,
                                              "title": "Regional overview"})


@router.get("/countries/{country}", response_class=HTMLResponse)
def country_profile(request: Request, country: str, s: Site = Depends(site), p: Principal = Depends(who)):
    found = publish.latest(s)
    if found is None:
        raise NotFound("Nothing has been published yet.")
    body = found[1]["countries"].get(country.upper())
    if body is None:
        raise NotFound(f"The publication has no profile of {country.upper()}.")
    pub = publish.summary(s.store.engine, found[0])
    return render(request, "dashboard.html", {"body": body, "publication": pub, "live": False,
                                              "title": next((m["name"] for m in body.get("members") or []),
                                                            country.upper())})


@router.get("/live", response_class=HTMLResponse)
def live(request: Request, country: str | None = None, s: Site = Depends(site), p: Principal = Depends(signed_in)):
    body = access.live(s, p, country)
    title = "Your country's figures now" if p.role in auth.NATIONAL_ROLES else "Figures now (not yet published)"
    return render(request, "dashboard.html", {"body": body, "publication": None, "live": True, "title": title})


@router.get("/report", response_class=HTMLResponse)
def report_page(request: Request, s: Site = Depends(site)):
    return render(request, "report.html", {"publications": publish.history(s.store.engine)})


# --- Signing in -----------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)], next: Annotated[str, Form(max_length=2000)] = "/",
          s: Site = Depends(site)):
    until = audit.sign_in_refused_until(s.store.engine, username[:64])
    if until is not None:
        audit.record(s.store.engine, auth.PUBLIC, "login_refused", username[:64], None, client(request))
        wait = _refused_for(until)
        error = (f"Too many wrong passwords for this user name: signing in with it is refused for {wait} more "
                 f"minute{'s' if wait > 1 else ''}. If you have forgotten your password, ask the administrator "
                 "for a new one.")
        resp = render(request, "login.html", {"next": _safe_next(next), "error": error}, status_code=429)
        resp.headers["Retry-After"] = str(wait * 60)
        return resp
    p = auth.authenticate(s.store.engine, username, password)
    if p is None:
        audit.record(s.store.engine, auth.PUBLIC, "login_failed", username[:64], None, client(request))
        return render(request, "login.html", {"next": _safe_next(next), "error": "Wrong user name or password."},
                      status_code=401)
    audit.record(s.store.engine, p, "login", p.username, None, client(request))
    target = _safe_next(next)
    if target == "/":
        target = "/uploads" if p.role in ("focal_point", "approver", "analyst") else "/admin/audit" \
            if p.role == "admin" else "/"
    return _with_session(_back(target), s, p.username)


def _with_session(resp: Response, s: Site, username: str) -> Response:
    """``resp`` with the cookie of a new browser session of ``username``."""
    token, _ = auth.start_session(s.store.engine, username)
    resp.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=s.secure_cookies,
                    max_age=auth.SESSION_HOURS * 3600, path="/")
    return resp


def _refused_for(until: datetime) -> int:
    """Whole minutes (at least 1) until ``until`` (UTC)."""
    return max(1, math.ceil((until - datetime.now(UTC).replace(tzinfo=None)).total_seconds() / 60))


@router.post("/logout")
def logout(request: Request, p: Principal = Depends(csrf), s: Site = Depends(site)):
    cookie = request.cookies.get(COOKIE)
    if cookie:
        auth.end_session(s.store.engine, cookie)
        if p.signed_in:
            audit.record(s.store.engine, p, "logout", p.username, None, client(request))
    resp = _back("/")
    resp.delete_cookie(COOKIE, path="/")
    return resp


# --- One's own account --------------------------------------------------------------------------------


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, changed: bool = False, p: Principal = Depends(signed_in)):
    return render(request, "account.html", {"changed": changed})


@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, current_password: Annotated[str, Form(max_length=1024)],
                    new_password: Annotated[str, Form(max_length=1024)],
                    new_password_again: Annotated[str, Form(max_length=1024)],
                    p: Principal = Depends(csrf), s: Site = Depends(site)):
    """A person changes their own password: the current one first, the new one twice.

    Every other session of theirs ends (as when the administrator sets a password); this browser
    gets a new one. A wrong current password counts as a wrong password at sign-in.
    """
    if not p.signed_in:
        raise NotSignedIn("Sign in first.")
    engine = s.store.engine

    def again(error: str, status: int) -> HTMLResponse:
        return render(request, "account.html", {"error": error}, status_code=status)

    until = audit.sign_in_refused_until(engine, p.username)
    if until is not None:
        audit.record(engine, p, "login_refused", p.username, None, client(request))
        return again(f"Too many wrong passwords for your user name: try again in {_refused_for(until)} minutes.", 429)
    if auth.authenticate(engine, p.username, current_password) is None:
        audit.record(engine, p, "login_failed", p.username, {"when": "changing the password"}, client(request))
        return again("The current password is wrong: nothing was changed.", 400)
    if new_password != new_password_again:
        return again("The two new passwords differ: type the same new password twice.", 400)
    if new_password == current_password:
        return again("The new password is the current one: choose another.", 400)
    try:
        auth.set_password(engine, p.username, new_password)
    except InputError as exc:
        return again(str(exc), 400)
    audit.record(engine, p, "user_changed", p.username, {"password": "changed by the person"}, client(request))
    resp = _back("/account?changed=true")
    return resp if p.via_token else _with_session(resp, s, p.username)


# --- Uploads and the workflow -----------------------------------------------------------------------


@router.get("/uploads", response_class=HTMLResponse)
def uploads_page(request: Request, s: Site = Depends(site), p: Principal = Depends(signed_in)):
    rows = workflow.list_uploads(s.store.engine, p)
    locked = workflow.locked_years(s.store.engine, p.country) if p.country else []
    return render(request, "uploads.html", {"uploads": rows, "locked": locked,
                                            "publications": publish.history(s.store.engine)[:5]})


@router.post("/uploads")
def upload_form(request: Request, file: Annotated[UploadFile, File()], p: Principal = Depends(csrf),
                s: Site = Depends(site)):
    if not p.signed_in:
        raise NotSignedIn("Sign in as a national focal point to upload.")
    if not file.filename:
        raise InputError("Choose a file to upload first.")
    content = read_upload(file)
    with s.lock:
        up = workflow.upload(s.store, p, file.filename, content, client(request))
    return _back(f"/uploads/{up['id']}")


@router.get("/uploads/{upload_id}", response_class=HTMLResponse)
def upload_page(request: Request, upload_id: str, s: Site = Depends(site), p: Principal = Depends(signed_in)):
    up = workflow.get_upload(s.store.engine, p, upload_id, client(request))
    return render(request, "upload.html", {"up": up, "report": up["report"]})


@router.post("/uploads/{upload_id}/{step}")
def upload_step(request: Request, upload_id: str, step: str, note: Annotated[str, Form(max_length=2000)] = "",
                p: Principal = Depends(csrf), s: Site = Depends(site)):
    cl = client(request)
    if step == "submit":
        workflow.submit(s.store, p, upload_id, cl)
    elif step == "approve":
        workflow.approve(s.store, p, upload_id, cl)
    elif step == "return":
        workflow.return_upload(s.store, p, upload_id, note, cl)
    elif step == "accept":
        with s.lock:
            workflow.accept(s.store, p, upload_id, cl)
        s.cache.clear()
    else:
        raise NotFound(f"There is no step {step!r}.")
    return _back(f"/uploads/{upload_id}")


@router.post("/publish")
def publish_form(request: Request, p: Principal = Depends(csrf), s: Site = Depends(site)):
    publish.publish(s, p, client(request))
    return _back("/")


# --- The administrator ---------------------------------------------------------------------------------


def _admin(p: Principal) -> None:
    if p.role != "admin":
        raise PermissionDenied("Only the administrator may see this page.")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, action: str | None = None, s: Site = Depends(site),
               p: Principal = Depends(signed_in)):
    _admin(p)
    return render(request, "audit.html", {"entries": audit.entries(s.store.engine, 500, action or None),
                                          "actions": audit.ACTIONS, "action": action})


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, s: Site = Depends(site), p: Principal = Depends(signed_in)):
    _admin(p)
    return render(request, "users.html", {"users": auth.list_users(s.store.engine)})


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(status_code=204)


