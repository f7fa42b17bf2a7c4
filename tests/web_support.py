"""What the web application's tests share: people of every role, a store with data, the worked
example file with and without errors, and a real uvicorn server on loopback."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import uvicorn

from tipwatch.cli import main
from tipwatch.web import auth, create_app

PASSWORD = "correct horse battery"
#: One person of every role: user name → (role, country).
PEOPLE = {
    "fp_tha": ("focal_point", "THA"),
    "ap_tha": ("approver", "THA"),
    "fp_mys": ("focal_point", "MYS"),
    "ap_mys": ("approver", "MYS"),
    "analyst": ("analyst", None),
    "admin": ("admin", None),
}
ROLES = ("public", *PEOPLE)


def add_people(engine) -> None:
    for name, (role, country) in PEOPLE.items():
        auth.add_user(engine, name, PASSWORD, role, country)


def make_app(url: str, glotip: Path | None = None):
    """The application over a new store at ``url`` holding GLOTIP (if given) and one person per role."""
    if glotip is not None:
        assert main(["import", str(glotip), "--db", url]) == 0
    app = create_app(url, region="ASEAN", years=(2003, 2021))
    add_people(app.state.site.store.engine)
    return app


def example_files(folder: Path) -> tuple[Path, Path]:
    """THA's worked example as the template workbook: with two errors, and corrected."""
    good = folder / "tha-2019-2021.xlsx"
    assert main(["template", "--out", str(good), "--example"]) == 0
    bad = folder / "tha-2019-2021-draft.xlsx"
    wb = openpyxl.load_workbook(good)
    ws = wb["persons"]
    header = [c.value for c in ws[1]]
    # Line 3 of the persons sheet: an unknown sex code, and a citizenship that is no country.
    ws.cell(row=3, column=header.index("sex") + 1, value="X")
    ws.cell(row=4, column=header.index("citizenship") + 1, value="THAI")
    wb.save(bad)
    return bad, good


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """A real uvicorn server for ``app`` on a free loopback port; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
