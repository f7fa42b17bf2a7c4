"""What every route needs: the store, who is asking, and the CSRF check for browser forms."""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass, field

from fastapi import Depends, Request

from tipwatch.errors import PermissionDenied, TipwatchError
from tipwatch.store import Store
from tipwatch.web import auth
from tipwatch.web.auth import PUBLIC, Principal

COOKIE = "tipwatch_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class NotSignedIn(TipwatchError):
    """The request needs a signed-in person (401)."""


@dataclass
class Site:
    """The application's state: one store, the report's region and years, and a lock.

    The lock serialises the work that reads the store through ibis or writes imports (a DuckDB
    connection is not shared between threads); reads through SQLAlchemy's pool do not take it.
    """

    store: Store
    region: str
    years: tuple[int, int]
    secure_cookies: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: Dashboard payloads already computed, by (snapshot, audience, country).
    cache: dict = field(default_factory=dict)


def site(request: Request) -> Site:
    return request.app.state.site


def client(request: Request) -> str | None:
    return request.client.host if request.client else None


def who(request: Request) -> Principal:
    """The person asking: an API token's owner, a browser session's, or the public.

    A wrong or revoked token is refused (401) rather than treated as the public: a machine that
    sends a token expects to act as someone.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    s: Site = request.app.state.site
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotSignedIn("Send the API token as 'Authorization: Bearer <token>'.")
        found = auth.from_token(s.store.engine, token.strip())
        if found is None:
            raise NotSignedIn("The API token is not valid (wrong, revoked, expired, or its user is disabled).")
        request.state.principal = found
        return found
    cookie = request.cookies.get(COOKIE)
    found = auth.from_session(s.store.engine, cookie) if cookie else None
    request.state.principal = found or PUBLIC
    return request.state.principal


def signed_in(p: Principal = Depends(who)) -> Principal:
    if not p.signed_in:
        raise NotSignedIn("Sign in first.")
    return p


async def csrf(request: Request, p: Principal = Depends(who)) -> Principal:
    """Refuse a browser's state-changing request without its session's CSRF token.

    API tokens are not sent by browsers on their own, so a request authenticated by a token needs
    none; neither does the public, who can change nothing.
    """
    if p.via_token or not p.signed_in:
        return p
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        sent = form.get(CSRF_FIELD)
    if not sent or not hmac.compare_digest(str(sent), p.csrf_token or ""):
        raise PermissionDenied("The form is out of date or did not come from tipwatch (CSRF check failed): "
                               "reload the page and try again.")
    return p
