"""`tipwatch serve`: the web application (submissions, dashboard, API)."""

from __future__ import annotations

from typing import Annotated

import typer

from tipwatch import settings
from tipwatch.cli import app, err
from tipwatch.cli.options import Db, Region, Years, parse_years
from tipwatch.errors import InputError


@app.command("serve")
def serve_cmd(
    db: Db = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="Processes (PostgreSQL only; DuckDB runs one).")] = 1,
    region: Region = "ASEAN",
    years: Years = "2003-2021",
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Send the session cookie over HTTPS "
                                                                         "only (behind a TLS proxy).")] = False,
) -> None:
    """Run the web application: uploads and their workflow, the dashboard, the JSON API (/api/v1/docs)."""
    import uvicorn

    from tipwatch.store import dialects

    url = settings.resolve_db(db)
    span = parse_years(years) or (2003, 2021)
    if workers > 1 and dialects.for_url(url).name == "duckdb":
        raise InputError("A DuckDB store is one file that one process opens: run one worker, or serve a "
                         "PostgreSQL store (--db postgresql://…) for several.")
    if not 0 < port < 65536:
        raise InputError(f"{port} is not a port: give a number from 1 to 65535.")
    # Checked here so that a wrong store or region is one sentence, not a server that will not start.
    from tipwatch.web import create_app

    application = create_app(url, region=region, years=span, secure_cookies=secure_cookies)
    shown = url
    if "://" in url:  # never print a password that is part of the URL
        import sqlalchemy as sa

        shown = sa.make_url(url).render_as_string(hide_password=True)
    err.print(f"tipwatch serves {shown} on http://{host}:{port}/ (API: /api/v1/docs); Ctrl-C stops it.")
    if workers > 1:
        application.state.site.store.close()
        import json
        import os

        os.environ["TIPWATCH_SERVE"] = json.dumps({"db": url, "region": region, "years": list(span),
                                                   "secure_cookies": secure_cookies})
        uvicorn.run("tipwatch.web.app:from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="warning")
    else:
        uvicorn.run(application, host=host, port=port, log_level="warning")
