"""People, roles, passwords, browser sessions and API tokens.

Roles: a national **focal point** and a national **approver** act for one country; a regional
**analyst** reads every country and accepts and publishes; an **administrator** manages people
and reads the audit log; anyone not signed in is the **public**. Passwords are argon2 hashes;
session cookies and API tokens are random and stored as their SHA-256 only.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tipwatch.errors import InputError
from tipwatch.store.schema import api_tokens, users, web_sessions

ROLES = ("focal_point", "approver", "analyst", "admin")
NATIONAL_ROLES = ("focal_point", "approver")
ROLE_NAMES = {"focal_point": "national focal point", "approver": "national approver",
              "analyst": "regional analyst", "admin": "administrator", "public": "public"}
#: How long a browser stays signed in without signing in again.
SESSION_HOURS = 12
MIN_PASSWORD = 10
#: How many days an API token lasts unless asked otherwise, and at most (0 asks for no end).
TOKEN_DAYS = 365
MAX_TOKEN_DAYS = 3650

_hasher = PasswordHasher()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in person (or their API token), or the public."""

    username: str | None
    role: str
    country: str | None = None
    #: The CSRF token of a browser session; None for an API token or the public.
    csrf_token: str | None = None
    via_token: bool = False

    @property
    def audience(self) -> str:
        """The privacy layer's audience for this person (`tipwatch.privacy.audience`)."""
        if self.role in NATIONAL_ROLES:
            return f"national:{self.country}"
        return "regional" if self.role in ("analyst", "admin") else "public"

    @property
    def signed_in(self) -> bool:
        return self.username is not None

    def may_see_country(self, iso3: str) -> bool:
        """Whether this person may see a country's detail (its uploads, files and records)."""
        if self.role in ("analyst", "admin"):
            return True
        return self.role in NATIONAL_ROLES and self.country == iso3


PUBLIC = Principal(None, "public")


# --- People --------------------------------------------------------------------------------------


def _check_user(username: str, role: str, country: str | None) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", username):
        raise InputError(f"{username!r} cannot be a user name: use 2–64 letters, digits, '.', '_', '-' or '@'.")
    if role not in ROLES:
        raise InputError(f"{role!r} is not a role: choose one of {', '.join(ROLES)}.")
    if role in NATIONAL_ROLES:
        from tipwatch import reference

        code = (country or "").upper()
        if code not in reference.countries():
            given = f", not {country!r}" if country else ""
            raise InputError(f"A {ROLE_NAMES[role]} acts for one country: give --country with its ISO 3166 "
                             f"alpha-3 code (e.g. THA){given}.")
        return code
    if country:
        raise InputError(f"A {ROLE_NAMES[role]} acts for the whole region: leave out --country.")
    return None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"The password is too short: use at least {MIN_PASSWORD} characters.")


def add_user(engine: sa.Engine, username: str, password: str, role: str, country: str | None = None) -> None:
    """Create a person.

    Raises:
        InputError: Bad name, role, country or password, or the name is taken.
    """
    country = _check_user(username, role, country)
    _check_password(password)
    with engine.begin() as conn:
        if conn.execute(sa.select(users.c.username).where(users.c.username == username)).first():
            raise InputError(f"There is already a user {username!r}: choose another name.")
        conn.execute(users.insert().values(username=username, password_hash=_hasher.hash(password), role=role,
                                           country=country, active=True, created_at=_now()))


def list_users(engine: sa.Engine) -> list[dict]:
    """Everyone, without their password hashes."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(users.c.username, users.c.role, users.c.country, users.c.active,
                                      users.c.created_at).order_by(users.c.username)).mappings().all()
    return [dict(r) for r in rows]


def _require_user(conn: sa.Connection, username: str):
    row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        raise InputError(f"There is no user {username!r}: tipwatch users list shows who there is.")
    return row


def set_password(engine: sa.Engine, username: str, password: str) -> None:
    """Replace a person's password and sign out their browsers.

    Raises:
        InputError: No such user, or the password is too short.
    """
    _check_password(password)
    with engine.begin() as conn:
        _require_user(conn, username)
        conn.execute(users.update().where(users.c.username == username)
                     .values(password_hash=_hasher.hash(password)))
        conn.execute(web_sessions.delete().where(web_sessions.c.username == username))


def set_active(engine: sa.Engine, username: str, active: bool) -> None:
    """Enable or disable a person; disabling signs out their browsers and revokes their tokens."""
    with engine.begin() as conn:
        _require_user(conn, username)
        conn.execute(users.update().where(users.c.username == username).values(active=active))
        if not active:
            conn.execute(web_sessions.delete().where(web_sessions.c.username == username))
            conn.execute(api_tokens.update().where(api_tokens.c.username == username).values(revoked=True))


def _principal(row, csrf: str | None = None, via_token: bool = False) -> Principal:
    return Principal(row.username, row.role, row.country, csrf, via_token)


def authenticate(engine: sa.Engine, username: str, password: str) -> Principal | None:
    """The person if the password is theirs and they are active; None otherwise."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.username == username)).first()
    if row is None:
        _hasher.hash(password)  # the same time whether the name exists or not
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if not row.active:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        with engine.begin() as conn:
            conn.execute(users.update().where(users.c.username == username)
                         .values(password_hash=_hasher.hash(password)))
    return _principal(row)


# --- Browser sessions -------------------------------------------------------------------------------


def start_session(engine: sa.Engine, username: str) -> tuple[str, str]:
    """Open a browser session; return its cookie value and its CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
        conn.execute(web_sessions.insert().values(token_hash=_digest(token), username=username, csrf_token=csrf,
                                                  created_at=now, expires_at=now + timedelta(hours=SESSION_HOURS)))
    return token, csrf


def end_session(engine: sa.Engine, token: str) -> None:
    with engine.begin() as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == _digest(token)))


def from_session(engine: sa.Engine, token: str) -> Principal | None:
    """The person a session cookie belongs to, if it is open and they are still active."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.username, users.c.role, users.c.country, web_sessions.c.csrf_token)
            .join_from(web_sessions, users, web_sessions.c.username == users.c.username)
            .where(web_sessions.c.token_hash == _digest(token), web_sessions.c.expires_at > _now(),
                   users.c.active)
        ).first()
    return None if row is None else _principal(row, row.csrf_token)


# --- API tokens -------------------------------------------------------------------------------------


class IssuedToken(NamedTuple):
    """A new API token (shown once) and when it stops working (None: when revoked)."""

    value: str
    expires_at: datetime | None


def create_token(engine: sa.Engine, username: str, name: str = "api", days: int = TOKEN_DAYS) -> IssuedToken:
    """A new API token for ``username``, lasting ``days`` days (0: until revoked): returned once,
    stored as its hash.

    Raises:
        InputError: No such user, or ``days`` outside 0 to `MAX_TOKEN_DAYS`.
    """
    if not 0 <= days <= MAX_TOKEN_DAYS:
        raise InputError(f"A token lasts from 1 to {MAX_TOKEN_DAYS} days, or 0 for until it is revoked "
                         f"(not {days}).")
    token = "tw_" + secrets.token_urlsafe(32)
    now = _now()
    expires = now + timedelta(days=days) if days else None
    with engine.begin() as conn:
        _require_user(conn, username)
        conn.execute(api_tokens.insert().values(token_hash=_digest(token), username=username, name=name,
                                                created_at=now, revoked=False, expires_at=expires))
    return IssuedToken(token, expires)


def revoke_tokens(engine: sa.Engine, username: str) -> int:
    """Revoke every token of ``username``; return how many were live."""
    with engine.begin() as conn:
        _require_user(conn, username)
        res = conn.execute(api_tokens.update().where(api_tokens.c.username == username, ~api_tokens.c.revoked)
                           .values(revoked=True))
    return res.rowcount


def from_token(engine: sa.Engine, token: str) -> Principal | None:
    """The person an API token belongs to, if it is live (not revoked, not expired) and they are active."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(users.c.username, users.c.role, users.c.country)
            .join_from(api_tokens, users, api_tokens.c.username == users.c.username)
            .where(api_tokens.c.token_hash == _digest(token), ~api_tokens.c.revoked, users.c.active,
                   sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at > _now()))
        ).first()
    return None if row is None else _principal(row, via_token=True)
