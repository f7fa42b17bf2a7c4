"""The audit log: logins, uploads, decisions, microdata views and exports.

Every entry says who (user name and role), when, what (``action``), on what (``target``), a
JSON ``detail`` and the client's address. The administrator reads it in the web application and
exports it as CSV; nobody can change it through tipwatch.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from tipwatch.store.schema import audit_log
from tipwatch.web.auth import Principal

#: The actions written, with what each means (shown in the log's page).
ACTIONS = {
    "login": "signed in",
    "login_failed": "a wrong user name or password",
    "login_refused": "signing in refused: too many wrong passwords for the user name",
    "logout": "signed out",
    "upload": "uploaded a file",
    "submit": "submitted an upload",
    "approve": "approved an upload (national)",
    "return": "returned an upload for correction",
    "accept": "accepted and locked an upload (regional)",
    "publish": "published the figures",
    "view_microdata": "viewed an upload's records or problems",
    "download_file": "downloaded an uploaded file",
    "export": "exported figures or the audit log",
    "user_added": "added a person",
    "user_changed": "changed a person (password, disabled, enabled, tokens revoked)",
    "token_created": "created an API token",
}

COLUMNS = ("logged_at", "username", "role", "action", "target", "detail", "client")

#: Wrong passwords for one user name, within `LOGIN_WINDOW` and since its last sign-in, after which
#: signing in with that name is refused until the oldest of them is older than the window.
MAX_FAILED_LOGINS = 5
LOGIN_WINDOW = timedelta(minutes=15)


def sign_in_refused_until(engine: sa.Engine, username: str) -> datetime | None:
    """When signing in as ``username`` may be tried again (UTC), or None when it may be now.

    Counted from the audit log, so every worker process of a multi-user server sees the same
    count. Any name counts, known or not: the answer never tells whether a person exists.
    Refused attempts are logged as ``login_refused``, which does not prolong the refusal.
    """
    now = datetime.now(UTC).replace(tzinfo=None)
    since = now - LOGIN_WINDOW
    with engine.connect() as conn:
        last = conn.execute(sa.select(sa.func.max(audit_log.c.logged_at)).where(
            audit_log.c.action == "login", audit_log.c.username == username)).scalar()
        if last is not None and last > since:
            since = last
        failures = conn.execute(
            sa.select(audit_log.c.logged_at)
            .where(audit_log.c.action == "login_failed", audit_log.c.target == username, audit_log.c.logged_at > since)
            .order_by(audit_log.c.logged_at.desc()).limit(MAX_FAILED_LOGINS)).scalars().all()
    if len(failures) < MAX_FAILED_LOGINS:
        return None
    return failures[-1] + LOGIN_WINDOW


def record(conn_or_engine: sa.Engine | sa.Connection, who: Principal, action: str, target: str | None = None,
           detail: dict | None = None, client: str | None = None, username: str | None = None) -> None:
    """Write one entry (inside the caller's transaction when given a connection)."""
    assert action in ACTIONS, action
    now = datetime.now(UTC).replace(tzinfo=None)
    values = dict(id=f"{now:%Y%m%d%H%M%S%f}{secrets.token_hex(5)}", logged_at=now, username=username or who.username,
                  role=who.role, action=action, target=target,
                  detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None, client=client)
    if isinstance(conn_or_engine, sa.Engine):
        with conn_or_engine.begin() as conn:
            conn.execute(audit_log.insert().values(**values))
    else:
        conn_or_engine.execute(audit_log.insert().values(**values))


def entries(engine: sa.Engine, limit: int | None = 500, action: str | None = None,
            username: str | None = None) -> list[dict]:
    """The newest entries first."""
    q = sa.select(*(audit_log.c[c] for c in COLUMNS)).order_by(audit_log.c.logged_at.desc(), audit_log.c.id.desc())
    if action:
        q = q.where(audit_log.c.action == action)
    if username:
        q = q.where(audit_log.c.username == username)
    if limit:
        q = q.limit(limit)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def to_csv(rows: list[dict]) -> str:
    """The entries as CSV, oldest first (the export)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in reversed(rows):
        w.writerow({**r, "logged_at": r["logged_at"].isoformat(timespec="seconds")})
    return buf.getvalue()
