"""The JSON API (``/api/v1``), documented by its OpenAPI document at ``/api/v1/openapi.json``.

Every answer with figures passed the privacy layer for the asker's audience (`dashboard`);
every answer with an upload was checked against the asker's country (`workflow`).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, Field

from tipwatch.errors import InputError, NotFound, PermissionDenied
from tipwatch.ingest.files import MAX_BYTES
from tipwatch.web import access, audit, auth, publish, workflow
from tipwatch.web.auth import Principal
from tipwatch.web.deps import Site, client, csrf, signed_in, site, who

router = APIRouter(prefix="/api/v1", tags=["api"])

Iso3 = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$")]
UploadId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
#: A time of the store (naive, in UTC) as the document's ``date-time`` says: with its offset (``Z``).
UtcTime = Annotated[datetime, AfterValidator(lambda t: t if t.tzinfo else t.replace(tzinfo=UTC))]


class Me(BaseModel):
    username: str | None
    role: str
    role_name: str
    country: str | None
    audience: str


class UploadSummary(BaseModel):
    id: str
    country: str
    file_name: str
    file_hash: str
    format: str | None
    state: str
    problems: int
    uploaded_by: str
    uploaded_at: UtcTime
    updated_at: UtcTime
    submission_id: str | None
    restates: str | None
    note: str | None


class Upload(UploadSummary):
    report: dict[str, Any]


class ReturnNote(BaseModel):
    note: str = Field(min_length=1, max_length=2000, description="Why the upload goes back: what to correct.")


class Publication(BaseModel):
    id: str
    published_at: UtcTime
    published_by: str
    region: str
    first_year: int
    last_year: int
    report_state: str


class AuditEntry(BaseModel):
    logged_at: UtcTime
    username: str | None
    role: str
    action: str
    target: str | None
    detail: str | None
    client: str | None


class NewUser(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=auth.MIN_PASSWORD, max_length=1024)
    role: Literal["focal_point", "approver", "analyst", "admin"]
    country: str | None = Field(default=None, max_length=3)


class User(BaseModel):
    username: str
    role: str
    country: str | None
    active: bool
    created_at: UtcTime


class NewToken(BaseModel):
    name: str = Field(default="api", min_length=1, max_length=100)
    days: int = Field(default=auth.TOKEN_DAYS, ge=0, le=auth.MAX_TOKEN_DAYS,
                      description="How many days the token lasts; 0: until it is revoked.")


class Token(BaseModel):
    token: str = Field(description="Shown once: send it as 'Authorization: Bearer <token>'.")
    expires_at: UtcTime | None = Field(description="When the token stops working (UTC); null: when revoked.")


ERRORS = {401: {"description": "Not signed in, or a wrong API token"},
          403: {"description": "Not allowed for this role"},
          404: {"description": "Not found, or not this person's to see"}}
STEP_ERRORS = {**ERRORS, 409: {"description": "The upload is not in a state for this step"}}


@router.get("/me", response_model=Me)
def me(p: Principal = Depends(who)) -> Me:
    """Who the request is from (the public when not signed in)."""
    return Me(username=p.username, role=p.role, role_name=auth.ROLE_NAMES[p.role], country=p.country,
              audience=p.audience)


@router.get("/dashboard", responses={404: {"description": "Nothing published yet"}})
def published_dashboard(request: Request, s: Site = Depends(site)) -> Response:
    """The newest publication: the regional overview and every country profile, as released for the public
    (gzip-compressed for a client that accepts it)."""
    gz = "gzip" in request.headers.get("accept-encoding", "")
    body = publish.latest_json(s, compressed=gz)
    if body is None:
        raise NotFound("Nothing has been published yet.")
    headers = {"Vary": "Accept-Encoding", **({"Content-Encoding": "gzip"} if gz else {})}
    return Response(body, media_type="application/json", headers=headers)


@router.get("/dashboard/{country}", responses={404: {"description": "Not published, or not a member"}})
def published_country(country: Iso3, s: Site = Depends(site)) -> dict:
    """One country's profile in the newest publication."""
    found = publish.latest(s)
    if found is None:
        raise NotFound("Nothing has been published yet.")
    profile = found[1]["countries"].get(country.upper())
    if profile is None:
        raise NotFound(f"The publication has no profile of {country.upper()}.")
    return profile


@router.get("/live", responses=ERRORS)
def live(country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
         p: Principal = Depends(signed_in), s: Site = Depends(site)) -> dict:
    """The figures as they stand now, released for the asker: the region for an analyst, one's own country for
    a national user (accepted uploads included before they are published)."""
    return access.live(s, p, country)


@router.get("/indicators", responses=ERRORS)
def indicators(request: Request, country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
               format: Literal["json", "csv"] = "json", p: Principal = Depends(who),
               s: Site = Depends(site)) -> Response:
    """Export the indicator figures: the published ones for the public, the live ones released for a
    signed-in person's audience. Logged."""
    rows = access.export_rows(s, p, country)
    audit.record(s.store.engine, p, "export", "indicators",
                 {"country": country, "format": format, "rows": len(rows["rows"])}, client(request))
    if format == "csv":
        frame = pd.DataFrame(rows["rows"])
        buf = io.StringIO()
        frame.to_csv(buf, index=False)
        return Response(buf.getvalue(), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="tipwatch-indicators.csv"'})
    return Response(access.dumps(rows), media_type="application/json")


@router.get("/uploads", response_model=list[UploadSummary], responses=ERRORS)
def list_uploads(country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{3}$")] = None,
                 p: Principal = Depends(signed_in), s: Site = Depends(site)) -> list[dict]:
    """Uploads the asker may see: their country's, or every country's for the region."""
    return workflow.list_uploads(s.store.engine, p, country)


def read_upload(file: UploadFile) -> bytes:
    """The uploaded bytes, refused past the size limit (the server refuses a larger request body before it is
    received when it says its length: `app.create_app`)."""
    chunks, size = [], 0
    while chunk := file.file.read(1 << 20):
        size += len(chunk)
        if size > MAX_BYTES:
            raise InputError(f"{file.filename} is more than the {MAX_BYTES // 2**20} MB tipwatch accepts in one "
                             "file: split it by year.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/uploads", response_model=Upload, status_code=201,
             responses={**ERRORS, 400: {"description": "An empty or too large file"}})
def upload(request: Request, file: Annotated[UploadFile, File(description="The submission: the template "
                                                                        "workbook, or a zip of its CSV files")],
           p: Principal = Depends(csrf), s: Site = Depends(site)) -> dict:
    """Upload a file (national focal point): it is validated at once and kept whatever the result; the answer
    is its validation report with every problem and its line."""
    _signed(p)
    content = read_upload(file)
    with s.lock:
        return workflow.upload(s.store, p, file.filename or "upload", content, client(request))


@router.get("/uploads/{upload_id}", response_model=Upload, responses=ERRORS)
def get_upload(request: Request, upload_id: UploadId, p: Principal = Depends(signed_in),
               s: Site = Depends(site)) -> dict:
    """An upload and its validation report (logged as a microdata view)."""
    return workflow.get_upload(s.store.engine, p, upload_id, client(request))


@router.get("/uploads/{upload_id}/file", responses=ERRORS)
def upload_file(request: Request, upload_id: UploadId, p: Principal = Depends(signed_in),
                s: Site = Depends(site)) -> Response:
    """The uploaded file, byte for byte (logged)."""
    name, content = workflow.file_content(s.store, p, upload_id, client(request))
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/uploads/{upload_id}/submit", response_model=Upload, responses=STEP_ERRORS)
def submit(request: Request, upload_id: UploadId, p: Principal = Depends(csrf), s: Site = Depends(site)) -> dict:
    """Submit a valid upload to the national approver (the focal point of its country)."""
    return workflow.submit(s.store, _signed(p), upload_id, client(request))


@router.post("/uploads/{upload_id}/approve", response_model=Upload, responses=STEP_ERRORS)
def approve(request: Request, upload_id: UploadId, p: Principal = Depends(csrf), s: Site = Depends(site)) -> dict:
    """Approve a submitted upload (the national approver of its country)."""
    return workflow.approve(s.store, _signed(p), upload_id, client(request))


@router.post("/uploads/{upload_id}/return", response_model=Upload, responses=STEP_ERRORS)
def return_upload(request: Request, upload_id: UploadId, body: ReturnNote, p: Principal = Depends(csrf),
                  s: Site = Depends(site)) -> dict:
    """Send an upload back for correction, saying why (the approver, or the regional analyst)."""
    return workflow.return_upload(s.store, _signed(p), upload_id, body.note, client(request))


@router.post("/uploads/{upload_id}/accept", response_model=Upload, responses=STEP_ERRORS)
def accept(request: Request, upload_id: UploadId, p: Principal = Depends(csrf), s: Site = Depends(site)) -> dict:
    """Accept an approved upload (the regional analyst): it is imported into the store and locked."""
    with s.lock:
        result = workflow.accept(s.store, _signed(p), upload_id, client(request))
    s.cache.clear()
    return result


@router.get("/publications", response_model=list[Publication])
def publications(s: Site = Depends(site)) -> list[dict]:
    """Every publication, newest first."""
    return publish.history(s.store.engine)


@router.post("/publications", response_model=Publication, status_code=201, responses=ERRORS)
def new_publication(request: Request, p: Principal = Depends(csrf), s: Site = Depends(site)) -> dict:
    """Publish the accepted figures (the regional analyst); the report is built in the background."""
    return publish.publish(s, _signed(p), client(request))


@router.get("/report.{kind}", responses={404: {"description": "Nothing published, or the report is being built"}})
def report(kind: Literal["pdf", "html"], s: Site = Depends(site)) -> Response:
    """The newest publication's Progress Report."""
    pid, content = publish.report_file(s.store.engine, kind)
    media = "application/pdf" if kind == "pdf" else "text/html; charset=utf-8"
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'inline; filename="tipwatch-report-{pid}.{kind}"'})


def _admin(p: Principal) -> Principal:
    if p.role != "admin":
        raise PermissionDenied("Only the administrator may do this.")
    return p


def _signed(p: Principal) -> Principal:
    if not p.signed_in:
        from tipwatch.web.deps import NotSignedIn

        raise NotSignedIn("Sign in first.")
    return p


@router.get("/audit", response_model=list[AuditEntry], responses=ERRORS)
def audit_log(action: Annotated[str | None, Query(max_length=32)] = None,
              username: Annotated[str | None, Query(max_length=64)] = None,
              limit: Annotated[int, Query(ge=1, le=100_000)] = 500,
              p: Principal = Depends(signed_in), s: Site = Depends(site)) -> list[dict]:
    """The audit log, newest first (the administrator)."""
    _admin(p)
    return audit.entries(s.store.engine, limit, action, username)


@router.get("/audit.csv", responses=ERRORS)
def audit_export(request: Request, p: Principal = Depends(signed_in), s: Site = Depends(site)) -> Response:
    """The whole audit log as CSV (the administrator; the export itself is logged)."""
    _admin(p)
    audit.record(s.store.engine, p, "export", "audit_log", None, client(request))
    return Response(audit.to_csv(audit.entries(s.store.engine, None)), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="tipwatch-audit.csv"'})


@router.get("/users", response_model=list[User], responses=ERRORS)
def users(p: Principal = Depends(signed_in), s: Site = Depends(site)) -> list[dict]:
    """Everyone (the administrator)."""
    _admin(p)
    return auth.list_users(s.store.engine)


@router.post("/users", response_model=User, status_code=201, responses={**ERRORS, 400: {"description": "Bad"}})
def add_user(request: Request, body: NewUser, p: Principal = Depends(csrf), s: Site = Depends(site)) -> dict:
    """Add a person (the administrator)."""
    _admin(_signed(p))
    auth.add_user(s.store.engine, body.username, body.password, body.role, body.country)
    audit.record(s.store.engine, p, "user_added", body.username,
                 {"role": body.role, "country": body.country.upper() if body.country else None}, client(request))
    return next(u for u in auth.list_users(s.store.engine) if u["username"] == body.username)


@router.post("/tokens", response_model=Token, status_code=201, responses=ERRORS)
def new_token(request: Request, body: NewToken, p: Principal = Depends(csrf), s: Site = Depends(site)) -> Token:
    """A new API token for the signed-in person, for machine submission."""
    _signed(p)
    issued = auth.create_token(s.store.engine, p.username, body.name, body.days)
    audit.record(s.store.engine, p, "token_created", p.username, {"name": body.name, "days": body.days},
                 client(request))
    return Token(token=issued.value, expires_at=issued.expires_at)
