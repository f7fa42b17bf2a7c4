"""`tipwatch users`: the people who sign in to the web application, and their API tokens."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.table import Table

from tipwatch import settings
from tipwatch.cli import app, err, out
from tipwatch.cli.options import Db, Json
from tipwatch.errors import InputError

users_app = typer.Typer(help="Manage the people who sign in to `tipwatch serve` and their API tokens.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")

PASSWORD_ENV = "TIPWATCH_PASSWORD"


def _password(given: str | None) -> str:
    if given is None:
        given = os.environ.get(PASSWORD_ENV)
    if given is None:
        if not os.isatty(0):
            raise InputError(f"Give the password with --password, in ${PASSWORD_ENV}, or type it at a terminal.")
        given = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return given


Password = Annotated[str | None, typer.Option("--password", help=f"The password (default: ${PASSWORD_ENV}, "
                                                                 "else asked for at the terminal).")]


def _log(store, action: str, target: str, detail: dict | None = None) -> None:
    """The audit log's entry for a change made on the server's command line."""
    from tipwatch.web import audit
    from tipwatch.web.auth import Principal

    audit.record(store.engine, Principal("command line", "admin"), action, target, detail)


@users_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="The user name people sign in with.")],
    role: Annotated[str, typer.Option("--role", help="focal_point, approver, analyst or admin.")],
    country: Annotated[str | None, typer.Option("--country", help="ISO3 code: the country a focal point or "
                                                                  "approver acts for.")] = None,
    password: Password = None,
    db: Db = None,
) -> None:
    """Add a person."""
    from tipwatch.store import open_store
    from tipwatch.web import auth

    with open_store(settings.resolve_db(db)) as store:
        auth.add_user(store.engine, username, _password(password), role, country)
        _log(store, "user_added", username, {"role": role, "country": country.upper() if country else None})
    out.print(f"Added {username} ({auth.ROLE_NAMES[role]}{f', {country.upper()}' if country else ''}).")


@users_app.command("list")
def list_cmd(db: Db = None, as_json: Json = False) -> None:
    """List everyone (never their passwords)."""
    from tipwatch.store import open_store
    from tipwatch.web import auth

    with open_store(settings.resolve_db(db)) as store:
        rows = auth.list_users(store.engine)
    if as_json:
        out.print_json(json.dumps(rows, default=str))
        return
    if not rows:
        out.print("Nobody yet: tipwatch users add NAME --role admin adds the first administrator.")
        return
    table = Table("user", "role", "country", "active", "since")
    for r in rows:
        table.add_row(r["username"], auth.ROLE_NAMES[r["role"]], r["country"] or "", "yes" if r["active"] else "no",
                      f"{r['created_at']:%Y-%m-%d}")
    out.print(table)


@users_app.command("password")
def password_cmd(username: str, password: Password = None, db: Db = None) -> None:
    """Set a new password (and sign the person out everywhere)."""
    from tipwatch.store import open_store
    from tipwatch.web import auth

    with open_store(settings.resolve_db(db)) as store:
        auth.set_password(store.engine, username, _password(password))
        _log(store, "user_changed", username, {"password": "set"})
    out.print(f"New password set for {username}; their browsers are signed out.")


def _set_active(username: str, active: bool, db: str | None) -> None:
    from tipwatch.store import open_store
    from tipwatch.web import auth

    with open_store(settings.resolve_db(db)) as store:
        auth.set_active(store.engine, username, active)
        _log(store, "user_changed", username, {"active": active})
    out.print(f"{username} is {'enabled' if active else 'disabled'}.")


@users_app.command("disable")
def disable(username: str, db: Db = None) -> None:
    """Disable a person: they cannot sign in, their sessions end and their tokens are revoked."""
    _set_active(username, False, db)


@users_app.command("enable")
def enable(username: str, db: Db = None) -> None:
    """Enable a disabled person again (their old tokens stay revoked)."""
    _set_active(username, True, db)


@users_app.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api",
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke all of the person's tokens instead.")] = False,
    days: Annotated[int, typer.Option("--days", help="How many days the token lasts; 0: until it is revoked.")
                    ] = 365,
    db: Db = None,
) -> None:
    """Create an API token for machine submission (printed once), or revoke a person's tokens."""
    from tipwatch.store import open_store
    from tipwatch.web import auth

    with open_store(settings.resolve_db(db)) as store:
        if revoke:
            n = auth.revoke_tokens(store.engine, username)
            _log(store, "user_changed", username, {"tokens_revoked": n})
            out.print(f"Revoked {n} token{'s' if n != 1 else ''} of {username}.")
            return
        issued = auth.create_token(store.engine, username, name, days)
        _log(store, "token_created", username, {"name": name, "days": days})
    out.print(issued.value)
    until = f"until {issued.expires_at:%d %b %Y %H:%M} UTC" if issued.expires_at else "until it is revoked"
    err.print(f"The token is shown once: keep it safe. It works {until}.")
